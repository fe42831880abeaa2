package ftree

import (
	"encoding/hex"
	"fmt"
	"github.com/borgios/borghui/cells/internal/strictjson"
	"github.com/borgios/borghui/cells/internal/wire"
	"strconv"
)

// Limits shared by the JSON encodings.
const (
	// MaxInteger bounds versions, sizes and timestamps: 2^53-1, the largest
	// integer every JSON implementation represents exactly.
	MaxInteger = 1<<53 - 1
	// PublicKeyLen is the length of an uncompressed secp256k1 public key.
	PublicKeyLen = 65
	minSigLen    = wire.MinSigLen
	maxSigLen    = wire.MaxSigLen
)

// Hash is a SHA-256 value: a shard id, a record hash or a share id. Its
// text form is 64 lowercase hex characters.
type Hash [32]byte

// IsZero reports whether h is all zero bytes.
func (h Hash) IsZero() bool { return h == Hash{} }

// String returns h as lowercase hex.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// MarshalText implements encoding.TextMarshaler.
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText accepts exactly 64 lowercase hex characters.
func (h *Hash) UnmarshalText(b []byte) error { return fixedHex(h[:], b, "hash") }

// PubKey is a 65-byte uncompressed secp256k1 public key (0x04 ‖ X ‖ Y). Its
// text form is 130 lowercase hex characters.
type PubKey [PublicKeyLen]byte

// IsZero reports whether k is all zero bytes (absent).
func (k PubKey) IsZero() bool { return k == PubKey{} }

// String returns k as lowercase hex.
func (k PubKey) String() string { return hex.EncodeToString(k[:]) }

// MarshalText implements encoding.TextMarshaler.
func (k PubKey) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText accepts exactly 130 lowercase hex characters starting 04.
func (k *PubKey) UnmarshalText(b []byte) error {
	if err := fixedHex(k[:], b, "public key"); err != nil {
		return err
	}
	if k[0] != 0x04 {
		return fmt.Errorf("%w: public key is not uncompressed", ErrMalformed)
	}
	return nil
}

// PubKeyOf converts a 65-byte uncompressed key.
func PubKeyOf(b []byte) (PubKey, error) {
	var k PubKey
	if len(b) != PublicKeyLen || b[0] != 0x04 {
		return k, fmt.Errorf("%w: public key is not 65-byte uncompressed", ErrMalformed)
	}
	copy(k[:], b)
	return k, nil
}

// Sig is a DER ECDSA signature; its text form is lowercase hex.
type Sig = wire.Sig

// Blob is opaque bytes; its text form is unpadded base64url (RFC 4648 §5).
type Blob = wire.Blob

func fixedHex(dst, b []byte, what string) error {
	if !wire.FixedHex(dst, b) {
		return fmt.Errorf("%w: %s is not %d lowercase hex characters", ErrMalformed, what, 2*len(dst))
	}
	return nil
}

func uitoa(v uint64) string { return strconv.FormatUint(v, 10) }

// decodeStrict parses b into v with package strictjson's rules (one
// object, lowercase member names, none repeated or unknown, at most max
// bytes, nothing after it).
func decodeStrict(b []byte, max int, v any) error {
	if err := strictjson.Decode(b, max, v); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return nil
}
