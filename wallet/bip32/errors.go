package bip32

import "errors"

var (
	// ErrSeedLength: a master seed must be 16 to 64 bytes (BIP32).
	ErrSeedLength = errors.New("bip32: seed must be 16 to 64 bytes")
	// ErrInvalidMaster: the seed gives IL = 0 or IL >= n; use another seed.
	ErrInvalidMaster = errors.New("bip32: seed gives an invalid master key")
	// ErrInvalidChild: this child index gives IL >= n or a zero key; BIP32
	// says to proceed with the next index.
	ErrInvalidChild = errors.New("bip32: invalid child key at this index")
	// ErrDepth: a key at depth 255 has no children.
	ErrDepth = errors.New("bip32: maximum depth reached")
	// ErrWiped: the key has been zeroed with Zero.
	ErrWiped = errors.New("bip32: key has been wiped")
	// ErrInvalidPath: the text is not a derivation path.
	ErrInvalidPath = errors.New("bip32: invalid derivation path")
)
