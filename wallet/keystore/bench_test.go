package keystore

import "testing"

// benchUnlock measures one Store.Open (read, checks, Argon2id, AEAD) with p.
func benchUnlock(b *testing.B, p Params) {
	s := &Store{Dir: b.TempDir(), Params: p}
	if err := s.Create(testPayload, testPass, testMeta); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		payload, _, err := s.Open(testPass)
		if err != nil {
			b.Fatal(err)
		}
		clear(payload)
	}
}

// BenchmarkUnlockDefault is the figure DefaultParams is tuned to (0.5–1 s).
func BenchmarkUnlockDefault(b *testing.B) { benchUnlock(b, DefaultParams) }

func BenchmarkUnlockTest(b *testing.B) { benchUnlock(b, TestParams) }
