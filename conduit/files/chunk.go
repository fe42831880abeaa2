package files

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"
)

// DefaultChunkSize is the plaintext size of every chunk but the last.
const DefaultChunkSize = 1 << 20

// MaxChunkSize bounds a chunk (and so a sealed shard).
const MaxChunkSize = 16 << 20

// Overhead is what sealing adds to a chunk: nonce and tag.
const Overhead = chacha20poly1305.NonceSizeX + chacha20poly1305.Overhead

// ID is a 32-byte identifier: a file ID or a shard ID (SHA-256 of sealed bytes).
type ID [32]byte

// Key is a 32-byte symmetric key.
type Key [32]byte

// ErrOpen means a sealed chunk or manifest failed authentication: wrong key,
// wrong position, tampered or truncated bytes. It never says which.
var ErrOpen = errors.New("files: the data does not open with this key at this place (tampered, misplaced or wrong key)")

// NewFileID returns a random file ID.
func NewFileID() (ID, error) {
	var id ID
	if _, err := rand.Read(id[:]); err != nil {
		return ID{}, fmt.Errorf("files: system randomness: %w", err)
	}
	return id, nil
}

// ShardID is the content address of sealed bytes.
func ShardID(sealed []byte) ID { return sha256.Sum256(sealed) }

func chunkAAD(file ID, index, total uint32) []byte {
	aad := make([]byte, 0, 17+32+8)
	aad = append(aad, "BorgIOS/v1/chunk\n"...)
	aad = append(aad, file[:]...)
	aad = binary.BigEndian.AppendUint32(aad, index)
	return binary.BigEndian.AppendUint32(aad, total)
}

// SealChunk seals chunk index of total (plain may be empty only for a 0-byte
// file's single chunk) and appends the sealed bytes to dst.
func SealChunk(dst []byte, key *Key, file ID, index, total uint32, plain []byte) ([]byte, error) {
	if index >= total || len(plain) > MaxChunkSize {
		return dst, fmt.Errorf("files: chunk %d of %d with %d bytes is out of range", index, total, len(plain))
	}
	aead, err := chacha20poly1305.NewX(key[:])
	if err != nil {
		return dst, err
	}
	start := len(dst)
	dst = append(dst, make([]byte, aead.NonceSize())...)
	nonce := dst[start:]
	if _, err := rand.Read(nonce); err != nil {
		return dst[:start], fmt.Errorf("files: system randomness: %w", err)
	}
	return aead.Seal(dst, nonce, plain, chunkAAD(file, index, total)), nil
}

// OpenChunk opens sealed chunk index of total and appends the plaintext to dst.
func OpenChunk(dst []byte, key *Key, file ID, index, total uint32, sealed []byte) ([]byte, error) {
	if len(sealed) < Overhead || len(sealed) > MaxChunkSize+Overhead || index >= total {
		return dst, ErrOpen
	}
	aead, err := chacha20poly1305.NewX(key[:])
	if err != nil {
		return dst, err
	}
	ns := aead.NonceSize()
	out, err := aead.Open(dst, sealed[:ns], sealed[ns:], chunkAAD(file, index, total))
	if err != nil {
		return dst, ErrOpen
	}
	return out, nil
}

// Chunks returns how many chunks a file of size bytes has (at least one, so
// that even an empty file has a sealed, authenticated body).
func Chunks(size int64, chunkSize int) uint32 {
	if size <= 0 {
		return 1
	}
	return uint32((size + int64(chunkSize) - 1) / int64(chunkSize))
}
