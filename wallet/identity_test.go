package wallet

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"

	"github.com/borgios/borghui/internal/testvec"
)

type identityVectors struct {
	Vectors []struct {
		Mnemonic, Passphrase, MUID string
		BorgDogeAddress            string `json:"borgDogeAddress"`
		PrivateKey                 string `json:"privateKey"`
		PublicKeyUncompressed      string `json:"publicKeyUncompressed"`
	} `json:"vectors"`
}

func TestFromWordsVectors(t *testing.T) {
	var v identityVectors
	testvec.Load(t, "identity-bip44-doge.json", &v)
	for _, vec := range v.Vectors {
		t.Run(vec.MUID, func(t *testing.T) {
			id, err := FromWords([]byte(vec.Mnemonic), []byte(vec.Passphrase))
			if err != nil {
				t.Fatal(err)
			}
			defer id.Destroy()
			if id.MUID() != vec.MUID || id.BorgDoge() != vec.BorgDogeAddress || id.PublicKeyHex() != vec.PublicKeyUncompressed || id.Kind() != KindWords {
				t.Fatalf("got %s %s %s", id.MUID(), id.BorgDoge(), id.PublicKeyHex())
			}
			// The payload holds exactly the vector's key: MarshalSecret of a
			// legacy identity made from the vector key gives the same MUID.
			want, _ := hex.DecodeString(vec.PrivateKey)
			var key [32]byte
			copy(key[:], want)
			legacy, err := FromLegacyKey(&key)
			if err != nil {
				t.Fatal(err)
			}
			defer legacy.Destroy()
			if legacy.MUID() != vec.MUID {
				t.Fatalf("key of the vector gives %s", legacy.MUID())
			}
			words, err := id.AppendWords(nil)
			if err != nil || string(words) != vec.Mnemonic {
				t.Fatalf("AppendWords = %q, %v", words, err)
			}
		})
	}
}

func TestSignVerifies(t *testing.T) {
	for _, locked := range []bool{true, false} {
		name := "locked memory"
		if !locked {
			name = "fallback"
		}
		t.Run(name, func(t *testing.T) {
			withMemory(t, locked)
			id, err := FromWords([]byte("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon art"), nil)
			if err != nil {
				t.Fatal(err)
			}
			digest := sha256.Sum256([]byte("hello"))
			der, err := id.Sign(digest)
			if err != nil {
				t.Fatal(err)
			}
			sig, err := ecdsa.ParseDERSignature(der)
			if err != nil {
				t.Fatal(err)
			}
			pub, err := secp256k1.ParsePubKey(id.PublicKey())
			if err != nil {
				t.Fatal(err)
			}
			if !sig.Verify(digest[:], pub) {
				t.Fatal("signature does not verify")
			}
			s := sig.S()
			if s.IsOverHalfOrder() {
				t.Fatal("signature is high-S")
			}
			id.Destroy()
			if _, err := id.Sign(digest); !errors.Is(err, ErrLocked) {
				t.Fatalf("sign after Destroy: %v", err)
			}
			if _, err := id.MarshalSecret(); !errors.Is(err, ErrLocked) {
				t.Fatalf("marshal after Destroy: %v", err)
			}
		})
	}
}

// withMemory runs a test with secrets in locked memory or in the fallback.
func withMemory(t *testing.T, locked bool) {
	t.Helper()
	PrepareMemory()
	saved := memStatus
	if locked && !saved.Locked {
		t.Skip("this machine does not lock memory")
	}
	memStatus = MemoryStatus{Locked: locked, Reason: "test"}
	t.Cleanup(func() { memStatus = saved })
}

func TestPayloadRoundTrip(t *testing.T) {
	var v identityVectors
	testvec.Load(t, "identity-bip44-doge.json", &v)
	words, _ := FromWords([]byte(v.Vectors[1].Mnemonic), []byte(v.Vectors[1].Passphrase))
	var key [32]byte
	key[31] = 1
	legacy, _ := FromLegacyKey(&key)
	if key != ([32]byte{}) {
		t.Fatal("FromLegacyKey did not wipe its input")
	}
	for _, id := range []*Identity{words, legacy} {
		p, err := id.MarshalSecret()
		if err != nil {
			t.Fatal(err)
		}
		back, err := UnmarshalSecret(p)
		if err != nil {
			t.Fatal(err)
		}
		if back.MUID() != id.MUID() || back.Kind() != id.Kind() || !bytes.Equal(back.PublicKey(), id.PublicKey()) {
			t.Fatalf("round trip: %s/%s, want %s/%s", back.MUID(), back.Kind(), id.MUID(), id.Kind())
		}
		if id.Kind() == KindWords {
			w1, _ := id.AppendWords(nil)
			w2, _ := back.AppendWords(nil)
			if !bytes.Equal(w1, w2) {
				t.Fatal("words lost in the payload")
			}
		} else if _, err := back.AppendWords(nil); err == nil {
			t.Fatal("a legacy identity claims words")
		}
	}
}

func FuzzUnmarshalSecret(f *testing.F) {
	f.Add([]byte{1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})
	f.Add(append([]byte{1, 1, 32}, make([]byte, 96)...))
	f.Add([]byte{1, 1, 16})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, p []byte) {
		id, err := UnmarshalSecret(p)
		if err != nil {
			return
		}
		defer id.Destroy()
		out, err := id.MarshalSecret()
		if err != nil {
			t.Fatal(err)
		}
		again, err := UnmarshalSecret(out)
		if err != nil || again.MUID() != id.MUID() {
			t.Fatalf("accepted payload does not round-trip: %v", err)
		}
	})
}

func TestMemoryStatus(t *testing.T) {
	st := PrepareMemory()
	if !st.Locked && st.Reason == "" {
		t.Fatal("unlocked memory without a reason")
	}
	if again := PrepareMemory(); again != st {
		t.Fatal("PrepareMemory changed its mind")
	}
}
