package wallet

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"

	"github.com/borgios/borghui/wallet/address"
	"github.com/borgios/borghui/wallet/bip32"
	"github.com/borgios/borghui/wallet/bip39"
)

// Kind tells where an identity came from.
type Kind string

const (
	// KindWords is a 24-word BIP39 identity (the recommended kind).
	KindWords Kind = "bip39"
	// KindLegacy is a bare key imported from the old borgHUI or PeerTree; it
	// has no words to write down.
	KindLegacy Kind = "legacy"
	// KindNode is a network node's own key: random, never shown as words.
	KindNode Kind = "node"
)

// ErrLocked is returned when a secret is needed but the identity was wiped.
var ErrLocked = errors.New("wallet: identity is locked")

// Identity is an unlocked identity. Its secrets are sealed in memory and
// opened only for the moment they are used. The zero value is not usable;
// an Identity is safe for concurrent use. It satisfies signer.Key.
type Identity struct {
	kind     Kind
	key      *sealed // 32-byte secp256k1 private key
	seed     *sealed // 64-byte BIP39 seed; nil for legacy
	entropy  *sealed // BIP39 entropy (the words); nil for legacy
	pub      []byte  // 65-byte uncompressed public key
	muid     string
	borgDoge string
}

// NewEntropy returns 256 bits of system randomness for a new 24-word
// identity. The caller wipes it.
func NewEntropy() ([]byte, error) {
	e := make([]byte, bip39.Entropy24)
	if _, err := rand.Read(e); err != nil {
		return nil, fmt.Errorf("wallet: system randomness: %w", err)
	}
	return e, nil
}

// FromEntropy derives the identity of BIP39 entropy and an optional BIP39
// passphrase (nil or empty for none). The caller keeps and wipes both.
func FromEntropy(entropy, passphrase []byte) (*Identity, error) {
	indices, err := bip39.EntropyToIndices(entropy)
	if err != nil {
		return nil, fmt.Errorf("wallet: %w", err)
	}
	defer clear(indices)
	var seed [64]byte
	defer clear(seed[:])
	bip39.Seed(indices, passphrase, &seed)
	return fromSeed(entropy, seed[:])
}

// FromWords derives the identity of typed words (24 expected, any BIP39 size
// accepted) and an optional BIP39 passphrase. Errors from package bip39 tell
// a wrong word count, an unknown word and a bad checksum apart.
func FromWords(words, passphrase []byte) (*Identity, error) {
	indices, err := bip39.Parse(words)
	if err != nil {
		return nil, err
	}
	defer clear(indices)
	entropy, err := bip39.IndicesToEntropy(indices, make([]byte, 0, bip39.Entropy24))
	if err != nil {
		return nil, err
	}
	defer clear(entropy)
	return FromEntropy(entropy, passphrase)
}

func fromSeed(entropy, seed []byte) (*Identity, error) {
	master, err := bip32.NewMaster(seed)
	if err != nil {
		return nil, fmt.Errorf("wallet: %w", err)
	}
	defer master.Zero()
	child, err := master.Derive(bip32.IdentityPath)
	if err != nil {
		return nil, fmt.Errorf("wallet: %w", err)
	}
	defer child.Zero()
	var key [32]byte
	child.PrivateKey(&key)
	id, err := fromKey(&key, KindWords)
	if err != nil {
		return nil, err
	}
	if id.seed, err = seal(append([]byte(nil), seed...)); err != nil {
		id.Destroy()
		return nil, err
	}
	if id.entropy, err = seal(append([]byte(nil), entropy...)); err != nil {
		id.Destroy()
		return nil, err
	}
	return id, nil
}

// NewNodeKey makes a fresh random key for a network node.
func NewNodeKey() (*Identity, error) {
	for {
		var key [32]byte
		if _, err := rand.Read(key[:]); err != nil {
			return nil, fmt.Errorf("wallet: system randomness: %w", err)
		}
		id, err := fromKey(&key, KindNode)
		if err == nil {
			return id, nil
		}
		// A value of zero or above the group order: draw again (p ≈ 2^-128).
	}
}

// FromLegacyKey makes an identity of a bare legacy private key. The key is
// wiped before FromLegacyKey returns.
func FromLegacyKey(key *[32]byte) (*Identity, error) {
	return fromKey(key, KindLegacy)
}

// fromKey wipes key.
func fromKey(key *[32]byte, kind Kind) (*Identity, error) {
	defer clear(key[:])
	var scalar secp256k1.ModNScalar
	overflow := scalar.SetBytes(key)
	if overflow != 0 || scalar.IsZero() {
		return nil, errors.New("wallet: not a valid secp256k1 private key")
	}
	priv := secp256k1.NewPrivateKey(&scalar)
	pub := priv.PubKey().SerializeUncompressed()
	priv.Zero()
	scalar.Zero()
	muid, err := address.MUID(pub)
	if err != nil {
		return nil, fmt.Errorf("wallet: %w", err)
	}
	doge, err := address.BorgDoge(pub)
	if err != nil {
		return nil, fmt.Errorf("wallet: %w", err)
	}
	sk, err := seal(append([]byte(nil), key[:]...))
	if err != nil {
		return nil, err
	}
	return &Identity{kind: kind, key: sk, pub: pub, muid: muid, borgDoge: doge}, nil
}

// Kind tells whether the identity has words or is a bare legacy key.
func (id *Identity) Kind() Kind { return id.kind }

// MUID is the identity's network address.
func (id *Identity) MUID() string { return id.muid }

// BorgDoge is the identity's Dogecoin receive address.
func (id *Identity) BorgDoge() string { return id.borgDoge }

// PublicKey returns the 65-byte uncompressed public key.
func (id *Identity) PublicKey() []byte { return append([]byte(nil), id.pub...) }

// PublicKeyHex is the public key as lower-case hex, as the network shows it.
func (id *Identity) PublicKeyHex() string { return hex.EncodeToString(id.pub) }

// Sign signs a 32-byte digest with the identity key (RFC 6979, low-S, DER).
// The key is opened into locked memory for the signature and wiped after.
func (id *Identity) Sign(digest [32]byte) ([]byte, error) {
	o, err := id.key.open()
	if err != nil {
		return nil, ErrLocked
	}
	defer o.destroy()
	var scalar secp256k1.ModNScalar
	scalar.SetByteSlice(o.bytes())
	priv := secp256k1.NewPrivateKey(&scalar)
	sig := ecdsa.Sign(priv, digest[:])
	priv.Zero()
	scalar.Zero()
	return sig.Serialize(), nil
}

// AppendWords appends the identity's words, separated by single spaces, to
// dst. The caller wipes the result. A legacy identity has no words.
func (id *Identity) AppendWords(dst []byte) ([]byte, error) {
	if id.kind != KindWords {
		return dst, errors.New("wallet: this identity was imported from a legacy key and has no words")
	}
	o, err := id.entropy.open()
	if err != nil {
		return dst, ErrLocked
	}
	defer o.destroy()
	indices, err := bip39.EntropyToIndices(o.bytes())
	if err != nil {
		return dst, fmt.Errorf("wallet: %w", err)
	}
	defer clear(indices)
	return bip39.AppendMnemonic(dst, indices), nil
}

// Destroy wipes the identity's secrets. Later signatures fail with ErrLocked.
func (id *Identity) Destroy() {
	if id == nil {
		return
	}
	id.key.destroy()
	id.seed.destroy()
	id.entropy.destroy()
	id.key, id.seed, id.entropy = nil, nil, nil
}
