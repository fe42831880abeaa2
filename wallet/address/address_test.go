package address

import (
	"encoding/hex"
	"errors"
	"testing"

	"github.com/borgios/borghui/internal/testvec"
	"github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// compress returns the 33-byte form of a 65-byte uncompressed key.
func compress(t *testing.T, pub65 []byte) []byte {
	t.Helper()
	key, err := secp256k1.ParsePubKey(pub65)
	if err != nil {
		t.Fatal(err)
	}
	return key.SerializeCompressed()
}

func TestIdentityVectors(t *testing.T) {
	var f identityFile
	testvec.Load(t, "identity-bip44-doge.json", &f)
	if len(f.Vectors) == 0 {
		t.Fatal("no vectors")
	}
	for _, v := range f.Vectors {
		t.Run(v.MUID, func(t *testing.T) {
			for _, pub := range [][]byte{unhex(t, v.PublicKeyUncompressed), unhex(t, v.PublicKeyCompressed)} {
				muid, err := MUID(pub)
				if err != nil || muid != v.MUID {
					t.Errorf("MUID(%d bytes) = %q, %v; want %q", len(pub), muid, err, v.MUID)
				}
				doge, err := BorgDoge(pub)
				if err != nil || doge != v.BorgDogeAddress {
					t.Errorf("BorgDoge(%d bytes) = %q, %v; want %q", len(pub), doge, err, v.BorgDogeAddress)
				}
			}
			if _, err := ParseMUID(v.MUID); err != nil {
				t.Errorf("ParseMUID: %v", err)
			}
			h, err := ParseBorgDoge(v.BorgDogeAddress)
			if err != nil {
				t.Fatalf("ParseBorgDoge: %v", err)
			}
			if want := Hash160(unhex(t, v.PublicKeyCompressed)); h != want {
				t.Errorf("ParseBorgDoge hash %x, want %x", h, want)
			}
		})
	}
}

func TestLegacyVectors(t *testing.T) {
	var f legacyFile
	testvec.Load(t, "legacy-borghui.json", &f)
	if len(f.Keys) == 0 || len(f.PeerTreeEnvelopeSignatures) == 0 {
		t.Fatal("no vectors")
	}
	for _, k := range f.Keys {
		t.Run(k.MUID, func(t *testing.T) {
			pub65 := unhex(t, k.PublicKeyUncompressed)
			pub33 := compress(t, pub65)
			for _, pub := range [][]byte{pub65, pub33} {
				if got, err := MUID(pub); err != nil || got != k.MUID {
					t.Errorf("MUID(%d bytes) = %q, %v; want %q", len(pub), got, err, k.MUID)
				}
			}
			h, err := ParseMUID(k.MUID)
			if err != nil {
				t.Fatal(err)
			}
			if h != Hash160(pub65) {
				t.Errorf("ParseMUID hash %x, want hash of the uncompressed key", h)
			}
			// The wrong (compressed) rule gives the documented other address.
			h33 := Hash160(pub33)
			wrong := Base58CheckEncode(VersionMUID, h33[:])
			if k.MUIDIfCompressedKeyWereUsed != "" && wrong != k.MUIDIfCompressedKeyWereUsed {
				t.Errorf("compressed-key address %q, want %q", wrong, k.MUIDIfCompressedKeyWereUsed)
			}
			if wrong == k.MUID {
				t.Error("compressed and uncompressed rules agree")
			}
			if _, err := ParseMUID(k.WalletCipher); err != nil {
				t.Errorf("walletCipher %q is not a valid MUID-form address: %v", k.WalletCipher, err)
			}
		})
	}
	for _, s := range f.PeerTreeEnvelopeSignatures {
		t.Run("peertree/"+s.MUID, func(t *testing.T) {
			if got, err := MUID(unhex(t, s.PublicKeyUncompressed)); err != nil || got != s.MUID {
				t.Errorf("MUID = %q, %v; want %q", got, err, s.MUID)
			}
		})
	}
}

func TestParse(t *testing.T) {
	const master = "1B1xrS6Xi6uhCoXcH8UzSETk81S2pmpWjQ" // getBorgMasterID()
	tests := []struct {
		name    string
		in      string
		doge    bool
		wantErr error
	}{
		{"borg master", master, false, nil},
		{"doge address", "DL1DoPj4HvpnRT9n3YfCkhHXe5287wMyWD", true, nil},
		{"doge as muid", "DL1DoPj4HvpnRT9n3YfCkhHXe5287wMyWD", false, ErrWrongVersion},
		{"muid as doge", master, true, ErrWrongVersion},
		{"bad checksum", master[:len(master)-1] + "R", false, ErrChecksum},
		{"bad char", "0" + master[1:], false, ErrInvalidCharacter},
		{"short payload", Base58CheckEncode(VersionMUID, make([]byte, 19)), false, ErrInvalidLength},
		{"long payload", Base58CheckEncode(VersionMUID, make([]byte, 21)), false, ErrInvalidLength},
		{"empty", "", false, ErrTooShort},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.doge {
				_, err = ParseBorgDoge(tt.in)
			} else {
				_, err = ParseMUID(tt.in)
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("got %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestInvalidPublicKeys(t *testing.T) {
	g65, _ := hex.DecodeString("0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8")
	hybrid := append([]byte{0x06}, g65[1:]...)
	offCurve := append([]byte(nil), g65...)
	offCurve[64] ^= 1
	tests := []struct {
		name string
		pub  []byte
	}{
		{"nil", nil},
		{"20 bytes", make([]byte, 20)},
		{"64 bytes", g65[1:]},
		{"hybrid", hybrid},
		{"off curve", offCurve},
		{"bad compressed prefix", append([]byte{0x04}, g65[1:33]...)},
		{"x not on curve", append([]byte{0x02}, make([]byte, 32)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := MUID(tt.pub); !errors.Is(err, ErrInvalidPublicKey) {
				t.Errorf("MUID: got %v", err)
			}
			if _, err := BorgDoge(tt.pub); !errors.Is(err, ErrInvalidPublicKey) {
				t.Errorf("BorgDoge: got %v", err)
			}
		})
	}
}

func TestHash160(t *testing.T) {
	tests := []struct{ in, want string }{
		// RIPEMD160(SHA256("")) and of the generator's compressed key.
		{"", "b472a266d0bd89c13706a4132ccfb16f7c3b9fcb"},
		{"0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798", "751e76e8199196d454941c45d1b3a323f1433bd6"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			got := Hash160(unhex(t, tt.in))
			if hex.EncodeToString(got[:]) != tt.want {
				t.Fatalf("got %x, want %s", got, tt.want)
			}
		})
	}
}
