package bip39

import (
	"testing"
)

func TestSeedPassphraseNFKD(t *testing.T) {
	indices, err := Parse([]byte(base))
	if err != nil {
		t.Fatal(err)
	}
	// "é" precomposed and decomposed, and the "ﬁ" ligature against "fi":
	// the same passphrase after NFKD, so the same seed.
	tests := []struct {
		name string
		a, b string
	}{
		{"composed accent", "caf\u00e9", "cafe\u0301"},
		{"ligature", "\ufb01sh", "fish"},
		{"full-width", "ＴＲＥＺＯＲ", "TREZOR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a, b, none [64]byte
			Seed(indices, []byte(tt.a), &a)
			Seed(indices, []byte(tt.b), &b)
			Seed(indices, nil, &none)
			if a != b {
				t.Fatal("NFKD-equal passphrases give different seeds")
			}
			if a == none {
				t.Fatal("passphrase ignored")
			}
		})
	}
}

func BenchmarkSeed(b *testing.B) {
	indices, err := EntropyToIndices(make([]byte, Entropy24))
	if err != nil {
		b.Fatal(err)
	}
	passphrase := []byte("TREZOR")
	var seed [64]byte
	b.ReportAllocs()
	for b.Loop() {
		Seed(indices, passphrase, &seed)
	}
}

func BenchmarkParse(b *testing.B) {
	input := []byte("  CAT swing\u00a0flag econ stadium alone churn speed unique patch report train\n")
	b.ReportAllocs()
	for b.Loop() {
		indices, err := Parse(input)
		if err != nil {
			b.Fatal(err)
		}
		clear(indices)
	}
}
