package files

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"testing"
)

// memStore is an in-memory Store that can fail after a number of puts.
type memStore struct {
	mu        sync.Mutex
	shards    map[ID][]byte
	puts      int
	failAfter int // 0: never
}

func newMemStore() *memStore { return &memStore{shards: map[ID][]byte{}} }

func (m *memStore) Put(_ context.Context, id ID, sealed []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failAfter > 0 && m.puts >= m.failAfter {
		return errors.New("holder gone")
	}
	m.puts++
	if id != ShardID(sealed) {
		return errors.New("wrong id")
	}
	m.shards[id] = bytes.Clone(sealed)
	return nil
}

func (m *memStore) Fetch(_ context.Context, id ID) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.shards[id]
	if !ok {
		return nil, errors.New("not found")
	}
	return s, nil
}

func TestServiceRoundTrips(t *testing.T) {
	const c = 64 << 10
	for _, size := range []int64{0, 1, c - 1, c, c + 1, 5*c + 3} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			store := newMemStore()
			svc := &Service{Store: store, Keys: fakeIdentity{9}, ChunkSize: c}
			plain := make([]byte, size)
			rand.Read(plain)
			var last int64
			st, err := svc.Upload(context.Background(), bytes.NewReader(plain), size, "f.bin", "", nil, func(d int64) { last = d })
			if err != nil {
				t.Fatal(err)
			}
			if last != size && size > 0 {
				t.Fatalf("progress ended at %d of %d", last, size)
			}
			m, rd, err := svc.Open(context.Background(), st.ManifestID, st.Key)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(rd)
			if err != nil || !bytes.Equal(got, plain) || m.Size != size {
				t.Fatalf("download of %d bytes: %d bytes, %v", size, len(got), err)
			}
		})
	}
}

// TestUploadResumes: the upload dies after some chunks (a pulled stick, a
// killed conduit); resumed from the journal, it sends only the rest and the
// file opens whole.
func TestUploadResumes(t *testing.T) {
	const c = 4 << 10
	plain := make([]byte, 20*c+5)
	rand.Read(plain)
	store := newMemStore()
	store.failAfter = 7
	svc := &Service{Store: store, Keys: fakeIdentity{3}, ChunkSize: c, Window: 1}
	path := filepath.Join(t.TempDir(), "up.journal")
	j, err := svc.CreateUploadJournal(path, "x", "", int64(len(plain)), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Upload(context.Background(), bytes.NewReader(plain), int64(len(plain)), "x", "", j, nil); err == nil {
		t.Fatal("the broken upload reported success")
	}
	j.Close()
	sentBefore := store.puts

	j, err = OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	if j.Count() != sentBefore {
		t.Fatalf("journal has %d chunks, store took %d", j.Count(), sentBefore)
	}
	store.failAfter = 0
	st, err := svc.Upload(context.Background(), bytes.NewReader(plain), int64(len(plain)), "x", "", j, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resent := store.puts - sentBefore; resent != 21-sentBefore+1 {
		t.Fatalf("the resumed upload sent %d shards, want %d chunks + the manifest", resent, 21-sentBefore)
	}
	_, rd, err := svc.Open(context.Background(), st.ManifestID, st.Key)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(rd); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("resumed file differs: %v", err)
	}
}
