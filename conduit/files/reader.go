package files

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// Fetcher returns the sealed bytes of a shard (from whichever holder).
type Fetcher interface {
	Fetch(ctx context.Context, id ID) ([]byte, error)
}

// ErrCorrupt means a holder returned bytes that are not the shard asked for.
var ErrCorrupt = errors.New("files: a holder returned bytes that do not match the shard id")

// Reader reads a stored file through its manifest: an io.ReadSeeker that
// fetches, checks and opens only the chunk under the read position, so
// http.ServeContent can answer Range requests (video, audio) while memory
// stays at one chunk, whatever the file size. Not safe for concurrent use.
type Reader struct {
	ctx   context.Context
	m     *Manifest
	key   *Key
	fetch Fetcher
	off   int64
	cur   int64 // index of the chunk in buf, -1 for none
	buf   []byte

	// Prefetch is how many chunks after the one being read are fetched in
	// parallel ahead of time (sequential reads then run at the speed of the
	// holders together, not of one round trip per chunk). Memory grows by
	// one sealed chunk per prefetched chunk. 0 disables it.
	Prefetch int
	ahead    map[int64]chan fetched

	spread  SpreadStore // erasure-coded file on a store that places shards
	rebuilt int         // chunks rebuilt from their group
}

type fetched struct {
	b   []byte
	err error
}

// NewReader returns a Reader of the file m describes.
// An erasure-coded file (m.Erasure) is read through FetchAt when f is also
// a SpreadStore, and a chunk that cannot be had is rebuilt from its group.
func NewReader(ctx context.Context, m *Manifest, key *Key, f Fetcher) *Reader {
	r := &Reader{ctx: ctx, m: m, key: key, fetch: f, cur: -1, buf: make([]byte, 0, m.ChunkSize), ahead: map[int64]chan fetched{}}
	if sp, ok := f.(SpreadStore); ok && m.Erasure != nil {
		r.spread = sp
	}
	return r
}

// Rebuilt is how many chunks this reader rebuilt from their erasure group
// because their holder was dead or served bad bytes.
func (r *Reader) Rebuilt() int { return r.rebuilt }

// place is where shard slot of group g of the file lives.
func (r *Reader) place(g, slot int) Place {
	return Place{Group: GroupID(ID(r.m.File), g), Slot: slot}
}

// fetchChunk fetches chunk i's sealed bytes (safe for concurrent use).
func (r *Reader) fetchChunk(i int64) ([]byte, error) {
	id := ID(r.m.Chunks[i].ID)
	if r.spread != nil {
		d := int64(r.m.Erasure.Data)
		return r.spread.FetchAt(r.ctx, id, r.place(int(i/d), int(i%d)))
	}
	return r.fetch.Fetch(r.ctx, id)
}

// get returns chunk i's sealed bytes, from a prefetch when one is under way,
// and starts prefetches of the chunks after it.
func (r *Reader) get(i int64) ([]byte, error) {
	ch, ok := r.ahead[i]
	delete(r.ahead, i)
	for k := range r.ahead { // a seek elsewhere: drop what is no longer ahead
		if k < i || k > i+int64(r.Prefetch) {
			delete(r.ahead, k)
		}
	}
	for k := i + 1; k <= i+int64(r.Prefetch) && k < int64(len(r.m.Chunks)); k++ {
		if _, on := r.ahead[k]; !on {
			c := make(chan fetched, 1)
			r.ahead[k] = c
			go func(k int64) {
				b, err := r.fetchChunk(k)
				c <- fetched{b, err}
			}(k)
		}
	}
	if ok {
		select {
		case f := <-ch:
			return f.b, f.err
		case <-r.ctx.Done():
			return nil, r.ctx.Err()
		}
	}
	return r.fetchChunk(i)
}

// Size is the plaintext size of the file.
func (r *Reader) Size() int64 { return r.m.Size }

// Read reads from the current position.
func (r *Reader) Read(p []byte) (int, error) {
	if r.off >= r.m.Size {
		return 0, io.EOF
	}
	i := r.off / int64(r.m.ChunkSize)
	if err := r.load(i); err != nil {
		return 0, err
	}
	n := copy(p, r.buf[r.off-i*int64(r.m.ChunkSize):])
	r.off += int64(n)
	return n, nil
}

// Seek sets the read position.
func (r *Reader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.off
	case io.SeekEnd:
		offset += r.m.Size
	default:
		return r.off, errors.New("files: bad whence")
	}
	if offset < 0 {
		return r.off, errors.New("files: seek before the start")
	}
	r.off = offset
	return offset, nil
}

func (r *Reader) load(i int64) error {
	if r.cur == i {
		return nil
	}
	ref := r.m.Chunks[i]
	sealed, err := r.get(i)
	clear(r.buf)
	r.cur = -1
	if err == nil {
		// The AEAD is the check: bytes that are not this chunk of this
		// file under this key never open. Only then is the shard ID worth
		// hashing, to tell a holder's wrong bytes from a wrong key.
		r.buf, err = OpenChunk(r.buf[:0], r.key, ID(r.m.File), uint32(i), uint32(len(r.m.Chunks)), sealed)
		if err != nil && ShardID(sealed) != ID(ref.ID) {
			err = ErrCorrupt
		}
	}
	if err != nil && r.spread != nil && r.ctx.Err() == nil {
		if sealed, err = r.rebuild(i); err == nil {
			r.buf, err = OpenChunk(r.buf[:0], r.key, ID(r.m.File), uint32(i), uint32(len(r.m.Chunks)), sealed)
		}
	}
	if err != nil {
		return fmt.Errorf("files: chunk %d: %w", i, err)
	}
	r.cur = i
	return nil
}

// Close wipes the chunk held in memory and forgets prefetches.
func (r *Reader) Close() error {
	clear(r.buf)
	r.cur = -1
	clear(r.ahead)
	return nil
}

// rebuild restores chunk i from the other shards of its erasure group,
// fetched in parallel and each checked against its shard ID, and stores
// the rebuilt chunk again one lap further along the group's order of
// nodes (best effort: the read does not wait for it).
func (r *Reader) rebuild(i int64) ([]byte, error) {
	e := r.m.Erasure
	g := int(i) / e.Data
	first := g * e.Data
	n := min(e.Data, len(r.m.Chunks)-first)
	chunks := make([][]byte, n)
	sizes := make([]int, n)
	parity := make([][]byte, e.Parity)
	var wg sync.WaitGroup
	get := func(dst *[]byte, ref ChunkRef, slot int) {
		defer wg.Done()
		b, err := r.spread.FetchAt(r.ctx, ID(ref.ID), r.place(g, slot))
		if err == nil && ShardID(b) == ID(ref.ID) {
			*dst = b
		}
	}
	for k := 0; k < n; k++ {
		sizes[k] = r.m.Chunks[first+k].Size
		if first+k != int(i) {
			wg.Add(1)
			go get(&chunks[k], r.m.Chunks[first+k], k)
		}
	}
	for k, ref := range e.Groups[g] {
		wg.Add(1)
		go get(&parity[k], ref, e.Data+k)
	}
	wg.Wait()
	if err := Rebuild(chunks, sizes, parity, e.Data); err != nil {
		return nil, err
	}
	sealed := chunks[int(i)-first]
	id := ID(r.m.Chunks[i].ID)
	if ShardID(sealed) != id {
		return nil, ErrCorrupt
	}
	r.rebuilt++
	again := r.place(g, int(i)-first+e.Data+e.Parity)
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.ctx), time.Minute)
		defer cancel()
		_ = r.spread.PutAt(ctx, id, sealed, again)
	}()
	return sealed, nil
}
