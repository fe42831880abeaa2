package shard

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/borgios/borghui/internal/boltdb"
	"github.com/borgios/borghui/internal/dirs"
)

// DefaultQuota is an owner's quota on one node when none is configured.
const DefaultQuota int64 = 1 << 30

const metaFile = "meta.db"

var (
	bucketShards = []byte("shards") // id → shardMeta JSON
	bucketUsage  = []byte("usage")  // owner node ID → uint64 bytes referenced
	bucketGC     = []byte("gc")     // id → unix ms when it lost its last reference or was found orphaned
)

// StoreConfig configures a Store.
type StoreConfig struct {
	// Dir holds the blob folders and the metadata database.
	Dir string
	// Quota bounds the bytes one owner may reference on this node;
	// 0 means DefaultQuota.
	Quota int64
	// Capacity bounds the bytes of all shards this node keeps (a home
	// node's quota); 0 means no bound. A shard new to the node that would
	// exceed it is refused with ErrQuota.
	Capacity int64
}

// Meta is what the store knows of a shard besides its bytes.
type Meta struct {
	Size    int64    `json:"size"`
	Owners  []string `json:"owners"`
	Holders []string `json:"holders,omitempty"` // other nodes known to hold it
}

// StoreStats counts the store's content and events since it opened.
type StoreStats struct {
	Shards      int
	Bytes       int64
	Pending     int    // unreferenced blobs waiting for collection
	Corrupt     uint64 // copies that failed their hash check on read
	Orphans     int    // blob files without metadata found when opening
	DroppedMeta int    // metadata entries without a blob dropped when opening
}

// Store keeps blobs in fan-out folders and their metadata (owners,
// reference counts, sizes, quota usage) in bbolt. See doc.go for the
// durability rules.
type Store struct {
	dir   string
	quota int64
	db    *bolt.DB
	locks [256]sync.RWMutex

	// capacity bounds total (bytes of every shard referenced here) when
	// positive; capMu makes the check and the count one step across puts.
	capacity int64
	capMu    sync.Mutex
	total    int64

	corrupt     atomic.Uint64
	orphans     int
	droppedMeta int
}

// OpenStore opens (creating if needed) the store in cfg.Dir and reconciles
// blobs with metadata: a blob without metadata is queued for collection, an
// entry without its blob is dropped, temp files are removed.
func OpenStore(cfg StoreConfig) (*Store, error) {
	if cfg.Dir == "" {
		return nil, errors.New("shard: store: a folder is required")
	}
	if cfg.Quota <= 0 {
		cfg.Quota = DefaultQuota
	}
	if err := dirs.MkdirAll(filepath.Join(cfg.Dir, blobsDir), 0o700); err != nil {
		return nil, fmt.Errorf("shard: store folder: %w", err)
	}
	db, err := boltdb.Open(filepath.Join(cfg.Dir, metaFile), 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("shard: opening metadata: %w", err)
	}
	s := &Store{dir: cfg.Dir, quota: cfg.Quota, db: db, capacity: max(cfg.Capacity, 0)}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketShards, bucketUsage, bucketGC} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		err = s.reconcile()
	}
	if err == nil && s.capacity > 0 {
		s.total = s.Stats().Bytes
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("shard: opening store: %w", err)
	}
	return s, nil
}

// Close closes the metadata database. Every acknowledged write is already
// on disk; Close adds nothing to durability.
func (s *Store) Close() error { return s.db.Close() }

func (s *Store) lock(id ID) *sync.RWMutex { return &s.locks[id[0]] }

func getMeta(tx *bolt.Tx, id ID) (*Meta, error) {
	v := tx.Bucket(bucketShards).Get(id[:])
	if v == nil {
		return nil, nil
	}
	var m Meta
	if err := json.Unmarshal(v, &m); err != nil {
		return nil, fmt.Errorf("shard: metadata of %s: %w", id, err)
	}
	return &m, nil
}

func putMeta(tx *bolt.Tx, id ID, m *Meta) error {
	return tx.Bucket(bucketShards).Put(id[:], mustJSON(m))
}

func usage(tx *bolt.Tx, owner string) int64 {
	v := tx.Bucket(bucketUsage).Get([]byte(owner))
	if len(v) != 8 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(v))
}

func addUsage(tx *bolt.Tx, owner string, delta int64) error {
	n := max(usage(tx, owner)+delta, 0)
	if n == 0 {
		return tx.Bucket(bucketUsage).Delete([]byte(owner))
	}
	var v [8]byte
	binary.BigEndian.PutUint64(v[:], uint64(n))
	return tx.Bucket(bucketUsage).Put([]byte(owner), v[:])
}

// Put stores blob under id with references for owners (a client put has
// one owner; a replica carries the pushing node's owners). The hash is
// checked; owners new to the shard are charged its size against their
// quota (all or nothing); an owner already referencing it is a no-op. Put
// returns once the blob is fsynced and the metadata committed. added
// reports whether any reference was new.
func (s *Store) Put(id ID, owners []string, blob []byte) (added bool, err error) {
	if len(blob) > MaxBlob {
		return false, fmt.Errorf("%w: blob of %d bytes, limit %d", ErrTooLarge, len(blob), MaxBlob)
	}
	if Sum(blob) != id {
		return false, fmt.Errorf("%w: %s", ErrHashMismatch, id)
	}
	return s.putVerified(id, owners, blob)
}

// putVerified is Put for a blob whose hash the caller has checked (the
// server: the transport's verified body hash, or DecodeReplicate), so a
// megabyte is not hashed twice.
func (s *Store) putVerified(id ID, owners []string, blob []byte) (added bool, err error) {
	if len(blob) > MaxBlob {
		return false, fmt.Errorf("%w: blob of %d bytes, limit %d", ErrTooLarge, len(blob), MaxBlob)
	}
	if len(owners) == 0 {
		return false, fmt.Errorf("%w: a shard needs an owner", ErrMalformed)
	}
	l := s.lock(id)
	l.Lock()
	defer l.Unlock()
	var m *Meta
	if err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		m, err = getMeta(tx, id)
		return err
	}); err != nil {
		return false, err
	}
	var fresh []string
	for _, o := range owners {
		if (m == nil || !slices.Contains(m.Owners, o)) && !slices.Contains(fresh, o) {
			fresh = append(fresh, o)
		}
	}
	// The bytes must be on disk and good before any reference is acknowledged.
	if m == nil || !s.blobGood(id) {
		if err := s.writeBlob(id, blob); err != nil {
			return false, err
		}
	}
	if len(fresh) == 0 {
		return false, nil
	}
	if s.capacity > 0 {
		s.capMu.Lock()
		defer s.capMu.Unlock()
	}
	var grew int64
	err = s.db.Update(func(tx *bolt.Tx) error {
		cur, err := getMeta(tx, id)
		if err != nil {
			return err
		}
		if cur == nil {
			cur = &Meta{Size: int64(len(blob))}
			if s.capacity > 0 && s.total+cur.Size > s.capacity {
				return fmt.Errorf("%w: this node is full: %d bytes stored, capacity %d", ErrQuota, s.total, s.capacity)
			}
			grew = cur.Size
		}
		for _, o := range fresh {
			if usage(tx, o)+cur.Size > s.quota {
				return fmt.Errorf("%w: owner %.16s… would reference %d bytes, quota %d", ErrQuota, o, usage(tx, o)+cur.Size, s.quota)
			}
		}
		for _, o := range fresh {
			if err := addUsage(tx, o, cur.Size); err != nil {
				return err
			}
		}
		cur.Owners = append(cur.Owners, fresh...)
		if err := tx.Bucket(bucketGC).Delete(id[:]); err != nil {
			return err
		}
		return putMeta(tx, id, cur)
	})
	if err == nil && s.capacity > 0 {
		s.total += grew
	}
	if err != nil {
		if m == nil { // the file written above is nobody's: queue it
			s.db.Update(func(tx *bolt.Tx) error {
				if cur, _ := getMeta(tx, id); cur != nil {
					return nil
				}
				return tx.Bucket(bucketGC).Put(id[:], stamp())
			})
		}
		return false, err
	}
	return true, nil
}

// blobGood reports whether the blob file exists and matches its id; a bad
// file is quarantined.
func (s *Store) blobGood(id ID) bool {
	_, err := s.readBlob(id)
	return err == nil
}

// Get returns the blob's bytes, checked against id on this read, and its
// metadata. A copy that fails the check is quarantined: ErrCorrupt.
func (s *Store) Get(id ID) ([]byte, Meta, error) {
	l := s.lock(id)
	l.RLock()
	defer l.RUnlock()
	m, err := s.Meta(id)
	if err != nil {
		return nil, Meta{}, err
	}
	b, err := s.readBlob(id)
	if err != nil {
		return nil, Meta{}, err
	}
	return b, m, nil
}

// Meta returns the shard's metadata, or ErrNotFound.
func (s *Store) Meta(id ID) (Meta, error) {
	var m *Meta
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		m, err = getMeta(tx, id)
		return err
	})
	if err != nil {
		return Meta{}, err
	}
	if m == nil {
		return Meta{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return *m, nil
}

// Has reports whether the shard is referenced here and its file present
// (cheap: no hash check; Verify reads and checks).
func (s *Store) Has(id ID) bool {
	_, err := s.Meta(id)
	return err == nil && s.blobExists(id)
}

// Verify reports whether the shard is referenced here and its bytes match
// its id (a bad copy is quarantined).
func (s *Store) Verify(id ID) bool {
	_, _, err := s.Get(id)
	return err == nil
}

// Release removes owner's reference to the shard. Only an owner may:
// anyone else gets ErrNotOwner and nothing changes. When the last
// reference goes, the blob is queued for collection; released says so.
func (s *Store) Release(id ID, owner string) (released bool, err error) {
	l := s.lock(id)
	l.Lock()
	defer l.Unlock()
	if s.capacity > 0 {
		s.capMu.Lock()
		defer s.capMu.Unlock()
	}
	var freed int64
	err = s.db.Update(func(tx *bolt.Tx) error {
		m, err := getMeta(tx, id)
		if err != nil {
			return err
		}
		if m == nil {
			return fmt.Errorf("%w: %s", ErrNotFound, id)
		}
		i := slices.Index(m.Owners, owner)
		if i < 0 {
			return fmt.Errorf("%w: %s", ErrNotOwner, id)
		}
		m.Owners = slices.Delete(m.Owners, i, i+1)
		if err := addUsage(tx, owner, -m.Size); err != nil {
			return err
		}
		if len(m.Owners) > 0 {
			return putMeta(tx, id, m)
		}
		released, freed = true, m.Size
		if err := tx.Bucket(bucketShards).Delete(id[:]); err != nil {
			return err
		}
		return tx.Bucket(bucketGC).Put(id[:], stamp())
	})
	if err == nil && s.capacity > 0 {
		s.total -= freed
	}
	return released, err
}

func stamp() []byte {
	var v [8]byte
	binary.BigEndian.PutUint64(v[:], uint64(time.Now().UnixMilli()))
	return v[:]
}

// AddHolders records other nodes known to hold the shard (bounded).
func (s *Store) AddHolders(id ID, self string, nodes []string) error {
	return s.setHolders(id, func(m *Meta) {
		for _, n := range nodes {
			if n != self && !slices.Contains(m.Holders, n) && len(m.Holders) < MaxHolders {
				m.Holders = append(m.Holders, n)
			}
		}
	})
}

// SetHolders replaces the other nodes known to hold the shard.
func (s *Store) SetHolders(id ID, self string, nodes []string) error {
	return s.setHolders(id, func(m *Meta) {
		m.Holders = m.Holders[:0]
		for _, n := range nodes {
			if n != self && !slices.Contains(m.Holders, n) && len(m.Holders) < MaxHolders {
				m.Holders = append(m.Holders, n)
			}
		}
	})
}

func (s *Store) setHolders(id ID, f func(*Meta)) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		m, err := getMeta(tx, id)
		if err != nil || m == nil {
			return err
		}
		f(m)
		return putMeta(tx, id, m)
	})
}

// Usage returns the bytes owner references on this node.
func (s *Store) Usage(owner string) int64 {
	var n int64
	s.db.View(func(tx *bolt.Tx) error { n = usage(tx, owner); return nil })
	return n
}

// GC removes the blobs that lost their last reference (or were found
// orphaned on open) and returns how many files it removed.
func (s *Store) GC() (int, error) {
	var ids []ID
	if err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketGC).ForEach(func(k, _ []byte) error {
			if len(k) == len(ID{}) {
				ids = append(ids, ID(k))
			}
			return nil
		})
	}); err != nil {
		return 0, err
	}
	removed := 0
	for _, id := range ids {
		ok, err := s.collect(id)
		if err != nil {
			return removed, err
		}
		if ok {
			removed++
		}
	}
	return removed, nil
}

func (s *Store) collect(id ID) (bool, error) {
	l := s.lock(id)
	l.Lock()
	defer l.Unlock()
	var still bool
	if err := s.db.View(func(tx *bolt.Tx) error {
		m, err := getMeta(tx, id)
		still = err == nil && m == nil && tx.Bucket(bucketGC).Get(id[:]) != nil
		return err
	}); err != nil {
		return false, err
	}
	existed := false
	if still {
		existed = s.blobExists(id)
		if err := s.removeBlob(id); err != nil {
			return false, err
		}
	}
	err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketGC).Delete(id[:]) })
	return existed, err
}

// Stats counts the store's content.
func (s *Store) Stats() StoreStats {
	st := StoreStats{Corrupt: s.corrupt.Load(), Orphans: s.orphans, DroppedMeta: s.droppedMeta}
	s.db.View(func(tx *bolt.Tx) error {
		st.Pending = tx.Bucket(bucketGC).Stats().KeyN
		return tx.Bucket(bucketShards).ForEach(func(_, v []byte) error {
			var m Meta
			if json.Unmarshal(v, &m) == nil {
				st.Shards++
				st.Bytes += m.Size
			}
			return nil
		})
	})
	return st
}
