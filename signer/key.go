package signer

import (
	"crypto/rand"
	"fmt"
	"io"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
)

// Key is a signing identity. The wallet implements it with the private key
// held in locked memory; this package never sees the private key.
type Key interface {
	// PublicKey returns the 65-byte uncompressed public key (0x04 ‖ X ‖ Y).
	PublicKey() []byte
	// Sign returns the DER ECDSA signature of digest. Sign normalises a
	// high-S result to low-S, so implementations need not.
	Sign(digest [32]byte) ([]byte, error)
}

// MemKey is a Key whose private key lives in ordinary Go memory. It exists
// for tests, the simulator and throw-away devnet nodes. It is NOT for user
// identities: those live in the wallet's locked memory.
type MemKey struct {
	priv *secp256k1.PrivateKey
	pub  []byte
}

// NewMemKey returns a MemKey for a 32-byte big-endian private key in
// [1, n-1]. The bytes are copied.
func NewMemKey(priv []byte) (*MemKey, error) {
	if len(priv) != 32 {
		return nil, fmt.Errorf("%w: private key is %d bytes, want 32", ErrMalformed, len(priv))
	}
	var s secp256k1.ModNScalar
	if s.SetByteSlice(priv) || s.IsZero() {
		return nil, fmt.Errorf("%w: private key out of range", ErrMalformed)
	}
	p := secp256k1.NewPrivateKey(&s)
	return &MemKey{priv: p, pub: p.PubKey().SerializeUncompressed()}, nil
}

// GenerateMemKey returns a new random MemKey read from r (crypto/rand when
// r is nil).
func GenerateMemKey(r io.Reader) (*MemKey, error) {
	if r == nil {
		r = rand.Reader
	}
	p, err := secp256k1.GeneratePrivateKeyFromRand(r)
	if err != nil {
		return nil, fmt.Errorf("signer: generate key: %w", err)
	}
	return &MemKey{priv: p, pub: p.PubKey().SerializeUncompressed()}, nil
}

// PublicKey returns a copy of the 65-byte uncompressed public key.
func (k *MemKey) PublicKey() []byte { return append([]byte(nil), k.pub...) }

// Sign signs digest with RFC 6979 deterministic ECDSA and returns the
// low-S DER encoding.
func (k *MemKey) Sign(digest [32]byte) ([]byte, error) {
	return ecdsa.Sign(k.priv, digest[:]).Serialize(), nil
}
