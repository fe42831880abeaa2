// Package pbkdf2 implements PBKDF2 (RFC 8018 section 5.2) over crypto/hmac
// for the wallet packages.
//
// The standard library's crypto/pbkdf2 and golang.org/x/crypto/pbkdf2 take
// the password as a Go string, which cannot be wiped. Key takes it as a byte
// slice the caller owns and clears every temporary it allocates itself before
// returning.
//
// Residual exposure that no caller can remove: crypto/hmac keeps the
// key-derived inner and outer pads (and hash states) inside its own value,
// which is not reachable for wiping; they become garbage when Key returns.
package pbkdf2
