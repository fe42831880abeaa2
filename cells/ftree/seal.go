package ftree

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"fmt"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"golang.org/x/crypto/chacha20poly1305"
)

// SealLabel is the HKDF info and the start of the AAD of a sealed
// capability.
const SealLabel = "BorgIOS/v1/ftree-capability-seal"

// Sealed capability layout: sealVersion(1) ‖ ephemeral public key(65) ‖
// nonce(24) ‖ XChaCha20-Poly1305 ciphertext of Capability.MarshalBinary.
const (
	sealVersion  = 1
	sealOverhead = 1 + PublicKeyLen + chacha20poly1305.NonceSizeX + chacha20poly1305.Overhead
)

// ECDHKey is an identity key that can agree a secret without exposing its
// private key (the wallet implements it over locked memory).
type ECDHKey interface {
	// ECDH returns the 32-byte X coordinate of priv·pub for the 65-byte
	// uncompressed point pub (as secp256k1.GenerateSharedSecret). The
	// caller wipes it after use.
	ECDH(pub []byte) ([]byte, error)
	// PublicKey returns the 65-byte uncompressed public key.
	PublicKey() []byte
}

// MemECDHKey is an ECDHKey in ordinary Go memory, for tests and throw-away
// identities only.
type MemECDHKey struct {
	priv *secp256k1.PrivateKey
}

// NewMemECDHKey returns a MemECDHKey for a 32-byte private key in [1, n-1].
func NewMemECDHKey(priv []byte) (*MemECDHKey, error) {
	var s secp256k1.ModNScalar
	if len(priv) != 32 || s.SetByteSlice(priv) || s.IsZero() {
		return nil, fmt.Errorf("%w: private key is not 32 bytes in range", ErrMalformed)
	}
	return &MemECDHKey{priv: secp256k1.NewPrivateKey(&s)}, nil
}

// GenerateMemECDHKey returns a new random MemECDHKey.
func GenerateMemECDHKey() (*MemECDHKey, error) {
	p, err := secp256k1.GeneratePrivateKey()
	if err != nil {
		return nil, fmt.Errorf("ftree: generating key: %w", err)
	}
	return &MemECDHKey{priv: p}, nil
}

// ECDH implements ECDHKey.
func (k *MemECDHKey) ECDH(pub []byte) ([]byte, error) {
	p, err := parsePoint(pub)
	if err != nil {
		return nil, err
	}
	return secp256k1.GenerateSharedSecret(k.priv, p), nil
}

// PublicKey implements ECDHKey.
func (k *MemECDHKey) PublicKey() []byte { return k.priv.PubKey().SerializeUncompressed() }

// Sign signs digest (RFC 6979), so a MemECDHKey is also a signer.Key.
func (k *MemECDHKey) Sign(digest [32]byte) ([]byte, error) {
	return signDigest(k.priv, digest), nil
}

func parsePoint(pub []byte) (*secp256k1.PublicKey, error) {
	if len(pub) != PublicKeyLen || pub[0] != 0x04 {
		return nil, fmt.Errorf("%w: key is not 65-byte uncompressed", ErrMalformed)
	}
	p, err := secp256k1.ParsePubKey(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: key is not a secp256k1 point", ErrMalformed)
	}
	return p, nil
}

// sealKey derives the box key: HKDF-SHA256(ikm = shared X, salt = eph ‖
// recipient, info = SealLabel), 32 bytes.
func sealKey(shared, eph, recipient []byte) ([]byte, error) {
	salt := append(append(make([]byte, 0, 2*PublicKeyLen), eph...), recipient...)
	return hkdf.Key(sha256.New, shared, salt, SealLabel, chacha20poly1305.KeySize)
}

func sealAAD(eph, recipient []byte) []byte {
	return append(append(append([]byte(SealLabel), eph...), recipient...), sealVersion)
}

// SealCapability encrypts c to the identity recipientPub (65-byte
// uncompressed): a fresh ephemeral key, ECDH, HKDF-SHA256, then
// XChaCha20-Poly1305 with the ephemeral and recipient keys bound as AAD.
// Only the holder of the recipient's private key can open the box.
func SealCapability(c *Capability, recipientPub []byte) ([]byte, error) {
	rp, err := parsePoint(recipientPub)
	if err != nil {
		return nil, err
	}
	plain, err := c.MarshalBinary()
	if err != nil {
		return nil, err
	}
	defer clear(plain)
	ephPriv, err := secp256k1.GeneratePrivateKey()
	if err != nil {
		return nil, fmt.Errorf("ftree: ephemeral key: %w", err)
	}
	defer ephPriv.Zero()
	eph := ephPriv.PubKey().SerializeUncompressed()
	shared := secp256k1.GenerateSharedSecret(ephPriv, rp)
	defer clear(shared)
	key, err := sealKey(shared, eph, recipientPub)
	if err != nil {
		return nil, fmt.Errorf("ftree: seal key: %w", err)
	}
	defer clear(key)
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, fmt.Errorf("ftree: seal: %w", err)
	}
	out := make([]byte, 1+PublicKeyLen+chacha20poly1305.NonceSizeX, sealOverhead+len(plain))
	out[0] = sealVersion
	copy(out[1:], eph)
	nonce := out[1+PublicKeyLen:]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("ftree: nonce: %w", err)
	}
	return aead.Seal(out, nonce, plain, sealAAD(eph, recipientPub)), nil
}

// OpenCapability opens a box made by SealCapability for k. Every failure
// (wrong key, tampering, bad format) wraps ErrOpen.
func OpenCapability(sealed []byte, k ECDHKey) (*Capability, error) {
	if len(sealed) < sealOverhead || len(sealed) > MaxSealed || sealed[0] != sealVersion {
		return nil, fmt.Errorf("%w: not a sealed capability", ErrOpen)
	}
	eph := sealed[1 : 1+PublicKeyLen]
	nonce := sealed[1+PublicKeyLen : 1+PublicKeyLen+chacha20poly1305.NonceSizeX]
	ct := sealed[1+PublicKeyLen+chacha20poly1305.NonceSizeX:]
	if _, err := parsePoint(eph); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrOpen, err)
	}
	me := k.PublicKey()
	shared, err := k.ECDH(eph)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrOpen, err)
	}
	defer clear(shared)
	key, err := sealKey(shared, eph, me)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrOpen, err)
	}
	defer clear(key)
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrOpen, err)
	}
	plain, err := aead.Open(nil, nonce, ct, sealAAD(eph, me))
	if err != nil {
		return nil, fmt.Errorf("%w: authentication failed", ErrOpen)
	}
	defer clear(plain)
	c, err := ParseCapability(plain)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrOpen, err)
	}
	return c, nil
}
