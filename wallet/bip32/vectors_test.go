package bip32

import (
	"encoding/hex"
	"slices"
	"testing"

	"github.com/borgios/borghui/internal/testvec"
	"github.com/borgios/borghui/wallet/address"
	"github.com/borgios/borghui/wallet/bip39"
	"github.com/decred/dcrd/dcrec/secp256k1/v4"
)

type identityFile struct {
	Vectors []struct {
		Mnemonic              string `json:"mnemonic"`
		Passphrase            string `json:"passphrase"`
		Seed                  string `json:"seed"`
		Path                  string `json:"path"`
		PrivateKey            string `json:"privateKey"`
		PublicKeyCompressed   string `json:"publicKeyCompressed"`
		PublicKeyUncompressed string `json:"publicKeyUncompressed"`
		MUID                  string `json:"muid"`
		BorgDogeAddress       string `json:"borgDogeAddress"`
	} `json:"vectors"`
	BIP32 []struct {
		Seed       string `json:"seed"`
		Path       string `json:"path"`
		XPrv       string `json:"xprv"`
		XPub       string `json:"xpub"`
		PrivateKey string `json:"privateKey"`
	} `json:"bip32"`
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex in vector: %v", err)
	}
	return b
}

func TestBIP32Vectors(t *testing.T) {
	var f identityFile
	testvec.Load(t, "identity-bip44-doge.json", &f)
	if len(f.BIP32) == 0 {
		t.Fatal("no vectors")
	}
	for _, v := range f.BIP32 {
		t.Run(v.Seed[:8]+"/"+v.Path, func(t *testing.T) {
			path, err := ParsePath(v.Path)
			if err != nil {
				t.Fatal(err)
			}
			master, err := NewMaster(unhex(t, v.Seed))
			if err != nil {
				t.Fatal(err)
			}
			defer master.Zero()
			k, err := master.Derive(path)
			if err != nil {
				t.Fatal(err)
			}
			defer k.Zero()
			if got := k.XPrv(); string(got) != v.XPrv {
				t.Errorf("xprv %s, want %s", got, v.XPrv)
			}
			if got := k.XPub(); got != v.XPub {
				t.Errorf("xpub %s, want %s", got, v.XPub)
			}
			var priv [32]byte
			k.PrivateKey(&priv)
			if got := hex.EncodeToString(priv[:]); got != v.PrivateKey {
				t.Errorf("private key %s, want %s", got, v.PrivateKey)
			}
		})
	}
}

func TestTrezorMasterKeys(t *testing.T) {
	var f struct {
		English [][4]string `json:"english"`
	}
	testvec.Load(t, "bip39-trezor-vectors.json", &f)
	if len(f.English) == 0 {
		t.Fatal("no vectors")
	}
	for _, v := range f.English {
		t.Run(v[0], func(t *testing.T) {
			master, err := NewMaster(unhex(t, v[2]))
			if err != nil {
				t.Fatal(err)
			}
			defer master.Zero()
			if got := master.XPrv(); string(got) != v[3] {
				t.Fatalf("xprv %s, want %s", got, v[3])
			}
		})
	}
}

// TestIdentityVectors runs the whole chain: words (+ passphrase) -> BIP39
// seed -> m/44'/3'/0'/0/0 -> keys -> MUID and BorgDoge address.
func TestIdentityVectors(t *testing.T) {
	var f identityFile
	testvec.Load(t, "identity-bip44-doge.json", &f)
	if len(f.Vectors) == 0 {
		t.Fatal("no vectors")
	}
	for _, v := range f.Vectors {
		t.Run(v.MUID, func(t *testing.T) {
			path, err := ParsePath(v.Path)
			if err != nil || !slices.Equal(path, IdentityPath) {
				t.Fatalf("path %q = %v, %v; want IdentityPath", v.Path, path, err)
			}
			indices, err := bip39.Parse([]byte(v.Mnemonic))
			if err != nil {
				t.Fatal(err)
			}
			var seed [64]byte
			bip39.Seed(indices, []byte(v.Passphrase), &seed)
			if got := hex.EncodeToString(seed[:]); got != v.Seed {
				t.Fatalf("seed %s, want %s", got, v.Seed)
			}
			master, err := NewMaster(seed[:])
			if err != nil {
				t.Fatal(err)
			}
			defer master.Zero()
			k, err := master.Derive(IdentityPath)
			if err != nil {
				t.Fatal(err)
			}
			defer k.Zero()

			var priv [32]byte
			k.PrivateKey(&priv)
			if got := hex.EncodeToString(priv[:]); got != v.PrivateKey {
				t.Errorf("private key %s, want %s", got, v.PrivateKey)
			}
			pub33 := k.PublicKeyCompressed()
			if got := hex.EncodeToString(pub33); got != v.PublicKeyCompressed {
				t.Errorf("compressed public key %s, want %s", got, v.PublicKeyCompressed)
			}
			pub, err := secp256k1.ParsePubKey(pub33)
			if err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(pub.SerializeUncompressed()); got != v.PublicKeyUncompressed {
				t.Errorf("uncompressed public key %s, want %s", got, v.PublicKeyUncompressed)
			}
			if got, err := address.MUID(pub33); err != nil || got != v.MUID {
				t.Errorf("MUID %q, %v; want %q", got, err, v.MUID)
			}
			if got, err := address.BorgDoge(pub33); err != nil || got != v.BorgDogeAddress {
				t.Errorf("BorgDoge %q, %v; want %q", got, err, v.BorgDogeAddress)
			}
		})
	}
}

func BenchmarkIdentity(b *testing.B) {
	seed := make([]byte, 64)
	b.ReportAllocs()
	for b.Loop() {
		master, err := NewMaster(seed)
		if err != nil {
			b.Fatal(err)
		}
		k, err := master.Derive(IdentityPath)
		if err != nil {
			b.Fatal(err)
		}
		_ = k.PublicKeyCompressed()
		master.Zero()
		k.Zero()
	}
}
