package files

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
)

// ManifestVersion is the version of the manifest format.
const ManifestVersion = 1

// MaxManifest bounds a sealed manifest (about 100,000 chunks of 1 MiB, a
// 100 GiB file).
const MaxManifest = 16 << 20

// Manifest describes a stored file. It is sealed before it leaves the
// conduit; holders see only ciphertext.
type Manifest struct {
	Version   int        `json:"version"`
	File      HexID      `json:"file"`
	Name      string     `json:"name"`
	MIME      string     `json:"mime,omitempty"`
	Size      int64      `json:"size"`
	ChunkSize int        `json:"chunkSize"`
	Created   time.Time  `json:"created"`
	Chunks    []ChunkRef `json:"chunks"`
	Erasure   *Erasure   `json:"erasure,omitempty"`
}

// ChunkRef is one sealed chunk: its shard ID and sealed length.
type ChunkRef struct {
	ID   HexID `json:"id"`
	Size int   `json:"size"`
}

// Erasure is the Reed–Solomon layout: each group of Data consecutive chunks
// has Parity shards, listed per group.
type Erasure struct {
	Data   int          `json:"data"`
	Parity int          `json:"parity"`
	Groups [][]ChunkRef `json:"groups"` // parity shards of each group
}

// HexID is an ID written as lower-case hex in JSON.
type HexID ID

// MarshalText writes the ID as hex.
func (h HexID) MarshalText() ([]byte, error) { return []byte(hex.EncodeToString(h[:])), nil }

// UnmarshalText reads 64 hex characters.
func (h *HexID) UnmarshalText(b []byte) error {
	if len(b) != 64 {
		return errors.New("files: an id is 64 hex characters")
	}
	_, err := hex.Decode(h[:], b)
	return err
}

// Validate checks the manifest's internal consistency.
func (m *Manifest) Validate() error {
	switch {
	case m.Version != ManifestVersion:
		return fmt.Errorf("files: manifest version %d is not supported", m.Version)
	case m.ChunkSize <= 0 || m.ChunkSize > MaxChunkSize:
		return errors.New("files: manifest chunk size out of range")
	case m.Size < 0:
		return errors.New("files: manifest size is negative")
	case uint32(len(m.Chunks)) != Chunks(m.Size, m.ChunkSize):
		return fmt.Errorf("files: manifest lists %d chunks for %d bytes", len(m.Chunks), m.Size)
	case len(m.Name) > 1024:
		return errors.New("files: file name too long")
	}
	for i, c := range m.Chunks {
		want := m.ChunkSize
		if i == len(m.Chunks)-1 {
			want = int(m.Size - int64(i)*int64(m.ChunkSize))
		}
		if c.Size != want+Overhead {
			return fmt.Errorf("files: chunk %d has sealed size %d, want %d", i, c.Size, want+Overhead)
		}
	}
	if e := m.Erasure; e != nil {
		groups := (len(m.Chunks) + e.Data - 1) / e.Data
		if e.Data < 1 || e.Parity < 1 || e.Data+e.Parity > 256 || len(e.Groups) != groups {
			return errors.New("files: manifest erasure layout is inconsistent")
		}
		for _, g := range e.Groups {
			if len(g) != e.Parity {
				return errors.New("files: manifest erasure group has the wrong parity count")
			}
		}
	}
	return nil
}

var manifestAAD = []byte("BorgIOS/v1/manifest\n")

// SealManifest validates m and seals it under the file key.
func SealManifest(key *Key, m *Manifest) ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	plain, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	defer clear(plain)
	mk, err := subkey(key, "manifest")
	if err != nil {
		return nil, err
	}
	defer mk.Wipe()
	aead, err := chacha20poly1305.NewX(mk[:])
	if err != nil {
		return nil, err
	}
	out := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	if _, err := rand.Read(out); err != nil {
		return nil, fmt.Errorf("files: system randomness: %w", err)
	}
	return aead.Seal(out, out, plain, manifestAAD), nil
}

// OpenManifest opens a sealed manifest with its file key and validates it.
// A capability carries only the manifest's shard id and the key; the file
// id is inside (and the key is the file's own, so no other file's manifest
// opens with it).
func OpenManifest(key *Key, sealed []byte) (*Manifest, error) {
	if len(sealed) < Overhead || len(sealed) > MaxManifest {
		return nil, ErrOpen
	}
	mk, err := subkey(key, "manifest")
	if err != nil {
		return nil, err
	}
	defer mk.Wipe()
	aead, err := chacha20poly1305.NewX(mk[:])
	if err != nil {
		return nil, err
	}
	ns := aead.NonceSize()
	plain, err := aead.Open(nil, sealed[:ns], sealed[ns:], manifestAAD)
	if err != nil {
		return nil, ErrOpen
	}
	defer clear(plain)
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(plain))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("files: manifest: %w", err)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}
