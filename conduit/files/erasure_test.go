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

// spreadStore is a SpreadStore over nodes in memory: slot s of a group goes
// to node (rank(group) + s) mod nodes, like the shard network's rotation of
// a rendezvous order. Nodes can be killed or made to serve bad bytes.
type spreadStore struct {
	*memStore
	mu      sync.Mutex
	nodes   []map[ID][]byte
	dead    map[int]bool
	corrupt map[int]bool
	placed  map[ID][]int // group → nodes used, in slot order
	putAts  int
}

func newSpreadStore(nodes int) *spreadStore {
	s := &spreadStore{memStore: newMemStore(), dead: map[int]bool{}, corrupt: map[int]bool{}, placed: map[ID][]int{}}
	for range nodes {
		s.nodes = append(s.nodes, map[ID][]byte{})
	}
	return s
}

func (s *spreadStore) node(p Place) int { return (int(p.Group[0]) + p.Slot) % len(s.nodes) }

func (s *spreadStore) PutAt(_ context.Context, id ID, sealed []byte, p Place) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.node(p)
	if s.dead[n] {
		return errors.New("node down")
	}
	if s.memStore.failAfter > 0 && s.putAts >= s.memStore.failAfter {
		return errors.New("holder gone")
	}
	if id != ShardID(sealed) {
		return errors.New("wrong id")
	}
	s.putAts++
	s.nodes[n][id] = bytes.Clone(sealed)
	s.placed[p.Group] = append(s.placed[p.Group], n)
	return nil
}

func (s *spreadStore) FetchAt(_ context.Context, id ID, p Place) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	first := s.node(p)
	for k := range s.nodes {
		n := (first + k) % len(s.nodes)
		if b, ok := s.nodes[n][id]; ok && !s.dead[n] {
			if s.corrupt[n] {
				b = append(bytes.Clone(b[:len(b)-1]), b[len(b)-1]^1)
			}
			return b, nil
		}
	}
	return nil, errors.New("not found")
}

func TestErasureRoundTrips(t *testing.T) {
	const c = 16 << 10
	for _, size := range []int64{0, 1, c - 1, c, c + 1, 3 * c, 7*c + 3} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			store := newSpreadStore(5)
			svc := &Service{Store: store, Keys: fakeIdentity{4}, ChunkSize: c, Erasure: &ErasureConfig{Data: 3, Parity: 2}}
			plain := make([]byte, size)
			rand.Read(plain)
			var last int64
			st, err := svc.Upload(context.Background(), bytes.NewReader(plain), size, "f", "", nil, func(d int64) { last = d })
			if err != nil {
				t.Fatal(err)
			}
			if last != size {
				t.Fatalf("progress ended at %d of %d", last, size)
			}
			e := st.Manifest.Erasure
			groups := (len(st.Manifest.Chunks) + 2) / 3
			if e == nil || e.Data != 3 || e.Parity != 2 || len(e.Groups) != groups {
				t.Fatalf("manifest erasure layout %+v for %d groups", e, groups)
			}
			for g, nodes := range store.placed {
				seen := map[int]bool{}
				for _, n := range nodes {
					if seen[n] {
						t.Fatalf("group %x put two shards on node %d: %v", g[:4], n, nodes)
					}
					seen[n] = true
				}
			}
			_, rd, err := svc.Open(context.Background(), st.ManifestID, st.Key)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(rd)
			if err != nil || !bytes.Equal(got, plain) {
				t.Fatalf("download: %d bytes, %v", len(got), err)
			}
			if rd.Rebuilt() != 0 {
				t.Fatalf("rebuilt %d chunks with every node up", rd.Rebuilt())
			}
		})
	}
}

// TestErasureLosesParityHolders: 3+2 over 5 nodes survives any two dead or
// lying nodes (chunks are rebuilt), not three.
func TestErasureLosesParityHolders(t *testing.T) {
	const c = 16 << 10
	plain := make([]byte, 9*c+100)
	rand.Read(plain)
	tests := []struct {
		name          string
		dead, corrupt []int
		ok            bool
	}{
		{"one dead", []int{2}, nil, true},
		{"two dead", []int{0, 3}, nil, true},
		{"one dead one lying", []int{1}, []int{4}, true},
		{"three dead", []int{0, 1, 2}, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store := newSpreadStore(5)
			svc := &Service{Store: store, Keys: fakeIdentity{4}, ChunkSize: c, Erasure: &ErasureConfig{Data: 3, Parity: 2}}
			st, err := svc.Upload(context.Background(), bytes.NewReader(plain), int64(len(plain)), "f", "", nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			store.mu.Lock()
			for _, n := range tc.dead {
				store.dead[n] = true
			}
			for _, n := range tc.corrupt {
				store.corrupt[n] = true
			}
			// A chunk must be rebuilt when the first node FetchAt finds it
			// on is lying, or no live node has it. (A group of one chunk
			// has it as its first parity shard too: Reed–Solomon over one
			// data shard and zero padding repeats it.)
			want := 0
			for i, ref := range st.Manifest.Chunks {
				first := store.node(Place{Group: GroupID(ID(st.Manifest.File), i/3), Slot: i % 3})
				bad := true
				for k := range store.nodes {
					n := (first + k) % len(store.nodes)
					if _, ok := store.nodes[n][ID(ref.ID)]; ok && !store.dead[n] {
						bad = store.corrupt[n]
						break
					}
				}
				if bad {
					want++
				}
			}
			store.mu.Unlock()
			_, rd, err := svc.Open(context.Background(), st.ManifestID, st.Key)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(rd)
			if !tc.ok {
				if err == nil {
					t.Fatal("read a file whose groups lost three of five shards")
				}
				return
			}
			if err != nil || !bytes.Equal(got, plain) {
				t.Fatalf("download: %d bytes, %v", len(got), err)
			}
			if rd.Rebuilt() != want {
				t.Fatalf("rebuilt %d chunks, want the %d on bad nodes", rd.Rebuilt(), want)
			}
		})
	}
}

// TestErasureResumes: an erasure-coded upload that dies part way resumes
// from its journal, re-sending only the groups that were not complete.
func TestErasureResumes(t *testing.T) {
	const c = 8 << 10
	plain := make([]byte, 10*c+1) // 11 chunks: 4 groups of 3 (the last short)
	rand.Read(plain)
	store := newSpreadStore(5)
	store.failAfter = 7 // group 0 (5 shards) lands; group 1 does not
	svc := &Service{Store: store, Keys: fakeIdentity{5}, ChunkSize: c, Window: 1, Erasure: &ErasureConfig{Data: 3, Parity: 2}}
	path := filepath.Join(t.TempDir(), "up.journal")
	j, err := svc.CreateUploadJournal(path, "f", "", int64(len(plain)), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Upload(context.Background(), bytes.NewReader(plain), int64(len(plain)), "f", "", j, nil); err == nil {
		t.Fatal("the broken upload reported success")
	}
	j.Close()
	if j, err = OpenJournal(path); err != nil {
		t.Fatal(err)
	}
	if j.Count() != 3 {
		t.Fatalf("journal holds %d chunks, want the 3 of the one complete group", j.Count())
	}
	// Another layout must not continue this journal.
	other := &Service{Store: store, Keys: fakeIdentity{5}, ChunkSize: c, Erasure: &ErasureConfig{Data: 4, Parity: 2}}
	if _, err := other.Upload(context.Background(), bytes.NewReader(plain), int64(len(plain)), "f", "", j, nil); err == nil {
		t.Fatal("a 4+2 upload continued a 3+2 journal")
	}
	store.failAfter = 0
	before := store.putAts
	st, err := svc.Upload(context.Background(), bytes.NewReader(plain), int64(len(plain)), "f", "", j, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sent := store.putAts - before; sent != 2*5+2+2 { // groups 1, 2 whole, group 3: 2 chunks + 2 parity
		t.Fatalf("the resumed upload sent %d shards, want %d", sent, 2*5+4)
	}
	_, rd, err := svc.Open(context.Background(), st.ManifestID, st.Key)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(rd); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("resumed file differs: %v", err)
	}
}

func TestErasureNeedsSpreadStore(t *testing.T) {
	svc := &Service{Store: newMemStore(), Keys: fakeIdentity{1}, Erasure: &ErasureConfig{Data: 4, Parity: 2}}
	if _, err := svc.Upload(context.Background(), bytes.NewReader(nil), 0, "f", "", nil, nil); err == nil {
		t.Fatal("erasure coding over a store that cannot place shards")
	}
	svc = &Service{Store: newSpreadStore(3), Keys: fakeIdentity{1}, Erasure: &ErasureConfig{Data: 0, Parity: 2}}
	if _, err := svc.Upload(context.Background(), bytes.NewReader(nil), 0, "f", "", nil, nil); err == nil {
		t.Fatal("a 0+2 layout was accepted")
	}
}
