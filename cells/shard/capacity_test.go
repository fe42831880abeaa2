package shard

import (
	"errors"
	"strings"
	"sync"
	"testing"
)

func openCapacityStore(t *testing.T, dir string, capacity int64) *Store {
	t.Helper()
	s, err := OpenStore(StoreConfig{Dir: dir, Capacity: capacity})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// A node's capacity bounds every owner's shards together; a second owner
// of a stored shard takes no room, a released shard gives its room back,
// and the count survives a restart.
func TestStoreCapacity(t *testing.T) {
	dir := t.TempDir()
	s := openCapacityStore(t, dir, 2500)
	carol := "04" + strings.Repeat("c3", 64)
	a, b, c := randBytes(t, 1000), randBytes(t, 1000), randBytes(t, 1000)
	steps := []struct {
		name  string
		owner string
		blob  []byte
		want  error
	}{
		{"alice fits", alice, a, nil},
		{"bob fits", bob, b, nil},
		{"carol does not", carol, c, ErrQuota},
		{"carol shares alice's shard", carol, a, nil},
	}
	for _, st := range steps {
		if _, err := s.Put(Sum(st.blob), []string{st.owner}, st.blob); !errors.Is(err, st.want) {
			t.Fatalf("%s: %v, want %v", st.name, err, st.want)
		}
	}
	if s.Has(Sum(c)) || s.Usage(carol) != 1000 {
		t.Fatalf("refused shard left behind: has %v, carol's usage %d", s.Has(Sum(c)), s.Usage(carol))
	}
	// Releasing one of two references frees nothing; the last one does.
	if _, err := s.Release(Sum(a), alice); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(Sum(c), []string{carol}, c); !errors.Is(err, ErrQuota) {
		t.Fatalf("room freed while carol still references the shard: %v", err)
	}
	if _, err := s.Release(Sum(a), carol); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(Sum(c), []string{carol}, c); err != nil {
		t.Fatalf("room not given back: %v", err)
	}
	// Reopened, the store counts what it holds (b and c: 2000 bytes).
	s.Close()
	s = openCapacityStore(t, dir, 2500)
	if _, err := s.Put(Sum(a), []string{alice}, a); !errors.Is(err, ErrQuota) {
		t.Fatalf("after reopening: %v, want the node full", err)
	}
	// No capacity: no bound beyond the per-owner quota.
	free := openCapacityStore(t, t.TempDir(), 0)
	for _, blob := range [][]byte{a, b, c} {
		if _, err := free.Put(Sum(blob), []string{alice}, blob); err != nil {
			t.Fatal(err)
		}
	}
}

// Concurrent puts of distinct shards never take the node over capacity.
func TestStoreCapacityConcurrent(t *testing.T) {
	s := openCapacityStore(t, t.TempDir(), 5000)
	var wg sync.WaitGroup
	var mu sync.Mutex
	stored := 0
	for range 20 {
		blob := randBytes(t, 1000)
		wg.Go(func() {
			_, err := s.Put(Sum(blob), []string{alice}, blob)
			if err != nil && !errors.Is(err, ErrQuota) {
				t.Error(err)
			}
			if err == nil {
				mu.Lock()
				stored++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if stored != 5 || s.Stats().Bytes != 5000 {
		t.Fatalf("%d shards, %d bytes stored; want 5 and 5000", stored, s.Stats().Bytes)
	}
}
