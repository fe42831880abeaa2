package files

import (
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"
)

// KeySource derives keys from the identity (wallet.Identity satisfies it).
type KeySource interface {
	DeriveKey(label string, info []byte, dst []byte) error
}

// FileKey derives the key of a file from the owner's identity.
func FileKey(src KeySource, file ID) (*Key, error) {
	var k Key
	if err := src.DeriveKey("files", file[:], k[:]); err != nil {
		return nil, fmt.Errorf("files: file key: %w", err)
	}
	return &k, nil
}

// subkey derives an independent key for one use of a file key.
func subkey(k *Key, label string) (*Key, error) {
	b, err := hkdf.Key(sha256.New, k[:], nil, "BorgIOS/v1/files/"+label, 32)
	if err != nil {
		return nil, err
	}
	var out Key
	copy(out[:], b)
	clear(b)
	return &out, nil
}

// Wipe clears a key.
func (k *Key) Wipe() {
	if k != nil {
		clear(k[:])
	}
}
