package bip39

import (
	"bytes"
	"encoding/hex"
	"slices"
	"testing"

	"github.com/borgios/borghui/internal/testvec"
)

// trezorVector is one "english" entry: entropy, mnemonic, seed, xprv.
type trezorVector [4]string

func loadTrezor(t testing.TB) []trezorVector {
	t.Helper()
	var f struct {
		English []trezorVector `json:"english"`
	}
	testvec.Load(t, "bip39-trezor-vectors.json", &f)
	if len(f.English) == 0 {
		t.Fatal("no English vectors")
	}
	return f.English
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex in vector: %v", err)
	}
	return b
}

func TestTrezorVectors(t *testing.T) {
	for _, v := range loadTrezor(t) {
		entropy, mnemonic, seed := unhex(t, v[0]), v[1], unhex(t, v[2])
		t.Run(v[0], func(t *testing.T) {
			indices, err := EntropyToIndices(entropy)
			if err != nil {
				t.Fatal(err)
			}
			if got := AppendMnemonic(nil, indices); string(got) != mnemonic {
				t.Fatalf("entropy -> words: got %q, want %q", got, mnemonic)
			}

			parsed, err := Parse([]byte(mnemonic))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !slices.Equal(parsed, indices) {
				t.Fatalf("Parse: got %v, want %v", parsed, indices)
			}
			back, err := IndicesToEntropy(parsed, nil)
			if err != nil {
				t.Fatalf("words -> entropy: %v", err)
			}
			if !bytes.Equal(back, entropy) {
				t.Fatalf("words -> entropy: got %x, want %x", back, entropy)
			}

			var got [64]byte
			Seed(parsed, []byte("TREZOR"), &got)
			if !bytes.Equal(got[:], seed) {
				t.Fatalf("seed: got %x, want %x", got, seed)
			}
		})
	}
}

func TestIdentitySeeds(t *testing.T) {
	var f struct {
		Vectors []struct {
			Mnemonic   string `json:"mnemonic"`
			Passphrase string `json:"passphrase"`
			Seed       string `json:"seed"`
		} `json:"vectors"`
	}
	testvec.Load(t, "identity-bip44-doge.json", &f)
	for _, v := range f.Vectors {
		t.Run(v.Seed[:16], func(t *testing.T) {
			indices, err := Parse([]byte(v.Mnemonic))
			if err != nil {
				t.Fatal(err)
			}
			if len(indices) != Words24 {
				t.Fatalf("%d words, want %d", len(indices), Words24)
			}
			var seed [64]byte
			Seed(indices, []byte(v.Passphrase), &seed)
			if got := hex.EncodeToString(seed[:]); got != v.Seed {
				t.Fatalf("seed %s, want %s", got, v.Seed)
			}
		})
	}
}
