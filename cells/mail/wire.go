package mail

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/borgios/borghui/cells/internal/jcs"
	"github.com/borgios/borghui/cells/internal/strictjson"
	"github.com/borgios/borghui/cells/internal/wire"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/borgios/borghui/wallet/address"
)

// Limits shared by the encodings.
const (
	// MaxInteger bounds versions, sizes and timestamps: 2^53-1, the largest
	// integer every JSON implementation represents exactly.
	MaxInteger = 1<<53 - 1
	// PublicKeyLen is the length of an uncompressed secp256k1 public key.
	PublicKeyLen = 65
	// MaxMUIDLen bounds the text of a MUID (Base58Check of 21 bytes is at
	// most 34 characters).
	MaxMUIDLen = 36
	minSigLen  = wire.MinSigLen
	maxSigLen  = wire.MaxSigLen
	maxKeyLen  = 32
)

// MsgID is a message id: 16 random bytes chosen by the sender. Its text
// form is 32 lowercase hex characters; the zero id (absent, e.g. no
// in-reply-to) is the empty string.
type MsgID [16]byte

// IsZero reports whether id is all zero bytes.
func (id MsgID) IsZero() bool { return id == MsgID{} }

// String returns id as lowercase hex ("" for the zero id).
func (id MsgID) String() string {
	if id.IsZero() {
		return ""
	}
	return hex.EncodeToString(id[:])
}

// MarshalText implements encoding.TextMarshaler.
func (id MsgID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText accepts "" (zero) or exactly 32 lowercase hex characters
// of a non-zero id.
func (id *MsgID) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*id = MsgID{}
		return nil
	}
	if err := fixedHex(id[:], b, "message id"); err != nil {
		return err
	}
	if id.IsZero() {
		return fmt.Errorf("%w: message id is zero", ErrMalformed)
	}
	return nil
}

// ParseMsgID parses the text form of a non-zero id.
func ParseMsgID(s string) (MsgID, error) {
	var id MsgID
	if err := id.UnmarshalText([]byte(s)); err != nil {
		return id, err
	}
	if id.IsZero() {
		return id, fmt.Errorf("%w: message id is empty", ErrMalformed)
	}
	return id, nil
}

// PrekeyID names a one-time prekey: 8 random bytes, 16 lowercase hex
// characters as text.
type PrekeyID [8]byte

// String returns id as lowercase hex.
func (id PrekeyID) String() string { return hex.EncodeToString(id[:]) }

// MarshalText implements encoding.TextMarshaler.
func (id PrekeyID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText accepts exactly 16 lowercase hex characters.
func (id *PrekeyID) UnmarshalText(b []byte) error { return fixedHex(id[:], b, "prekey id") }

// KeyID says which of the recipient's HPKE keys an envelope is sealed to:
// LongTerm, or the text form of a PrekeyID.
type KeyID string

// LongTerm is the KeyID of the long-term key (no forward secrecy).
const LongTerm KeyID = "longterm"

// PrekeyKeyID is the KeyID of prekey id.
func PrekeyKeyID(id PrekeyID) KeyID { return KeyID(id.String()) }

// Prekey returns the prekey the KeyID names; ok is false for LongTerm.
func (k KeyID) Prekey() (id PrekeyID, ok bool) {
	if k == LongTerm {
		return id, false
	}
	if fixedHex(id[:], []byte(k), "prekey id") != nil {
		return id, false
	}
	return id, true
}

// ForwardSecret reports whether the KeyID names a one-time prekey.
func (k KeyID) ForwardSecret() bool { _, ok := k.Prekey(); return ok }

func (k KeyID) check() error {
	if k == LongTerm {
		return nil
	}
	if _, ok := k.Prekey(); !ok {
		return fmt.Errorf("%w: key id is neither %q nor 16 lowercase hex", ErrMalformed, LongTerm)
	}
	return nil
}

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

// MUIDOf returns the MUID (address) of a 65-byte public key.
func MUIDOf(pub []byte) (string, error) {
	m, err := address.MUID(pub)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return m, nil
}

// CheckMUID reports whether s is a well-formed MUID (Base58Check, version
// 0x00, 20-byte hash).
func CheckMUID(s string) error {
	if s == "" || len(s) > MaxMUIDLen {
		return fmt.Errorf("%w: MUID of %d characters", ErrMalformed, len(s))
	}
	if _, err := address.ParseMUID(s); err != nil {
		return fmt.Errorf("%w: MUID: %w", ErrMalformed, err)
	}
	return nil
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

// appendString appends s as an RFC 8785 JSON string (package jcs).
func appendString(b []byte, s string) []byte { return jcs.AppendString(b, s) }

func appendUint(b []byte, v uint64) []byte { return strconv.AppendUint(b, v, 10) }
func appendInt(b []byte, v int64) []byte   { return strconv.AppendInt(b, v, 10) }

// text checks a free-text field: valid UTF-8 of at most max bytes.
func text(s string, max int, what string) error {
	if len(s) > max || !utf8.ValidString(s) {
		return fmt.Errorf("%w: %s is not 0..%d bytes of UTF-8", ErrMalformed, what, max)
	}
	return nil
}

// Capability links (the ftree cell's "borg://cap/<64 hex>#<base64url>").
// The mail cell only checks their form; it never resolves them.
const (
	// LinkPrefix starts every capability link.
	LinkPrefix = "borg://cap/"
	// MaxLinkLen bounds a capability link.
	MaxLinkLen = 512
	capFixed   = 2 + 32 + 8 + 1 // version, flags, key, size, name length
)

// CheckLink reports whether s has the form of a file capability link
// (cells/ftree EncodeLink): the prefix, a 64-hex manifest id, '#', and
// unpadded base64url of version 1 ‖ flags ‖ key(32) ‖ size(8) ‖ nameLen ‖
// name. Attachments are links, never bytes.
func CheckLink(s string) error {
	if len(s) > MaxLinkLen {
		return fmt.Errorf("%w: link too long", ErrMalformed)
	}
	rest, ok := strings.CutPrefix(s, LinkPrefix)
	if !ok {
		return fmt.Errorf("%w: link does not start with %s", ErrMalformed, LinkPrefix)
	}
	path, frag, ok := strings.Cut(rest, "#")
	if !ok || len(path) != 64 || !wire.LowerHex([]byte(path)) {
		return fmt.Errorf("%w: link has no 64-hex manifest id and key fragment", ErrMalformed)
	}
	sec, err := base64.RawURLEncoding.Strict().DecodeString(frag)
	defer clear(sec)
	if err != nil || len(sec) < capFixed || sec[0] != 1 || sec[1]&^1 != 0 || len(sec) != capFixed+int(sec[capFixed-1]) ||
		!utf8.Valid(sec[capFixed:]) {
		return fmt.Errorf("%w: link fragment is not a version 1 capability", ErrMalformed)
	}
	return nil
}

// decodeStrict parses b into v with package strictjson's rules (one
// object, lowercase member names, none repeated or unknown, at most max
// bytes, nothing after it).
func decodeStrict(b []byte, max int, v any) error {
	if err := strictjson.Decode(b, max, v); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return nil
}

// Frames carry raw bytes next to a JSON header (protocol rule: binary
// bodies travel raw, never base64 in JSON):
//
//	uint32 big-endian header length H (1..MaxHeader) ‖ header JSON (H) ‖ raw bytes
const MaxHeader = 64 << 10

func encodeFrame(header, raw []byte) []byte {
	b := make([]byte, 4, 4+len(header)+len(raw))
	binary.BigEndian.PutUint32(b, uint32(len(header)))
	b = append(b, header...)
	return append(b, raw...)
}

func splitFrame(b []byte) (header, raw []byte, err error) {
	if len(b) < 4 {
		return nil, nil, fmt.Errorf("%w: frame too short", ErrMalformed)
	}
	h := binary.BigEndian.Uint32(b)
	if h == 0 || h > MaxHeader || int64(h) > int64(len(b)-4) {
		return nil, nil, fmt.Errorf("%w: frame header length %d", ErrMalformed, h)
	}
	return b[4 : 4+h], b[4+h:], nil
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("mail: encoding a known type: " + err.Error())
	}
	return b
}
