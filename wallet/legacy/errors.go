package legacy

import "errors"

var (
	// ErrChecksum: all 27 words are valid but the phrase checksum (first
	// four bytes of SHA-256 of the key) does not match.
	ErrChecksum = errors.New("legacy: phrase checksum mismatch")
	// ErrInvalidKey: the private key is zero or not below the curve order.
	ErrInvalidKey = errors.New("legacy: private key out of range")
	// ErrPassphraseRequired: the wallet file is encrypted and no passphrase
	// was given.
	ErrPassphraseRequired = errors.New("legacy: wallet file is encrypted; passphrase required")
	// ErrWrongPassphrase: decryption failed authentication: a wrong
	// passphrase (or a tampered file — the two cannot be told apart).
	ErrWrongPassphrase = errors.New("legacy: wrong passphrase or damaged wallet file")
	// ErrUnknownFormat: the data is not one of the known key files.
	ErrUnknownFormat = errors.New("legacy: unknown file format")
	// ErrCorrupt: a known kind of file with missing or malformed fields
	// (truncated JSON, bad hex, wrong sizes).
	ErrCorrupt = errors.New("legacy: corrupt key file")
	// ErrMismatch: the key does not give the MUID or public key the file
	// states.
	ErrMismatch = errors.New("legacy: key does not match the file's identity")
)
