package signer

import "errors"

// Sentinel errors. Every error returned by this package wraps exactly one of
// them (test with errors.Is); the wrapped text adds the detail and never
// contains key material.
var (
	// ErrMalformed: the bytes or the envelope are not well formed (bad magic,
	// non-canonical JSON, a field outside its charset or length, a sender
	// that is not an uncompressed secp256k1 point, trailing bytes, ...).
	ErrMalformed = errors.New("signer: malformed")
	// ErrTruncated: the input ended before the frame did.
	ErrTruncated = errors.New("signer: truncated")
	// ErrTooLarge: the envelope or the body is larger than its limit.
	ErrTooLarge = errors.New("signer: too large")
	// ErrUnexpected: well formed and maybe authentic, but not what the caller
	// expected (wrong cell, type, recipient, sender or inReplyTo).
	ErrUnexpected = errors.New("signer: unexpected")
	// ErrStale: the timestamp is outside the freshness window.
	ErrStale = errors.New("signer: stale")
	// ErrBadSignature: the signature is not strict DER or does not verify.
	ErrBadSignature = errors.New("signer: bad signature")
	// ErrBodyHash: the body does not match the signed body hash.
	ErrBodyHash = errors.New("signer: body hash mismatch")
	// ErrReplay: this (sender, nonce) was already accepted within the window.
	// For a broadcast it means "already seen: do not forward again".
	ErrReplay = errors.New("signer: replay")
	// ErrReplayCacheFull: the replay cache holds its maximum number of live
	// entries; the message is rejected (fail closed) and may be retried.
	ErrReplayCacheFull = errors.New("signer: replay cache full")
)

// ErrorCode returns the stable short code of err for error responses and
// counters: "malformed", "truncated", "too-large", "unexpected", "stale",
// "bad-signature", "body-hash", "replay", "busy" (replay cache full), ""
// for nil and "internal" for anything else.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	for _, c := range errorCodes {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return "internal"
}

var errorCodes = []struct {
	err  error
	code string
}{
	{ErrMalformed, "malformed"},
	{ErrTruncated, "truncated"},
	{ErrTooLarge, "too-large"},
	{ErrUnexpected, "unexpected"},
	{ErrStale, "stale"},
	{ErrBadSignature, "bad-signature"},
	{ErrBodyHash, "body-hash"},
	{ErrReplay, "replay"},
	{ErrReplayCacheFull, "busy"},
}
