// Package wire holds the small text forms the cells' JSON shares: DER
// signatures and fixed-size IDs as lowercase hex, opaque bytes as unpadded
// base64url. Decoding is strict: one spelling per value, so signed bytes
// cannot be re-encoded differently.
package wire

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
)

// Bounds of a DER ECDSA secp256k1 signature.
const (
	MinSigLen = 8
	MaxSigLen = 72
)

// Sig is a DER ECDSA signature; its text form is lowercase hex.
type Sig []byte

// MarshalText implements encoding.TextMarshaler.
func (s Sig) MarshalText() ([]byte, error) { return []byte(hex.EncodeToString(s)), nil }

// UnmarshalText accepts MinSigLen..MaxSigLen bytes as lowercase hex.
func (s *Sig) UnmarshalText(b []byte) error {
	if len(b)%2 != 0 || len(b) < 2*MinSigLen || len(b) > 2*MaxSigLen || !LowerHex(b) {
		return fmt.Errorf("signature is not %d..%d bytes of lowercase hex", MinSigLen, MaxSigLen)
	}
	*s = make([]byte, len(b)/2)
	_, err := hex.Decode(*s, b)
	return err
}

// Blob is opaque bytes; its text form is unpadded base64url (RFC 4648 §5).
type Blob []byte

// MarshalText implements encoding.TextMarshaler.
func (x Blob) MarshalText() ([]byte, error) {
	return []byte(base64.RawURLEncoding.EncodeToString(x)), nil
}

// UnmarshalText accepts canonical unpadded base64url only.
func (x *Blob) UnmarshalText(b []byte) error {
	out, err := base64.RawURLEncoding.Strict().DecodeString(string(b))
	if err != nil {
		return fmt.Errorf("not unpadded base64url")
	}
	*x = out
	return nil
}

// FixedHex decodes b, exactly 2·len(dst) lowercase hex characters, into
// dst, and reports whether it could.
func FixedHex(dst, b []byte) bool {
	if len(b) != 2*len(dst) || !LowerHex(b) {
		return false
	}
	_, err := hex.Decode(dst, b)
	return err == nil
}

// LowerHex reports whether b is only 0-9 and a-f.
func LowerHex(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
