package legacy

import (
	"crypto/sha256"
	"fmt"
	"testing"

	"github.com/borgios/borghui/wallet/address"
	"github.com/decred/dcrd/dcrec/secp256k1/v4"
)

func TestWalletCipherVectors(t *testing.T) {
	for _, k := range loadVectors(t).Keys {
		t.Run(k.MUID, func(t *testing.T) {
			if got := WalletCipher(key32(t, k.PrivateKey)); got != k.WalletCipher {
				t.Fatalf("got %q, want %q", got, k.WalletCipher)
			}
		})
	}
}

// TestWalletCipherLeadingZeros checks keys with leading zero bytes against
// an independent computation over the 64-digit text (see WalletCipher).
func TestWalletCipherLeadingZeros(t *testing.T) {
	tests := []string{
		"00c4b6a1f1e8d5a9b0c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1",
		"0000b6a1f1e8d5a9b0c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1",
		"0ab6a1f1e8d5a9b0c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0",
	}
	for _, hexKey := range tests {
		t.Run(hexKey[:8], func(t *testing.T) {
			seed := sha256.Sum256([]byte(hexKey))
			pub := secp256k1.PrivKeyFromBytes(seed[:]).PubKey().SerializeUncompressed()
			want, err := address.MUID(pub)
			if err != nil {
				t.Fatal(err)
			}
			if got := WalletCipher(key32(t, hexKey)); got != want {
				t.Fatalf("got %q, want %q", got, want)
			}
		})
	}
}

func TestFileKindString(t *testing.T) {
	for _, k := range []FileKind{0, V3Encrypted, V3Plain, Passport, PeerTreeKey, 99} {
		t.Run(fmt.Sprint(int(k)), func(t *testing.T) {
			if k.String() == "" {
				t.Fatal("empty name")
			}
		})
	}
}
