package address

import "errors"

// Errors returned by the decoders and address functions. They are wrapped
// with context; test with errors.Is.
var (
	// ErrInvalidCharacter: the text holds a character outside the Base58
	// alphabet.
	ErrInvalidCharacter = errors.New("address: invalid base58 character")
	// ErrChecksum: the 4-byte double-SHA256 checksum does not match.
	ErrChecksum = errors.New("address: checksum mismatch")
	// ErrTooShort: the decoded data cannot hold a version byte and a checksum.
	ErrTooShort = errors.New("address: too short")
	// ErrTooLong: the text is longer than MaxEncodedLen.
	ErrTooLong = errors.New("address: too long")
	// ErrWrongVersion: a valid Base58Check string of another address type.
	ErrWrongVersion = errors.New("address: wrong version byte")
	// ErrInvalidLength: the payload is not a 20-byte hash.
	ErrInvalidLength = errors.New("address: payload is not 20 bytes")
	// ErrInvalidPublicKey: not a valid secp256k1 point in the accepted
	// encodings (33-byte compressed or 65-byte 0x04 uncompressed).
	ErrInvalidPublicKey = errors.New("address: invalid public key")
)
