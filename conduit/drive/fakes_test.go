package drive

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/borgios/borghui/cells/ftree"
	"github.com/borgios/borghui/conduit/files"
	"github.com/borgios/borghui/wallet"
)

// memStore is an in-memory files.Store and Releaser.
type memStore struct {
	mu       sync.Mutex
	shards   map[files.ID][]byte
	puts     int
	deleted  []files.ID
	missing  int   // deletes of shards it did not hold
	failPuts error // when set, Put fails with it
}

func newMemStore() *memStore { return &memStore{shards: map[files.ID][]byte{}} }

func (m *memStore) Put(_ context.Context, id files.ID, sealed []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failPuts != nil {
		return m.failPuts
	}
	if id != files.ShardID(sealed) {
		return errors.New("memStore: id is not the shard id")
	}
	m.puts++
	m.shards[id] = bytes.Clone(sealed)
	return nil
}

func (m *memStore) Fetch(_ context.Context, id files.ID) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.shards[id]
	if !ok {
		return nil, errors.New("memStore: no such shard")
	}
	return bytes.Clone(s), nil
}

func (m *memStore) Delete(_ context.Context, id files.ID) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.shards[id]; !ok {
		m.missing++
		return errors.New("memStore: no such shard")
	}
	delete(m.shards, id)
	m.deleted = append(m.deleted, id)
	return nil
}

// ids returns the shards held.
func (m *memStore) ids() map[files.ID]bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[files.ID]bool{}
	for id := range m.shards {
		out[id] = true
	}
	return out
}

// takeDeleted returns the shards deleted since the last call.
func (m *memStore) takeDeleted() map[files.ID]bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[files.ID]bool{}
	for _, id := range m.deleted {
		out[id] = true
	}
	m.deleted = nil
	return out
}

func (m *memStore) counts() (puts, deletes, missing int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.puts, len(m.deleted), m.missing
}

// fakeRoots keeps one owner's record by the ftree rule: the first record
// may carry any version; after that only version cur+1 with prev =
// hash(cur) (or cur itself again), otherwise a conflict.
type fakeRoots struct {
	mu        sync.Mutex
	cur       *ftree.RootRecord
	puts      int
	conflicts int
	always    bool  // every put conflicts
	failPut   error // every put fails with it (not a conflict)
}

func (f *fakeRoots) Root(context.Context) (*ftree.RootRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cur == nil {
		return nil, nil
	}
	c := *f.cur
	return &c, nil
}

func (f *fakeRoots) PutRoot(_ context.Context, rec *ftree.RootRecord) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failPut != nil {
		return f.failPut
	}
	if err := rec.Verify(); err != nil {
		return err
	}
	if f.always {
		f.conflicts++
		return &ftree.ConflictError{Current: f.cur}
	}
	if f.cur != nil {
		if rec.Hash() == f.cur.Hash() {
			return nil
		}
		if rec.Owner != f.cur.Owner {
			return ftree.ErrForbidden
		}
		if rec.Version != f.cur.Version+1 || rec.Prev != f.cur.Hash() {
			f.conflicts++
			return &ftree.ConflictError{Current: f.cur}
		}
	}
	c := *rec
	f.cur = &c
	f.puts++
	return nil
}

func (f *fakeRoots) current() *ftree.RootRecord {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cur
}

// set replaces the record unconditionally (a test planting one).
func (f *fakeRoots) set(rec *ftree.RootRecord) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cur = rec
}

// fakeClock advances a millisecond on every reading.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

// env is one person's storage: shards, root record, identity.
type testEnv struct {
	store *memStore
	roots *fakeRoots
	id    *wallet.Identity
	clock *fakeClock
}

func newIdentity(t testing.TB) *wallet.Identity {
	t.Helper()
	id, err := wallet.NewNodeKey()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(id.Destroy)
	return id
}

func newEnv(t testing.TB) *testEnv {
	return &testEnv{store: newMemStore(), roots: &fakeRoots{}, id: newIdentity(t),
		clock: &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}}
}

func (e *testEnv) config(release bool) Config {
	cfg := Config{
		Files: &files.Service{Store: e.store, Keys: e.id, ChunkSize: 1024},
		Roots: e.roots,
		Owner: e.id,
		Now:   e.clock.Now,
	}
	if release {
		cfg.Release = e.store
	}
	return cfg
}

// drive returns a loaded Drive over the environment.
func (e *testEnv) drive(t testing.TB, release bool) *Drive {
	t.Helper()
	d := New(e.config(release))
	if err := d.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return d
}

// union returns the union of sets.
func union(sets ...map[files.ID]bool) map[files.ID]bool {
	out := map[files.ID]bool{}
	for _, s := range sets {
		maps.Copy(out, s)
	}
	return out
}
