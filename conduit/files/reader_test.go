package files

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

type mapFetcher struct {
	shards map[ID][]byte
	calls  int
}

func (m *mapFetcher) Fetch(_ context.Context, id ID) ([]byte, error) {
	m.calls++
	s, ok := m.shards[id]
	if !ok {
		return nil, errors.New("no such shard")
	}
	return s, nil
}

func storeFile(t *testing.T, plain []byte, chunkSize int) (*Manifest, *Key, *mapFetcher) {
	t.Helper()
	file, _ := NewFileID()
	key, _ := FileKey(fakeIdentity{5}, file)
	f := &mapFetcher{shards: map[ID][]byte{}}
	refs, err := SealStream(bytes.NewReader(plain), int64(len(plain)), chunkSize, key, file, func(_ uint32, s []byte) error {
		f.shards[ShardID(s)] = bytes.Clone(s)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return &Manifest{Version: ManifestVersion, File: HexID(file), Name: "v.mp4", Size: int64(len(plain)), ChunkSize: chunkSize, Chunks: refs}, key, f
}

func TestReaderRangeRequests(t *testing.T) {
	plain := make([]byte, 10*4096+123)
	rand.Read(plain)
	m, key, f := storeFile(t, plain, 4096)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rd := NewReader(r.Context(), m, key, f)
		defer rd.Close()
		http.ServeContent(w, r, m.Name, time.Time{}, rd)
	}))
	defer srv.Close()
	tests := []struct {
		rng        string
		start, end int // inclusive
	}{
		{"bytes=0-99", 0, 99},
		{"bytes=4090-4200", 4090, 4200}, // across a chunk boundary
		{"bytes=40900-", 40900, len(plain) - 1},
		{"bytes=-50", len(plain) - 50, len(plain) - 1},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest("GET", srv.URL, nil)
		req.Header.Set("Range", tt.rng)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, plain[tt.start:tt.end+1]) {
			t.Fatalf("%s: status %d, %d bytes", tt.rng, resp.StatusCode, len(body))
		}
	}
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	all, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(all, plain) {
		t.Fatal("the whole file differs")
	}
}

func TestReaderFetchesOnlyWhatIsRead(t *testing.T) {
	plain := make([]byte, 100*1024)
	m, key, f := storeFile(t, plain, 1024)
	rd := NewReader(context.Background(), m, key, f)
	rd.Seek(50*1024+10, io.SeekStart)
	buf := make([]byte, 100)
	if _, err := io.ReadFull(rd, buf); err != nil {
		t.Fatal(err)
	}
	if f.calls != 1 {
		t.Fatalf("%d chunks fetched to read 100 bytes, want 1", f.calls)
	}
}

func TestReaderDetectsBadHolder(t *testing.T) {
	plain := make([]byte, 3000)
	m, key, f := storeFile(t, plain, 1024)
	for id, s := range f.shards {
		bad := bytes.Clone(s)
		bad[30] ^= 1
		f.shards[id] = bad
	}
	rd := NewReader(context.Background(), m, key, f)
	if _, err := io.ReadAll(rd); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("a corrupt holder's bytes: %v, want ErrCorrupt", err)
	}
}

func TestReaderPrefetch(t *testing.T) {
	plain := make([]byte, 40*1024+7)
	rand.Read(plain)
	m, key, f := storeFile(t, plain, 1024)
	sf := &syncFetcher{f: f}
	rd := NewReader(context.Background(), m, key, sf)
	rd.Prefetch = 4
	got, err := io.ReadAll(rd)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("prefetching read: %v", err)
	}
	if n := sf.count(); n != len(m.Chunks) {
		t.Fatalf("%d fetches for %d chunks: prefetch fetched twice or skipped", n, len(m.Chunks))
	}
	// A seek back still reads right.
	rd.Seek(100, io.SeekStart)
	buf := make([]byte, 50)
	if _, err := io.ReadFull(rd, buf); err != nil || !bytes.Equal(buf, plain[100:150]) {
		t.Fatalf("read after seek: %v", err)
	}
	rd.Close()
}

type syncFetcher struct {
	mu sync.Mutex
	f  *mapFetcher
}

func (s *syncFetcher) Fetch(ctx context.Context, id ID) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.f.Fetch(ctx, id)
}

func (s *syncFetcher) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.f.calls
}
