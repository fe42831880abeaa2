package ftree

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/borgios/borghui/internal/boltdb"
	"github.com/borgios/borghui/internal/dirs"
)

// Buckets of the node's database (ftree.db in the data folder).
//
//	roots:   owner(65)                 → current RootRecord (JSON)
//	history: owner(65) ‖ version(8 BE) → RootRecord (JSON), the last MaxHistory
//	shares:  recipient(65) ‖ id(32)    → Share (JSON)
var (
	bucketRoots   = []byte("roots")
	bucketHistory = []byte("history")
	bucketShares  = []byte("shares")
)

// store is the bbolt database. bbolt runs one write transaction at a time,
// which makes a root put's compare-and-swap atomic.
type store struct {
	db       *bolt.DB
	maxInbox int
}

func openStore(dir string, maxInbox int) (*store, error) {
	if err := dirs.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("ftree: data folder: %w", err)
	}
	db, err := boltdb.Open(filepath.Join(dir, "ftree.db"), 2*time.Second)
	if err != nil {
		return nil, fmt.Errorf("ftree: opening database: %w", err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketRoots, bucketHistory, bucketShares} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("ftree: preparing database: %w", err)
	}
	return &store{db: db, maxInbox: maxInbox}, nil
}

func (s *store) close() error { return s.db.Close() }

func historyKey(owner PubKey, version uint64) []byte {
	return binary.BigEndian.AppendUint64(append([]byte(nil), owner[:]...), version)
}

func loadRecord(b []byte) (*RootRecord, error) {
	var r RootRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("ftree: stored record: %w", err)
	}
	return &r, nil
}

// current returns the owner's current record, nil if none.
func (s *store) current(owner PubKey) (*RootRecord, error) {
	var r *RootRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketRoots).Get(owner[:])
		if v == nil {
			return nil
		}
		var err error
		r, err = loadRecord(v)
		return err
	})
	return r, err
}

// putRoot stores rec (already verified) if it extends the current record:
// nothing stored → any version (the start of this node's chain); otherwise
// version = current+1 and prev = hash(current). The same record as the
// current one is accepted again (a retried write). Otherwise it returns
// ok=false and the current record.
func (s *store) putRoot(rec *RootRecord) (ok bool, cur *RootRecord, err error) {
	enc, err := json.Marshal(rec)
	if err != nil {
		return false, nil, fmt.Errorf("ftree: encoding record: %w", err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		roots, hist := tx.Bucket(bucketRoots), tx.Bucket(bucketHistory)
		if v := roots.Get(rec.Owner[:]); v != nil {
			c, err := loadRecord(v)
			if err != nil {
				return err
			}
			if c.Hash() == rec.Hash() {
				ok = true
				return nil
			}
			if rec.Version != c.Version+1 || rec.Prev != c.Hash() {
				cur = c
				return nil
			}
		}
		if err := roots.Put(rec.Owner[:], enc); err != nil {
			return err
		}
		if err := hist.Put(historyKey(rec.Owner, rec.Version), enc); err != nil {
			return err
		}
		ok = true
		return pruneHistory(hist, rec.Owner)
	})
	return ok, cur, err
}

// pruneHistory keeps the newest MaxHistory versions of owner.
func pruneHistory(hist *bolt.Bucket, owner PubKey) error {
	var keys [][]byte
	c := hist.Cursor()
	for k, _ := c.Seek(owner[:]); k != nil && bytes.HasPrefix(k, owner[:]); k, _ = c.Next() {
		keys = append(keys, append([]byte(nil), k...))
	}
	for len(keys) > MaxHistory {
		if err := hist.Delete(keys[0]); err != nil {
			return err
		}
		keys = keys[1:]
	}
	return nil
}

// history returns the owner's kept records, newest first.
func (s *store) history(owner PubKey) ([]*RootRecord, error) {
	var out []*RootRecord
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketHistory).Cursor()
		for k, v := c.Seek(owner[:]); k != nil && bytes.HasPrefix(k, owner[:]); k, v = c.Next() {
			r, err := loadRecord(v)
			if err != nil {
				return err
			}
			out = append([]*RootRecord{r}, out...)
		}
		return nil
	})
	if len(out) > MaxHistory {
		out = out[:MaxHistory]
	}
	return out, err
}

func shareKey(recipient PubKey, id Hash) []byte {
	return append(append(make([]byte, 0, PublicKeyLen+32), recipient[:]...), id[:]...)
}

// putShare stores sh (already verified) in its recipient's inbox;
// storing the same share again is a no-op.
func (s *store) putShare(sh *Share) (Hash, error) {
	id := sh.ID()
	enc, err := json.Marshal(sh)
	if err != nil {
		return id, fmt.Errorf("ftree: encoding share: %w", err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketShares)
		key := shareKey(sh.Recipient, id)
		if b.Get(key) != nil {
			return nil
		}
		n := 0
		c := b.Cursor()
		for k, _ := c.Seek(sh.Recipient[:]); k != nil && bytes.HasPrefix(k, sh.Recipient[:]); k, _ = c.Next() {
			if n++; n >= s.maxInbox {
				return ErrInboxFull
			}
		}
		return b.Put(key, enc)
	})
	return id, err
}

// listShares returns up to limit shares of recipient with an id after
// after, and whether more follow.
func (s *store) listShares(recipient PubKey, after Hash, limit int) ([]*Share, bool, error) {
	var out []*Share
	more := false
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketShares).Cursor()
		k, v := c.Seek(shareKey(recipient, after))
		if k != nil && !after.IsZero() && bytes.Equal(k, shareKey(recipient, after)) {
			k, v = c.Next()
		}
		for ; k != nil && bytes.HasPrefix(k, recipient[:]); k, v = c.Next() {
			if len(out) == limit {
				more = true
				return nil
			}
			var sh Share
			if err := json.Unmarshal(v, &sh); err != nil {
				return fmt.Errorf("ftree: stored share: %w", err)
			}
			out = append(out, &sh)
		}
		return nil
	})
	return out, more, err
}

// revokeShare deletes share id of recipient if by is its sharer or its
// recipient.
func (s *store) revokeShare(recipient PubKey, id Hash, by PubKey) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketShares)
		key := shareKey(recipient, id)
		v := b.Get(key)
		if v == nil {
			return ErrNotFound
		}
		var sh Share
		if err := json.Unmarshal(v, &sh); err != nil {
			return fmt.Errorf("ftree: stored share: %w", err)
		}
		if by != sh.Sharer && by != sh.Recipient {
			return fmt.Errorf("%w: only the sharer or the recipient can revoke a share", ErrForbidden)
		}
		return b.Delete(key)
	})
}
