package bulk

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
)

// Offer describes one blob: its manifest (size, chunk size, per-chunk
// SHA-256) and the transfer id derived from it.
type Offer struct {
	ID        [32]byte   // SHA-256 of the manifest; see doc.go
	Name      string     // caller-supplied name or purpose; printable UTF-8, ≤ MaxNameLen bytes
	Size      int64      // bytes
	ChunkSize int        // bytes per chunk; the last chunk may be shorter
	Hashes    [][32]byte // SHA-256 of each chunk; len = ⌈Size/ChunkSize⌉
}

// Chunks returns the number of chunks.
func (o *Offer) Chunks() int { return len(o.Hashes) }

// IDString returns the lowercase hex of the transfer id (64 characters),
// which names the receiver's files.
func (o *Offer) IDString() string { return hex.EncodeToString(o.ID[:]) }

// chunkLen returns the length of chunk i.
func (o *Offer) chunkLen(i int) int {
	if i == len(o.Hashes)-1 {
		if r := int(o.Size - int64(i)*int64(o.ChunkSize)); r > 0 {
			return r
		}
	}
	return o.ChunkSize
}

// chunkOff returns the offset of chunk i.
func (o *Offer) chunkOff(i int) int64 { return int64(i) * int64(o.ChunkSize) }

// payload returns the offer's wire payload.
func (o *Offer) payload() []byte {
	return appendOfferPayload(make([]byte, 0, offerHeadLen+len(o.Name)+32*len(o.Hashes)), o)
}

// NewOffer reads src (size bytes) once, hashing its chunks on all CPUs, and
// returns the offer. chunkSize 0 means DefaultChunkSize, doubled as often as
// needed to keep the count within MaxChunks.
func NewOffer(ctx context.Context, name string, src io.ReaderAt, size int64, chunkSize int) (Offer, error) {
	if !validName(name, MaxNameLen) {
		return Offer{}, fmt.Errorf("%w: name must be printable UTF-8 of at most %d bytes", ErrBadOffer, MaxNameLen)
	}
	if size < 0 || size > int64(MaxChunks)*MaxChunkSize {
		return Offer{}, fmt.Errorf("%w: size %d", ErrBadOffer, size)
	}
	if chunkSize == 0 {
		chunkSize = DefaultChunkSize
		for chunkCount(size, chunkSize) > MaxChunks {
			chunkSize *= 2
		}
	}
	if chunkSize < MinChunkSize || chunkSize > MaxChunkSize {
		return Offer{}, fmt.Errorf("%w: chunk size %d outside [%d, %d]", ErrBadOffer, chunkSize, MinChunkSize, MaxChunkSize)
	}
	count := chunkCount(size, chunkSize)
	if count > MaxChunks {
		return Offer{}, fmt.Errorf("%w: %d chunks (limit %d); use a larger chunk size", ErrBadOffer, count, MaxChunks)
	}
	o := Offer{Name: name, Size: size, ChunkSize: chunkSize, Hashes: make([][32]byte, count)}
	if err := o.hashAll(ctx, src); err != nil {
		return Offer{}, err
	}
	p := o.payload()
	o.ID = manifestID(p[36:])
	return o, nil
}

// hashAll fills o.Hashes from src with one worker per CPU.
func (o *Offer) hashAll(ctx context.Context, src io.ReaderAt) error {
	n := len(o.Hashes)
	workers := min(runtime.GOMAXPROCS(0), n)
	var (
		next    atomic.Int64
		wg      sync.WaitGroup
		errOnce sync.Once
		first   error
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, o.ChunkSize)
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				err := ctx.Err()
				if err == nil {
					err = readChunk(src, o, i, buf)
				}
				if err != nil {
					errOnce.Do(func() { first = err })
					next.Store(int64(n))
					return
				}
				o.Hashes[i] = sha256.Sum256(buf[:o.chunkLen(i)])
			}
		}()
	}
	wg.Wait()
	if first != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("bulk: hashing source: %w", first)
		}
		return first
	}
	return nil
}

// readChunk reads chunk i of o from src into buf[:o.chunkLen(i)].
func readChunk(src io.ReaderAt, o *Offer, i int, buf []byte) error {
	want := o.chunkLen(i)
	n, err := src.ReadAt(buf[:want], o.chunkOff(i))
	if n == want {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("%w: reading chunk %d: %w", errSource, i, err)
}

// errSource marks a failure to read the sender's source.
var errSource = errors.New("bulk: source")
