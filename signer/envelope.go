package signer

import (
	"encoding/hex"
	"fmt"
)

// Version is the only envelope version this package produces and accepts.
const Version = 1

// Limits of the envelope fields.
const (
	// MaxTextLen is the maximum length of cell, type and recipient. It fits
	// a node key written as 130 hex characters.
	MaxTextLen = 160
	// MaxTimestamp is the largest timestamp (2^53-1 ms, the largest
	// integer every JSON implementation represents exactly).
	MaxTimestamp = 1<<53 - 1
	// PublicKeyLen is the length of an uncompressed secp256k1 public key.
	PublicKeyLen = 65
	// NonceLen is the length of the random nonce.
	NonceLen = 16
	// MinSigLen and MaxSigLen bound a DER ECDSA secp256k1 signature.
	MinSigLen = 8
	MaxSigLen = 72
)

// Digest is a SHA-256 value: the body hash, the digest of an envelope (its
// message id) or the inReplyTo reference.
type Digest [32]byte

// IsZero reports whether d is all zero bytes, the value meaning "none".
func (d Digest) IsZero() bool { return d == Digest{} }

// String returns d as 64 lowercase hex characters.
func (d Digest) String() string { return hex.EncodeToString(d[:]) }

// Envelope is the signed header of a BorgIOS v1 message. The body travels
// beside it, raw, bound by BodyHash. See docs/protocol.md for the exact bytes.
type Envelope struct {
	Version   int                // always 1; Sign sets it when zero
	Cell      string             // cell type name, e.g. "shardTreeCell"
	Type      string             // request or response type
	Sender    [PublicKeyLen]byte // 0x04 ‖ X ‖ Y; Sign fills it from the Key
	Recipient string             // node key as lowercase hex, or a tree id
	Timestamp int64              // network time, ms since the Unix epoch
	Nonce     [NonceLen]byte     // random; Sign fills it when zero
	BodyHash  Digest             // SHA-256 of the raw body; Sign fills it
	InReplyTo Digest             // digest of the request answered; zero for a request
	Signature []byte             // DER ECDSA of the digest; Sign fills it (low-S)
}

// validText checks a cell, type or recipient: 1..MaxTextLen characters from
// [A-Za-z0-9._:-]. The charset needs no JSON escaping, so the canonical
// encoding is the text itself.
func validText(field, s string) error {
	if len(s) == 0 || len(s) > MaxTextLen {
		return fmt.Errorf("%w: %s: length %d not in 1..%d", ErrMalformed, field, len(s), MaxTextLen)
	}
	for i := 0; i < len(s); i++ {
		if !textByte(s[i]) {
			return fmt.Errorf("%w: %s: byte %d is outside [A-Za-z0-9._:-]", ErrMalformed, field, i)
		}
	}
	return nil
}

func textByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	case c == '.', c == '_', c == ':', c == '-':
		return true
	}
	return false
}

// validate checks everything about an envelope that can be checked without
// elliptic-curve arithmetic. signed requires a signature of plausible length.
func (e *Envelope) validate(signed bool) error {
	if e == nil {
		return fmt.Errorf("%w: nil envelope", ErrMalformed)
	}
	if e.Version != Version {
		return fmt.Errorf("%w: version %d, want %d", ErrMalformed, e.Version, Version)
	}
	if err := validText("cell", e.Cell); err != nil {
		return err
	}
	if err := validText("type", e.Type); err != nil {
		return err
	}
	if err := validText("recipient", e.Recipient); err != nil {
		return err
	}
	if e.Sender[0] != 0x04 {
		return fmt.Errorf("%w: sender is not an uncompressed public key", ErrMalformed)
	}
	if e.Timestamp < 1 || e.Timestamp > MaxTimestamp {
		return fmt.Errorf("%w: timestamp %d not in 1..2^53-1", ErrMalformed, e.Timestamp)
	}
	if signed && (len(e.Signature) < MinSigLen || len(e.Signature) > MaxSigLen) {
		return fmt.Errorf("%w: signature length %d not in %d..%d", ErrMalformed, len(e.Signature), MinSigLen, MaxSigLen)
	}
	return nil
}
