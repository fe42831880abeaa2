package files

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// ErasureConfig asks the Service to erasure-code files instead of
// replicating each chunk: every group of Data chunks gets Parity
// Reed–Solomon shards, and the Data+Parity shards of a group go to
// distinct nodes (one copy each). Any Data of them rebuild the group, so a
// group survives the loss of Parity holders at a storage overhead of
// Parity/Data (4+2: 50%, against 200% for three copies).
type ErasureConfig struct {
	Data, Parity int
}

func (e *ErasureConfig) check() error {
	if e.Data < 1 || e.Parity < 1 || e.Data+e.Parity > 256 {
		return fmt.Errorf("files: erasure layout %d+%d is out of range (1..255 data, at least 1 parity, 256 in all)", e.Data, e.Parity)
	}
	return nil
}

// Place is where one shard of an erasure-coded group goes: slot Slot of the
// order of nodes that Group's ID gives (rendezvous hashing over the
// members, as for any shard). Slots 0..Data-1 are the group's chunks,
// Data..Data+Parity-1 its parity; a slot past the members wraps around.
type Place struct {
	Group ID
	Slot  int
}

// A SpreadStore stores and fetches single copies of shards at chosen places
// (the shard network does). The Service needs one for erasure coding.
type SpreadStore interface {
	// PutAt stores one copy of sealed (whose shard ID is id) at p.
	PutAt(ctx context.Context, id ID, sealed []byte, p Place) error
	// FetchAt returns the shard, asking p's node first and then the others.
	FetchAt(ctx context.Context, id ID, p Place) ([]byte, error)
}

// GroupID names group g of a file for placement:
// SHA-256("BorgIOS/v1/files/group\n" ‖ file ID ‖ uint32 g).
func GroupID(file ID, g int) ID {
	h := sha256.New()
	h.Write([]byte("BorgIOS/v1/files/group\n"))
	h.Write(file[:])
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], uint32(g))
	h.Write(b[:])
	var id ID
	h.Sum(id[:0])
	return id
}
