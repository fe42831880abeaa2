package ledger

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

// Buckets of the node's database (ledger.db in the data folder). Every
// block is applied, and every roll-back undone, in one write transaction:
// after a crash the database holds exactly the blocks it committed.
//
//	meta:     "genesis" → genesis block hash; "head" → height(8) ‖ hash(32) ‖ state(32) ‖ time(8)
//	blocks:   height(8 BE) → block JSON (wire form)
//	hashes:   height(8 BE) → block hash(32)
//	undo:     height(8 BE) → the accounts the block changed, as they were before it
//	accounts: MUID → balance(8 BE) ‖ seq(8 BE)
//	txs:      transfer id(32) → height(8) ‖ index(4) ‖ block time(8) ‖ transfer JSON
//	hist:     len(MUID)(1) ‖ MUID ‖ height(8) ‖ index(4) → id(32) ‖ balance after(8)
//	paid:     holder MUID ‖ 0x00 ‖ shard(32) ‖ window(8) → {} (storage windows already paid)
var (
	bucketMeta     = []byte("meta")
	bucketBlocks   = []byte("blocks")
	bucketHashes   = []byte("hashes")
	bucketUndo     = []byte("undo")
	bucketAccounts = []byte("accounts")
	bucketTxs      = []byte("txs")
	bucketHist     = []byte("hist")
	bucketPaid     = []byte("paid")
	keyGenesis     = []byte("genesis")
	keyHead        = []byte("head")
)

// tip is the top of a chain.
type tip struct {
	Height uint64
	Hash   Hash
	State  Hash
	Time   int64
}

func encodeTip(t tip) []byte {
	b := binary.BigEndian.AppendUint64(nil, t.Height)
	b = append(b, t.Hash[:]...)
	b = append(b, t.State[:]...)
	return binary.BigEndian.AppendUint64(b, uint64(t.Time))
}

func decodeTip(b []byte) (tip, error) {
	var t tip
	if len(b) != 80 {
		return t, fmt.Errorf("%w: head record", ErrCorrupt)
	}
	t.Height = binary.BigEndian.Uint64(b)
	copy(t.Hash[:], b[8:40])
	copy(t.State[:], b[40:72])
	t.Time = int64(binary.BigEndian.Uint64(b[72:]))
	return t, nil
}

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, 8), v) }

func histKey(muid string, height uint64, index int) []byte {
	b := make([]byte, 0, 1+len(muid)+12)
	b = append(b, byte(len(muid)))
	b = append(b, muid...)
	b = binary.BigEndian.AppendUint64(b, height)
	return binary.BigEndian.AppendUint32(b, uint32(index))
}

func histPrefix(muid string) []byte {
	return append([]byte{byte(len(muid))}, muid...)
}

// store is the bbolt database of one node's chain.
type store struct {
	db      *bolt.DB
	genesis tip
}

// openStore opens (or creates at genesis) the database in dir. A database
// made for another network (another genesis) is refused.
func openStore(dir string, genesis tip, genesisState *state) (*store, error) {
	if err := dirs.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("ledger: data folder: %w", err)
	}
	db, err := boltdb.Open(filepath.Join(dir, "ledger.db"), 2*time.Second)
	if err != nil {
		return nil, fmt.Errorf("ledger: opening database: %w", err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketMeta, bucketBlocks, bucketHashes, bucketUndo, bucketAccounts, bucketTxs, bucketHist, bucketPaid} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		if g := meta.Get(keyGenesis); g != nil {
			if !bytes.Equal(g, genesis.Hash[:]) {
				return fmt.Errorf("%w: the database belongs to another network (genesis %x)", ErrCorrupt, g)
			}
			return nil
		}
		acc := tx.Bucket(bucketAccounts)
		for _, m := range genesisState.keys {
			if err := acc.Put([]byte(m), encodeAccount(genesisState.acc[m])); err != nil {
				return err
			}
		}
		if err := meta.Put(keyHead, encodeTip(genesis)); err != nil {
			return err
		}
		return meta.Put(keyGenesis, genesis.Hash[:])
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("ledger: preparing database: %w", err)
	}
	return &store{db: db, genesis: genesis}, nil
}

func (s *store) close() error { return s.db.Close() }

// load reads the head and every account.
func (s *store) load() (*state, tip, error) {
	st := newState()
	var t tip
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		if t, err = decodeTip(tx.Bucket(bucketMeta).Get(keyHead)); err != nil {
			return err
		}
		return tx.Bucket(bucketAccounts).ForEach(func(k, v []byte) error {
			a, err := decodeAccount(v)
			if err != nil {
				return err
			}
			st.acc[string(k)] = a
			st.keys = append(st.keys, string(k)) // bbolt iterates in key order
			return nil
		})
	})
	return st, t, err
}

// appliedBlock is a validated block with everything its commit writes.
type appliedBlock struct {
	b       *Block
	raw     []byte // wire JSON
	hash    Hash
	ids     []Hash
	changes map[string]Account
	undo    []undoEntry
	post    []postBalance // per transfer
	tip     tip           // the chain's tip after it
}

// postBalance is what a transfer left in its two accounts.
type postBalance struct {
	sender, to Amount
}

// commit rolls back the blocks above height keep (when keep < the head)
// and applies add on top, in one transaction, then sets the head to the
// tip of the last added block (or of block keep).
func (s *store) commit(keep uint64, add []*appliedBlock) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		head, err := decodeTip(meta.Get(keyHead))
		if err != nil {
			return err
		}
		for h := head.Height; h > keep; h-- {
			if err := rollback(tx, h); err != nil {
				return err
			}
		}
		newHead := head
		if keep < head.Height {
			if newHead, err = tipAt(tx, keep, s.genesis); err != nil {
				return err
			}
		}
		for _, ab := range add {
			if ab.b.Height != newHead.Height+1 || ab.b.Prev != newHead.Hash {
				return fmt.Errorf("%w: block %d does not extend the head %d", ErrInvalid, ab.b.Height, newHead.Height)
			}
			if err := apply(tx, ab); err != nil {
				return err
			}
			newHead = ab.tip
		}
		return meta.Put(keyHead, encodeTip(newHead))
	})
}

// tipAt rebuilds the tip of height h from its stored block.
func tipAt(tx *bolt.Tx, h uint64, genesis tip) (tip, error) {
	if h == 0 {
		return genesis, nil
	}
	raw := tx.Bucket(bucketBlocks).Get(u64(h))
	hash := tx.Bucket(bucketHashes).Get(u64(h))
	if raw == nil || len(hash) != 32 {
		return tip{}, fmt.Errorf("%w: block %d missing", ErrCorrupt, h)
	}
	var b Block
	if err := json.Unmarshal(raw, &b); err != nil {
		return tip{}, fmt.Errorf("%w: block %d: %w", ErrCorrupt, h, err)
	}
	t := tip{Height: h, State: b.State, Time: b.Time}
	copy(t.Hash[:], hash)
	return t, nil
}

func apply(tx *bolt.Tx, ab *appliedBlock) error {
	key := u64(ab.b.Height)
	if err := tx.Bucket(bucketBlocks).Put(key, ab.raw); err != nil {
		return err
	}
	if err := tx.Bucket(bucketHashes).Put(key, ab.hash[:]); err != nil {
		return err
	}
	if err := tx.Bucket(bucketUndo).Put(key, encodeUndo(ab.undo)); err != nil {
		return err
	}
	acc := tx.Bucket(bucketAccounts)
	for m, a := range ab.changes {
		var err error
		if a == (Account{}) {
			err = acc.Delete([]byte(m))
		} else {
			err = acc.Put([]byte(m), encodeAccount(a))
		}
		if err != nil {
			return err
		}
	}
	txs, hist := tx.Bucket(bucketTxs), tx.Bucket(bucketHist)
	for i, t := range ab.b.Transfers {
		tj, err := json.Marshal(t)
		if err != nil {
			return err
		}
		v := binary.BigEndian.AppendUint64(make([]byte, 0, 20+len(tj)), ab.b.Height)
		v = binary.BigEndian.AppendUint32(v, uint32(i))
		v = binary.BigEndian.AppendUint64(v, uint64(ab.b.Time))
		v = append(v, tj...)
		if err := txs.Put(ab.ids[i][:], v); err != nil {
			return err
		}
		sv := binary.BigEndian.AppendUint64(append(ab.ids[i][:0:0], ab.ids[i][:]...), uint64(ab.post[i].sender))
		if err := hist.Put(histKey(t.sender, ab.b.Height, i), sv); err != nil {
			return err
		}
		rv := binary.BigEndian.AppendUint64(append(ab.ids[i][:0:0], ab.ids[i][:]...), uint64(ab.post[i].to))
		if err := hist.Put(histKey(t.To, ab.b.Height, i), rv); err != nil {
			return err
		}
	}
	return nil
}

// rollback undoes block h (the head) inside tx.
func rollback(tx *bolt.Tx, h uint64) error {
	key := u64(h)
	raw := tx.Bucket(bucketBlocks).Get(key)
	undoRaw := tx.Bucket(bucketUndo).Get(key)
	if raw == nil || undoRaw == nil {
		return fmt.Errorf("%w: block %d has no undo record", ErrCorrupt, h)
	}
	b, err := DecodeBlock(raw)
	if err != nil {
		return fmt.Errorf("%w: stored block %d: %w", ErrCorrupt, h, err)
	}
	undo, err := decodeUndo(undoRaw)
	if err != nil {
		return err
	}
	acc := tx.Bucket(bucketAccounts)
	for _, u := range undo {
		if u.Prev == (Account{}) {
			err = acc.Delete([]byte(u.MUID))
		} else {
			err = acc.Put([]byte(u.MUID), encodeAccount(u.Prev))
		}
		if err != nil {
			return err
		}
	}
	txs, hist := tx.Bucket(bucketTxs), tx.Bucket(bucketHist)
	for i, t := range b.Transfers {
		id := t.ID()
		if err := txs.Delete(id[:]); err != nil {
			return err
		}
		if err := hist.Delete(histKey(t.sender, h, i)); err != nil {
			return err
		}
		if err := hist.Delete(histKey(t.To, h, i)); err != nil {
			return err
		}
	}
	for _, bk := range [][]byte{bucketBlocks, bucketHashes, bucketUndo} {
		if err := tx.Bucket(bk).Delete(key); err != nil {
			return err
		}
	}
	return nil
}

// undoAt returns the undo record and the block of height h.
func (s *store) undoAt(h uint64) ([]undoEntry, *Block, error) {
	var undo []undoEntry
	var b *Block
	err := s.db.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket(bucketBlocks).Get(u64(h))
		ur := tx.Bucket(bucketUndo).Get(u64(h))
		if raw == nil || ur == nil {
			return fmt.Errorf("%w: block %d has no undo record", ErrCorrupt, h)
		}
		var err error
		if b, err = DecodeBlock(raw); err != nil {
			return fmt.Errorf("%w: stored block %d: %w", ErrCorrupt, h, err)
		}
		undo, err = decodeUndo(ur)
		return err
	})
	return undo, b, err
}

// blocksRaw returns the stored JSON of up to count blocks from height
// from, stopping before maxBytes.
func (s *store) blocksRaw(from uint64, count, maxBytes int) ([][]byte, error) {
	var out [][]byte
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketBlocks).Cursor()
		size := 0
		want := from
		for k, v := c.Seek(u64(from)); k != nil && len(out) < count; k, v = c.Next() {
			if binary.BigEndian.Uint64(k) != want {
				break
			}
			if size+len(v) > maxBytes && len(out) > 0 {
				break
			}
			size += len(v) + 1
			out = append(out, bytes.Clone(v))
			want++
		}
		return nil
	})
	return out, err
}

// block returns the stored block of height h ≥ 1.
func (s *store) block(h uint64) (*Block, error) {
	raws, err := s.blocksRaw(h, 1, MaxBlockBytes)
	if err != nil {
		return nil, err
	}
	if len(raws) == 0 {
		return nil, fmt.Errorf("%w: block %d", ErrNotFound, h)
	}
	return DecodeBlock(raws[0])
}

// hashes returns the block hashes of heights from.., at most count.
func (s *store) hashes(from uint64, count int) ([]Hash, error) {
	var out []Hash
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketHashes).Cursor()
		want := from
		for k, v := c.Seek(u64(from)); k != nil && len(out) < count; k, v = c.Next() {
			if binary.BigEndian.Uint64(k) != want || len(v) != 32 {
				break
			}
			out = append(out, Hash(v))
			want++
		}
		return nil
	})
	return out, err
}

// txPlace returns where transfer id was applied.
func (s *store) txPlace(id Hash) (height uint64, index int, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketTxs).Get(id[:])
		if v == nil {
			return nil
		}
		if len(v) < 20 {
			return fmt.Errorf("%w: transfer record", ErrCorrupt)
		}
		height, index, ok = binary.BigEndian.Uint64(v), int(binary.BigEndian.Uint32(v[8:])), true
		return nil
	})
	return height, index, ok, err
}

// history returns up to limit entries of muid strictly before the cursor
// (nil: from the newest), newest first, and whether more follow.
func (s *store) history(muid string, before *Cursor, limit int) ([]*HistoryEntry, bool, error) {
	var out []*HistoryEntry
	more := false
	prefix := histPrefix(muid)
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketHist).Cursor()
		txs := tx.Bucket(bucketTxs)
		var k, v []byte
		if before == nil {
			// the last key with the prefix: seek past it, step back
			end := append(bytes.Clone(prefix), bytes.Repeat([]byte{0xff}, 12)...)
			if k, _ = c.Seek(end); k == nil {
				k, v = c.Last()
			} else {
				k, v = c.Prev()
			}
		} else {
			if k, _ = c.Seek(histKey(muid, before.Height, before.Index)); k == nil {
				k, v = c.Last()
			} else {
				k, v = c.Prev()
			}
		}
		for ; k != nil && bytes.HasPrefix(k, prefix) && len(k) == len(prefix)+12; k, v = c.Prev() {
			if len(out) == limit {
				more = true
				return nil
			}
			if len(v) != 40 {
				return fmt.Errorf("%w: history record", ErrCorrupt)
			}
			rec := txs.Get(v[:32])
			if len(rec) < 20 {
				return fmt.Errorf("%w: history points at a missing transfer", ErrCorrupt)
			}
			var t Transfer
			if err := json.Unmarshal(rec[20:], &t); err != nil {
				return fmt.Errorf("%w: stored transfer: %w", ErrCorrupt, err)
			}
			if err := t.check(); err != nil {
				return fmt.Errorf("%w: stored transfer: %w", ErrCorrupt, err)
			}
			out = append(out, &HistoryEntry{
				Height:   binary.BigEndian.Uint64(rec),
				Index:    int(binary.BigEndian.Uint32(rec[8:])),
				Time:     int64(binary.BigEndian.Uint64(rec[12:])),
				Balance:  Amount(binary.BigEndian.Uint64(v[32:])),
				Transfer: &t,
			})
		}
		return nil
	})
	return out, more, err
}

func paidKey(holder string, shard Hash, window uint64) []byte {
	b := append([]byte(holder), 0)
	b = append(b, shard[:]...)
	return binary.BigEndian.AppendUint64(b, window)
}

// isPaid reports whether a storage window was paid.
func (s *store) isPaid(key []byte) bool {
	paid := false
	s.db.View(func(tx *bolt.Tx) error {
		paid = tx.Bucket(bucketPaid).Get(key) != nil
		return nil
	})
	return paid
}

// markPaid records storage windows as paid and reports, per key, whether
// it was not paid before.
func (s *store) markPaid(keys [][]byte) ([]bool, error) {
	fresh := make([]bool, len(keys))
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPaid)
		for i, k := range keys {
			if b.Get(k) != nil {
				continue
			}
			if err := b.Put(k, []byte{}); err != nil {
				return err
			}
			fresh[i] = true
		}
		return nil
	})
	return fresh, err
}
