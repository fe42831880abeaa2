package mail

import (
	"crypto/hkdf"
	"crypto/hpke"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"

	"github.com/borgios/borghui/signer"
)

// The HPKE suite (RFC 9180, base mode): KEM MLKEM768-X25519 (X-Wing, hybrid
// post-quantum, id 0x647a), KDF HKDF-SHA256 (0x0001), AEAD
// ChaCha20-Poly1305 (0x0003).
var (
	kem  = hpke.MLKEM768X25519()
	kdf  = hpke.HKDFSHA256()
	aead = hpke.ChaCha20Poly1305()
)

// Sizes of the suite's keys and ciphertexts.
const (
	// HPKEPublicKeyLen is the size of an encoded X-Wing public key.
	HPKEPublicKeyLen = 1216
	// HPKEPrivateKeyLen is the size of an encoded X-Wing private key (its
	// seed).
	HPKEPrivateKeyLen = 32
	// EncLen is the size of the KEM encapsulation that starts a sealed
	// message.
	EncLen = 1120
	// tagLen is the AEAD tag.
	tagLen = 16
)

// Labels of the keys derived from the identity seed (Deriver.DeriveKey).
const (
	// LabelLongTerm derives the 32-byte input of the long-term key pair
	// (KEM DeriveKeyPair), so the words restore it.
	LabelLongTerm = "mail-hpke-longterm"
	// LabelPrekeys derives the key of the prekey store file.
	LabelPrekeys = "mail-prekeys"
	// LabelStore derives the key of the local mailbox files.
	LabelStore = "mail-store"
)

// Deriver derives purpose keys from the identity's secret (HKDF-SHA256
// over the BIP39 seed). *wallet.Identity implements it.
type Deriver interface {
	DeriveKey(label string, info []byte, dst []byte) error
}

// Identity is what the mail client needs of a person's identity: a signing
// key (card, messages, acknowledgements, requests) and key derivation.
// *wallet.Identity implements it.
type Identity interface {
	signer.Key
	Deriver
}

// LongTermKey derives the identity's long-term HPKE key pair: 32 bytes of
// DeriveKey(LabelLongTerm, nil) fed to the KEM's DeriveKeyPair. The same
// words always give the same key.
func LongTermKey(d Deriver) (hpke.PrivateKey, error) {
	var ikm [32]byte
	defer clear(ikm[:])
	if err := d.DeriveKey(LabelLongTerm, nil, ikm[:]); err != nil {
		return nil, fmt.Errorf("mail: deriving the long-term key: %w", err)
	}
	k, err := kem.DeriveKeyPair(ikm[:])
	if err != nil {
		return nil, fmt.Errorf("mail: deriving the long-term key: %w", err)
	}
	return k, nil
}

// ParseHPKEPublicKey decodes an encoded public key of the suite's KEM.
func ParseHPKEPublicKey(b []byte) (hpke.PublicKey, error) {
	if len(b) != HPKEPublicKeyLen {
		return nil, fmt.Errorf("%w: HPKE public key of %d bytes, want %d", ErrMalformed, len(b), HPKEPublicKeyLen)
	}
	k, err := kem.NewPublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("%w: HPKE public key: %w", ErrMalformed, err)
	}
	return k, nil
}

// MemIdentity is an Identity in ordinary Go memory, for tests, benchmarks
// and throw-away identities only: user identities live in the wallet.
type MemIdentity struct {
	*signer.MemKey
	seed [32]byte
}

// NewMemIdentity returns a fresh random MemIdentity.
func NewMemIdentity() (*MemIdentity, error) {
	k, err := signer.GenerateMemKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	m := &MemIdentity{MemKey: k}
	if _, err := rand.Read(m.seed[:]); err != nil {
		return nil, err
	}
	return m, nil
}

// DeriveKey implements Deriver with the wallet's scheme (HKDF-SHA256, salt
// "BorgIOS/v1/derive/" + label) over the identity's random seed.
func (m *MemIdentity) DeriveKey(label string, info []byte, dst []byte) error {
	if label == "" || len(dst) == 0 || len(dst) > 64 {
		return errors.New("mail: DeriveKey needs a label and 1 to 64 bytes of output")
	}
	k, err := hkdf.Key(sha256.New, m.seed[:], []byte("BorgIOS/v1/derive/"+label), string(info), len(dst))
	if err != nil {
		return err
	}
	copy(dst, k)
	clear(k)
	return nil
}

// signLowS signs digest with k and returns strict low-S DER.
func signLowS(k signer.Key, digest [32]byte) (Sig, error) {
	der, err := k.Sign(digest)
	if err != nil {
		return nil, err
	}
	sig, err := ecdsa.ParseDERSignature(der)
	if err != nil {
		return nil, fmt.Errorf("%w: the key returned a signature that is not strict DER", ErrBadSignature)
	}
	return sig.Serialize(), nil // Serialize always emits low-S
}

// verifySig checks a strict-DER ECDSA signature (high-S accepted) over
// digest by the 65-byte uncompressed key pub.
func verifySig(pub []byte, digest [32]byte, der []byte) error {
	if len(pub) != PublicKeyLen || pub[0] != 0x04 {
		return fmt.Errorf("%w: key is not 65-byte uncompressed", ErrMalformed)
	}
	k, err := secp256k1.ParsePubKey(pub)
	if err != nil {
		return fmt.Errorf("%w: key is not a secp256k1 point", ErrMalformed)
	}
	sig, err := ecdsa.ParseDERSignature(der)
	if err != nil {
		return fmt.Errorf("%w: not strict DER", ErrBadSignature)
	}
	if !sig.Verify(digest[:], k) {
		return fmt.Errorf("%w: does not verify", ErrBadSignature)
	}
	return nil
}
