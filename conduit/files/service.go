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
// it records as finished are not sent again and the file keeps its id; each
// chunk that reaches its holders is recorded before the next is counted.
// progress, when not nil, is told the plaintext bytes stored so far; it is
// called one call at a time with growing values, and must return quickly.
func (s *Service) Upload(ctx context.Context, r io.Reader, size int64, name, mime string, j *Journal, progress func(done int64)) (*Stored, error) {
	chunkSize := s.ChunkSize
	if chunkSize == 0 {
		chunkSize = DefaultChunkSize
	}
	window := max(1, s.Window)
	if s.Window == 0 {
		window = 4
	}
	var file ID
	if j != nil && j.Header.File != (HexID{}) {
		if j.Header.Size != size || j.Header.ChunkSize != chunkSize {
			return nil, errors.New("files: the journal belongs to another file")
		}
		file = ID(j.Header.File)
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
	refs := make([]ChunkRef, total)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type job struct {
		i      uint32
		sealed []byte
	}
	jobs := make(chan job)
	var (
		mu       sync.Mutex
		firstErr error
		done     int64
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
	for w := 0; w < window; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for jb := range jobs {
				id := ShardID(jb.sealed)
				if err := s.Store.Put(ctx, id, jb.sealed); err != nil {
					fail(fmt.Errorf("files: storing chunk %d: %w", jb.i, err))
					continue
				}
				ref := ChunkRef{ID: HexID(id), Size: len(jb.sealed)}
				mu.Lock()
				refs[jb.i] = ref
				var jerr error
				if j != nil {
					jerr = j.Done(JournalChunk{Index: jb.i, ID: ref.ID, Size: ref.Size})
				}
				done += int64(ref.Size - Overhead)
				if progress != nil && jerr == nil {
					progress(done) // one call at a time, growing
				}
				mu.Unlock()
				if jerr != nil {
					fail(jerr)
				}
			}
		}()
	}

	plain := make([]byte, chunkSize)
	left := size
	var readErr error
	for i := uint32(0); i < total && readErr == nil; i++ {
		n := int(min(left, int64(chunkSize)))
		if _, err := io.ReadFull(r, plain[:n]); err != nil {
			readErr = fmt.Errorf("files: reading chunk %d: %w", i, err)
			break
		}
		left -= int64(n)
		if j != nil {
			mu.Lock() // workers append to the journal under mu
			c, ok := j.Finished(i)
			if ok {
				refs[i] = ChunkRef{ID: c.ID, Size: c.Size}
				done += int64(c.Size - Overhead)
			}
			mu.Unlock()
			if ok {
				continue
			}
		}
		sealed, err := SealChunk(make([]byte, 0, n+Overhead), key, file, i, total, plain[:n])
		if err != nil {
			readErr = err
			break
		}
		select {
		case jobs <- job{i, sealed}:
		case <-ctx.Done():
			readErr = ctx.Err()
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
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	m := &Manifest{Version: ManifestVersion, File: HexID(file), Name: name, MIME: mime, Size: size,
		ChunkSize: chunkSize, Created: now().UTC(), Chunks: refs}
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

// storeFetcher adapts a Store to the Reader's Fetcher.
type storeFetcher struct{ s Store }

func (f storeFetcher) Fetch(ctx context.Context, id ID) ([]byte, error) { return f.s.Fetch(ctx, id) }

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
	rd := NewReader(ctx, m, key, storeFetcher{s.Store})
	rd.Prefetch = 4
	if s.Window > 0 {
		rd.Prefetch = s.Window
	}
	return m, rd, nil
}
