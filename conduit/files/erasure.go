package files

import (
	"errors"
	"fmt"

	"github.com/klauspost/reedsolomon"
)

// Parity computes the parity shards of one group of sealed chunks (at most
// data of them; a short last group is padded with empty shards). Every
// shard is padded to the longest; the padding is recorded by each chunk's
// sealed size in the manifest.
func Parity(group [][]byte, data, parity int) ([][]byte, error) {
	if len(group) == 0 || len(group) > data {
		return nil, fmt.Errorf("files: a group holds 1 to %d chunks, not %d", data, len(group))
	}
	enc, err := reedsolomon.New(data, parity)
	if err != nil {
		return nil, fmt.Errorf("files: erasure coder: %w", err)
	}
	size := 0
	for _, c := range group {
		size = max(size, len(c))
	}
	shards := make([][]byte, data+parity)
	for i := range shards {
		shards[i] = make([]byte, size)
		if i < len(group) {
			copy(shards[i], group[i])
		}
	}
	if err := enc.Encode(shards); err != nil {
		return nil, fmt.Errorf("files: erasure encoding: %w", err)
	}
	return shards[data:], nil
}

// Rebuild restores the missing chunks of a group. chunks has the group's
// sealed chunks (nil where missing), sizes their sealed sizes from the
// manifest, parity the parity shards (nil where missing). At least data of
// all shards must be present.
func Rebuild(chunks [][]byte, sizes []int, parity [][]byte, data int) error {
	if len(chunks) != len(sizes) || len(chunks) > data {
		return errors.New("files: rebuild: chunks and sizes disagree")
	}
	enc, err := reedsolomon.New(data, len(parity))
	if err != nil {
		return fmt.Errorf("files: erasure coder: %w", err)
	}
	size := 0
	for _, s := range sizes {
		size = max(size, s)
	}
	shards := make([][]byte, data+len(parity))
	for i := 0; i < data; i++ {
		switch {
		case i >= len(chunks):
			shards[i] = make([]byte, size) // padding shard of a short group
		case chunks[i] != nil:
			shards[i] = append(chunks[i], make([]byte, size-len(chunks[i]))...)
		}
	}
	for i, p := range parity {
		if p != nil && len(p) != size {
			return errors.New("files: rebuild: a parity shard has the wrong size")
		}
		shards[data+i] = p
	}
	if err := enc.ReconstructData(shards); err != nil {
		return fmt.Errorf("files: too few shards of this group survive: %w", err)
	}
	for i := range chunks {
		if chunks[i] == nil {
			chunks[i] = shards[i][:sizes[i]]
		} else {
			chunks[i] = chunks[i][:sizes[i]]
		}
	}
	return nil
}
