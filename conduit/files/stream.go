package files

import (
	"errors"
	"fmt"
	"io"
)

// SealStream reads exactly size bytes from r, seals them chunk by chunk and
// hands each sealed chunk to emit (which must not keep the slice: it is
// reused). It returns the chunk references for the manifest. Memory stays at
// two chunk buffers whatever the file size.
func SealStream(r io.Reader, size int64, chunkSize int, key *Key, file ID, emit func(i uint32, sealed []byte) error) ([]ChunkRef, error) {
	if chunkSize <= 0 || chunkSize > MaxChunkSize || size < 0 {
		return nil, errors.New("files: bad chunk size or file size")
	}
	total := Chunks(size, chunkSize)
	plain := make([]byte, chunkSize)
	defer clear(plain)
	sealed := make([]byte, 0, chunkSize+Overhead)
	refs := make([]ChunkRef, 0, total)
	left := size
	for i := uint32(0); i < total; i++ {
		n := int(min(left, int64(chunkSize)))
		if _, err := io.ReadFull(r, plain[:n]); err != nil {
			return nil, fmt.Errorf("files: reading chunk %d: %w", i, err)
		}
		left -= int64(n)
		var err error
		sealed, err = SealChunk(sealed[:0], key, file, i, total, plain[:n])
		if err != nil {
			return nil, err
		}
		refs = append(refs, ChunkRef{ID: HexID(ShardID(sealed)), Size: len(sealed)})
		if err := emit(i, sealed); err != nil {
			return nil, err
		}
	}
	var extra [1]byte
	if n, _ := r.Read(extra[:]); n > 0 {
		return nil, fmt.Errorf("files: the source holds more than the %d bytes announced", size)
	}
	return refs, nil
}
