package legacy

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/borgios/borghui/wallet/internal/pbkdf2"
)

// Parameters of the borgHUI wallet v3 encryption.
const (
	v3Iterations = 100_000
	v3IVSize     = 16 // non-standard GCM nonce size
	v3TagSize    = 16
)

// unhexField decodes a public hex field; errors name the field only.
func unhexField(name, s string) ([]byte, error) {
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not hex", ErrCorrupt, name)
	}
	return b, nil
}

// decryptV3 derives the file key from passphrase and opens the record. The
// caller wipes the returned plaintext.
func decryptV3(f *walletFile, passphrase []byte) ([]byte, error) {
	if f.Encrypted == nil || f.Salt == nil || f.IV == nil || f.AuthTag == nil {
		return nil, fmt.Errorf("%w: encrypted wallet lacks encrypted, salt, iv or authTag", ErrCorrupt)
	}
	salt, err := unhexField("salt", *f.Salt)
	if err != nil {
		return nil, err
	}
	iv, err := unhexField("iv", *f.IV)
	if err != nil {
		return nil, err
	}
	tag, err := unhexField("authTag", *f.AuthTag)
	if err != nil {
		return nil, err
	}
	ct, err := unhexField("encrypted", *f.Encrypted)
	if err != nil {
		return nil, err
	}
	switch {
	case len(salt) == 0:
		return nil, fmt.Errorf("%w: empty salt", ErrCorrupt)
	case len(iv) != v3IVSize:
		return nil, fmt.Errorf("%w: iv is %d bytes, want %d", ErrCorrupt, len(iv), v3IVSize)
	case len(tag) != v3TagSize:
		return nil, fmt.Errorf("%w: authTag is %d bytes, want %d", ErrCorrupt, len(tag), v3TagSize)
	}

	var key [32]byte
	defer clear(key[:])
	pbkdf2.Key(sha256.New, passphrase, salt, v3Iterations, key[:])
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, fmt.Errorf("legacy: %w", err)
	}
	gcm, err := cipher.NewGCMWithNonceSize(block, v3IVSize)
	if err != nil {
		return nil, fmt.Errorf("legacy: %w", err)
	}
	sealed := append(ct, tag...) // ciphertext ‖ tag, as Open wants it
	plain, err := gcm.Open(sealed[:0], iv, sealed, nil)
	if err != nil {
		return nil, ErrWrongPassphrase
	}
	return plain, nil
}
