package legacy

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/borgios/borghui/wallet/address"
	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
)

// TestSignatureVectors checks the signature parts of the legacy vectors
// against the keys this package imports: the borgToken of every key and the
// captured PeerTree envelope signatures verify, and the low-S ones are what
// an RFC 6979 low-S signer reproduces for the imported key.
func TestSignatureVectors(t *testing.T) {
	v := loadVectors(t)
	for _, k := range v.Keys {
		t.Run("borgToken/"+k.MUID, func(t *testing.T) {
			hash := sha256.Sum256([]byte(k.BorgToken.SesTok))
			if k.BorgToken.SHA256 != "" && hex.EncodeToString(hash[:]) != k.BorgToken.SHA256 {
				t.Fatalf("sha256 %x, want %s", hash, k.BorgToken.SHA256)
			}
			if want := k.MUID + "-"; len(k.BorgToken.SesTok) < len(want) || k.BorgToken.SesTok[:len(want)] != want {
				t.Fatalf("sesTok %q does not start with the MUID", k.BorgToken.SesTok)
			}
			priv := secp256k1.PrivKeyFromBytes(key32(t, k.PrivateKey)[:])
			defer priv.Zero()
			checkSignature(t, hash[:], unhex(t, k.PublicKeyUncompressed), unhex(t, k.BorgToken.SesSig), k.BorgToken.SesSigIsHighS)
			ours := ecdsa.Sign(priv, hash[:]).Serialize()
			if !k.BorgToken.SesSigIsHighS && hex.EncodeToString(ours) != k.BorgToken.SesSig {
				t.Fatalf("low-S RFC 6979 signature %x, want %s", ours, k.BorgToken.SesSig)
			}
		})
	}
	for _, e := range v.Envelopes {
		t.Run("envelope/"+e.MUID, func(t *testing.T) {
			hash := sha256.Sum256([]byte(e.SignedString))
			if hex.EncodeToString(hash[:]) != e.SHA256 {
				t.Fatalf("sha256 %x, want %s", hash, e.SHA256)
			}
			pub := unhex(t, e.PublicKeyUncompressed)
			checkSignature(t, hash[:], pub, unhex(t, e.Signature), e.SignatureIsHighS)
			if muid, err := address.MUID(pub); err != nil || muid != e.MUID {
				t.Fatalf("MUID %q, %v; want %q", muid, err, e.MUID)
			}
		})
	}
}

func checkSignature(t *testing.T, hash, pub65, der []byte, highS bool) {
	t.Helper()
	pub, err := secp256k1.ParsePubKey(pub65)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := ecdsa.ParseDERSignature(der)
	if err != nil {
		t.Fatalf("parse signature: %v", err)
	}
	if !sig.Verify(hash, pub) {
		t.Fatal("signature does not verify")
	}
	s := sig.S()
	if s.IsOverHalfOrder() != highS {
		t.Fatalf("high-S is %v, vector says %v", s.IsOverHalfOrder(), highS)
	}
}
