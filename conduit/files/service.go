package files

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// Store is where sealed shards live: the shard network, in practice.
type Store interface {
	// Put stores sealed bytes under their shard id (id = ShardID(sealed),
	// computed once by the caller) on enough holders, or fails: fewer
	// copies than the target is an error, never a success.
	Put(ctx context.Context, id ID, sealed []byte) error
	// Fetch returns the sealed bytes of a shard (checked by the caller).
	Fetch(ctx context.Context, id ID) ([]byte, error)
}

// Service stores files as sealed chunks and a sealed manifest.
type Service struct {
	Store     Store
	Keys      KeySource
	ChunkSize int // 0 = DefaultChunkSize
	Window    int // chunks in flight at once; 0 = 4
	Now       func() time.Time
	// Erasure, when set, erasure-codes files instead of keeping copies of
	// each chunk; the Store must then be a SpreadStore.
	Erasure *ErasureConfig
}

func (s *Service) erasureData() int {
	if s.Erasure == nil {
		return 0
	}
	return s.Erasure.Data
}

// CreateUploadJournal starts the journal of an upload of size bytes by
// this service at path: it fixes the file's ID, chunk size and layout, so
// that Upload with the journal reopened (OpenJournal) after a crash
// continues the same file. source and modTime say where the bytes come
// from, for the caller's own check before resuming.
func (s *Service) CreateUploadJournal(path, name, source string, size, modTime int64) (*Journal, error) {
	file, err := NewFileID()
	if err != nil {
		return nil, err
	}
	chunkSize := s.ChunkSize
	if chunkSize == 0 {
		chunkSize = DefaultChunkSize
	}
	h := JournalHeader{Kind: "upload", File: HexID(file), Name: name, Size: size, ChunkSize: chunkSize,
		Source: source, ModTime: modTime, Data: s.erasureData()}
	if s.Erasure != nil {
		h.Parity = s.Erasure.Parity
	}
	return CreateJournal(path, h)
}

// Stored is what an upload produces: the capability of the file (its
// manifest's shard id and the file key) and its manifest.
type Stored struct {
	Manifest   *Manifest
	ManifestID ID
	Key        *Key
}

// Upload reads exactly size bytes from r and stores them. With a journal
// (from CreateJournal with Kind "upload", or OpenJournal to resume), chunks
// it records as finished are not sent again and the file keeps its id; a
// chunk (with erasure coding: a whole group) that reaches its holders is
// recorded before it is counted. progress, when not nil, is told the
// plaintext bytes stored so far; it is called one call at a time with
// growing values, and must return quickly.
func (s *Service) Upload(ctx context.Context, r io.Reader, size int64, name, mime string, j *Journal, progress func(done int64)) (*Stored, error) {
	chunkSize := s.ChunkSize
	if chunkSize == 0 {
		chunkSize = DefaultChunkSize
	}
	window := max(1, s.Window)
	if s.Window == 0 {
		window = 4
	}
	// A group is the unit that is stored and journaled: one chunk with
	// copies, Data chunks and their parity with erasure coding.
	groupLen, parity := 1, 0
	var spread SpreadStore
	if e := s.Erasure; e != nil {
		if err := e.check(); err != nil {
			return nil, err
		}
		var ok bool
		if spread, ok = s.Store.(SpreadStore); !ok {
			return nil, errors.New("files: erasure coding needs a store that places shards (SpreadStore)")
		}
		groupLen, parity = e.Data, e.Parity
	}
	var file ID
	if j != nil {
		h := j.Header
		if h.Kind != "upload" || h.File == (HexID{}) || h.Size != size || h.ChunkSize != chunkSize || h.Data != s.erasureData() || h.Parity != parity {
			return nil, errors.New("files: the journal belongs to another file or layout (start one with CreateUploadJournal)")
		}
		file = ID(h.File)
	} else {
		var err error
		if file, err = NewFileID(); err != nil {
			return nil, err
		}
	}
	key, err := FileKey(s.Keys, file)
	if err != nil {
		return nil, err
	}
	total := Chunks(size, chunkSize)
	groups := (int(total) + groupLen - 1) / groupLen
	refs := make([]ChunkRef, total)
	var parityRefs [][]ChunkRef
	if parity > 0 {
		parityRefs = make([][]ChunkRef, groups)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type job struct {
		g, slot int
		id      ID
		sealed  []byte
	}
	type group struct {
		left   int        // shards not yet stored
		chunks []ChunkRef // the group's chunks, then its parity
		plain  int64      // plaintext bytes in the group
	}
	jobs := make(chan job)
	var (
		mu       sync.Mutex
		firstErr error
		done     int64
		pending  = map[int]*group{}
		wg       sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
			cancel()
		}
		mu.Unlock()
	}
	// finish records a stored group: its chunks (the first line carrying
	// the parity) in the journal, then in the manifest and the progress.
	finish := func(g int, gr *group) error {
		data := gr.chunks[:len(gr.chunks)-parity]
		if j != nil {
			for k, c := range data {
				jc := JournalChunk{Index: uint32(g*groupLen + k), ID: c.ID, Size: c.Size}
				if k == 0 && parity > 0 {
					jc.Parity = gr.chunks[len(data):]
				}
				if err := j.Done(jc); err != nil {
					return err
				}
			}
		}
		copy(refs[g*groupLen:], data)
		if parity > 0 {
			parityRefs[g] = gr.chunks[len(data):]
		}
		done += gr.plain
		if progress != nil {
			progress(done) // one call at a time (under mu), growing
		}
		return nil
	}
	for w := 0; w < window; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for jb := range jobs {
				var err error
				if spread != nil {
					err = spread.PutAt(ctx, jb.id, jb.sealed, Place{Group: GroupID(file, jb.g), Slot: jb.slot})
				} else {
					err = s.Store.Put(ctx, jb.id, jb.sealed)
				}
				if err != nil {
					fail(fmt.Errorf("files: storing shard %d of group %d: %w", jb.slot, jb.g, err))
					continue
				}
				mu.Lock()
				gr := pending[jb.g]
				gr.left--
				if gr.left == 0 {
					delete(pending, jb.g)
					err = finish(jb.g, gr)
				}
				mu.Unlock()
				if err != nil {
					fail(err)
				}
			}
		}()
	}

	plain := make([]byte, chunkSize)
	left := size
	var readErr error
	send := func(jb job) bool {
		select {
		case jobs <- jb:
			return true
		case <-ctx.Done():
			readErr = ctx.Err()
			return false
		}
	}
groupsLoop:
	for g := 0; g < groups; g++ {
		first := g * groupLen
		n := min(groupLen, int(total)-first)
		gr := &group{chunks: make([]ChunkRef, n+parity), left: n + parity}
		resumed := j != nil
		mu.Lock() // workers append to the journal under mu
		for k := 0; k < n && resumed; k++ {
			c, ok := j.Finished(uint32(first + k))
			if !ok || (k == 0 && len(c.Parity) != parity) {
				resumed = false
				break
			}
			gr.chunks[k] = ChunkRef{ID: c.ID, Size: c.Size}
			if k == 0 {
				copy(gr.chunks[n:], c.Parity)
			}
		}
		mu.Unlock()
		sealed := make([][]byte, 0, n)
		for k := 0; k < n; k++ {
			i := uint32(first + k)
			m := int(min(left, int64(chunkSize)))
			if _, err := io.ReadFull(r, plain[:m]); err != nil {
				readErr = fmt.Errorf("files: reading chunk %d: %w", i, err)
				break groupsLoop
			}
			left -= int64(m)
			gr.plain += int64(m)
			if resumed {
				continue
			}
			c, err := SealChunk(make([]byte, 0, m+Overhead), key, file, i, total, plain[:m])
			if err != nil {
				readErr = err
				break groupsLoop
			}
			sealed = append(sealed, c)
			gr.chunks[k] = ChunkRef{ID: HexID(ShardID(c)), Size: len(c)}
		}
		if resumed {
			mu.Lock()
			copy(refs[first:], gr.chunks[:n])
			if parity > 0 {
				parityRefs[g] = gr.chunks[n:]
			}
			done += gr.plain
			mu.Unlock()
			continue
		}
		shards := sealed
		if parity > 0 {
			ps, err := Parity(sealed, groupLen, parity)
			if err != nil {
				readErr = err
				break
			}
			for k, p := range ps {
				gr.chunks[n+k] = ChunkRef{ID: HexID(ShardID(p)), Size: len(p)}
			}
			shards = append(shards, ps...)
		}
		mu.Lock()
		pending[g] = gr
		mu.Unlock()
		for k, sh := range shards {
			slot := k
			if k >= n {
				slot = groupLen + k - n // parity slots follow the full group's data slots
			}
			if !send(job{g: g, slot: slot, id: ID(gr.chunks[k].ID), sealed: sh}) {
				break groupsLoop
			}
		}
	}
	clear(plain)
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if readErr != nil {
		return nil, readErr
	}
	var extra [1]byte
	if n, _ := r.Read(extra[:]); n > 0 {
		return nil, fmt.Errorf("files: the source holds more than the %d bytes announced", size)
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	m := &Manifest{Version: ManifestVersion, File: HexID(file), Name: name, MIME: mime, Size: size,
		ChunkSize: chunkSize, Created: now().UTC(), Chunks: refs}
	if parity > 0 {
		m.Erasure = &Erasure{Data: groupLen, Parity: parity, Groups: parityRefs}
	}
	sealedM, err := SealManifest(key, m)
	if err != nil {
		return nil, err
	}
	mid := ShardID(sealedM)
	if err := s.Store.Put(ctx, mid, sealedM); err != nil {
		return nil, fmt.Errorf("files: storing the manifest: %w", err)
	}
	return &Stored{Manifest: m, ManifestID: mid, Key: key}, nil
}

// Open fetches and opens a file's manifest (its capability: manifest id and
// key) and returns a Reader of its bytes.
func (s *Service) Open(ctx context.Context, manifestID ID, key *Key) (*Manifest, *Reader, error) {
	sealed, err := s.Store.Fetch(ctx, manifestID)
	if err != nil {
		return nil, nil, fmt.Errorf("files: fetching the manifest: %w", err)
	}
	if ShardID(sealed) != manifestID {
		return nil, nil, ErrCorrupt
	}
	m, err := OpenManifest(key, sealed)
	if err != nil {
		return nil, nil, err
	}
	rd := NewReader(ctx, m, key, s.Store) // a SpreadStore reads erasure-coded files too
	rd.Prefetch = 4
	if s.Window > 0 {
		rd.Prefetch = s.Window
	}
	return m, rd, nil
}
