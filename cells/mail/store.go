package mail

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/borgios/borghui/internal/boltdb"
	"github.com/borgios/borghui/internal/dirs"
)

// Buckets of a node's database (mail.db in its data folder).
//
//	cards:  muid                          → Card (wire JSON)
//	nicks:  lower(nick) ‖ 0x00 ‖ muid     → (empty): the nickname index
//	taken:  muid ‖ 0x00 ‖ prekey id(8)    → ms handed out (8 BE)
//	msgs:   mbox(32) ‖ id(16)             → stored message (frame: meta JSON ‖ sealed)
//	ids:    id(16)                        → mbox(32) ‖ SHA-256(sealed)(32)
//	tombs:  id(16)                        → mbox(32) ‖ ms(8 BE) ‖ state(1: 1 delivered, 2 expired)
//	usage:  mbox(32)                      → messages(8 BE) ‖ bytes(8 BE)
//
// mbox is SHA-256 of the mailbox MUID (fixed length, so a mailbox's
// messages are one key range in id order).
var (
	bucketCards = []byte("cards")
	bucketNicks = []byte("nicks")
	bucketTaken = []byte("taken")
	bucketMsgs  = []byte("msgs")
	bucketIDs   = []byte("ids")
	bucketTombs = []byte("tombs")
	bucketUsage = []byte("usage")
)

const (
	tombDelivered = 1
	tombExpired   = 2
)

// storedMeta is the JSON header of a stored message.
type storedMeta struct {
	Header
	Holders []string `json:"holders"`
	At      int64    `json:"at"` // ms this node stored it
}

// store is the node's bbolt database. bbolt runs one write transaction at
// a time, which makes each take, put and ack atomic.
type store struct {
	db       *bolt.DB
	maxCount uint64
	maxBytes uint64
}

func openStore(dir string, maxCount int, maxBytes int64) (*store, error) {
	if err := dirs.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("mail: data folder: %w", err)
	}
	db, err := boltdb.Open(filepath.Join(dir, "mail.db"), 2*time.Second)
	if err != nil {
		return nil, fmt.Errorf("mail: opening database: %w", err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketCards, bucketNicks, bucketTaken, bucketMsgs, bucketIDs, bucketTombs, bucketUsage} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("mail: preparing database: %w", err)
	}
	return &store{db: db, maxCount: uint64(maxCount), maxBytes: uint64(maxBytes)}, nil
}

func (s *store) close() error { return s.db.Close() }

func mboxOf(muid string) [32]byte { return sha256.Sum256([]byte("BorgIOS/v1/mail-mailbox\n" + muid)) }

func msgKey(mbox [32]byte, id MsgID) []byte {
	return append(append(make([]byte, 0, 48), mbox[:]...), id[:]...)
}

func nickKey(nick, muid string) []byte {
	return append(append([]byte(strings.ToLower(nick)), 0), muid...)
}

func takenPrefix(muid string) []byte { return append([]byte(muid), 0) }

func takenKey(muid string, id PrekeyID) []byte { return append(takenPrefix(muid), id[:]...) }

func loadCard(b []byte) (*Card, error) {
	var c Card
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("mail: stored card: %w", err)
	}
	return &c, nil
}

// putCard stores c (already verified) if it is newer than the current card
// of its address; otherwise it returns ok=false and the current card.
// Handed-out marks of prekeys the new card no longer lists are dropped;
// those of prekeys it still lists stay (a prekey is handed out once, ever).
func (s *store) putCard(c *Card) (ok bool, cur *Card, err error) {
	enc := c.appendJSON(nil, true)
	err = s.db.Update(func(tx *bolt.Tx) error {
		cards, nicks, taken := tx.Bucket(bucketCards), tx.Bucket(bucketNicks), tx.Bucket(bucketTaken)
		if v := cards.Get([]byte(c.MUID)); v != nil {
			old, err := loadCard(v)
			if err != nil {
				return err
			}
			if old.Hash() == c.Hash() {
				ok = true
				return nil
			}
			if !Newer(c, old) || c.Version == old.Version {
				cur = old
				return nil
			}
			if err := nicks.Delete(nickKey(old.Nick, old.MUID)); err != nil {
				return err
			}
		}
		var stale [][]byte
		p := takenPrefix(c.MUID)
		cu := taken.Cursor()
		for k, _ := cu.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = cu.Next() {
			if len(k) == len(p)+8 {
				var id PrekeyID
				copy(id[:], k[len(p):])
				if _, listed := c.Prekey(id); listed {
					continue
				}
			}
			stale = append(stale, slices.Clone(k))
		}
		for _, k := range stale {
			if err := taken.Delete(k); err != nil {
				return err
			}
		}
		if err := cards.Put([]byte(c.MUID), enc); err != nil {
			return err
		}
		ok = true
		return nicks.Put(nickKey(c.Nick, c.MUID), nil)
	})
	return ok, cur, err
}

// card returns the card of muid (nil if none) and the ids of its prekeys
// not yet handed out, in card order.
func (s *store) card(muid string) (*Card, []PrekeyID, error) {
	var c *Card
	left := []PrekeyID{}
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketCards).Get([]byte(muid))
		if v == nil {
			return nil
		}
		var err error
		if c, err = loadCard(v); err != nil {
			return err
		}
		taken := tx.Bucket(bucketTaken)
		for _, p := range c.Prekeys {
			if taken.Get(takenKey(muid, p.ID)) == nil {
				left = append(left, p.ID)
			}
		}
		return nil
	})
	return c, left, err
}

// search returns up to limit cards: the card of q when q is a MUID held
// here, else cards whose nickname starts with q (case-insensitive), in
// nickname order.
func (s *store) search(q string, limit int) ([]*Card, error) {
	out := []*Card{}
	err := s.db.View(func(tx *bolt.Tx) error {
		cards := tx.Bucket(bucketCards)
		if CheckMUID(q) == nil {
			if v := cards.Get([]byte(q)); v != nil {
				c, err := loadCard(v)
				if err != nil {
					return err
				}
				out = append(out, c)
			}
			return nil
		}
		p := []byte(strings.ToLower(q))
		c := tx.Bucket(bucketNicks).Cursor()
		for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p) && len(out) < limit; k, _ = c.Next() {
			i := bytes.IndexByte(k, 0)
			if i < 0 {
				continue
			}
			if v := cards.Get(k[i+1:]); v != nil {
				cd, err := loadCard(v)
				if err != nil {
					return err
				}
				out = append(out, cd)
			}
		}
		return nil
	})
	return out, err
}

// take marks the first prekey of muid's card not marked yet and returns
// it; key is LongTerm when none is left. card is nil when the node holds
// no card for muid. Prekeys are tried in card order, those whose index is
// slot modulo slots first (slots ≤ 1: plain card order), so home cells
// taking at once start from different prekeys.
func (s *store) take(muid string, now time.Time, slot, slots int) (card *Card, key KeyID, err error) {
	err = s.db.Update(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketCards).Get([]byte(muid))
		if v == nil {
			return nil
		}
		var err error
		if card, err = loadCard(v); err != nil {
			return err
		}
		key = LongTerm
		taken := tx.Bucket(bucketTaken)
		order := make([]Prekey, 0, len(card.Prekeys))
		for pass := range 2 {
			for i, p := range card.Prekeys {
				if mine := slots <= 1 || i%slots == slot; mine == (pass == 0) {
					order = append(order, p)
				}
			}
		}
		for _, p := range order {
			k := takenKey(muid, p.ID)
			if taken.Get(k) == nil {
				key = PrekeyKeyID(p.ID)
				return taken.Put(k, binary.BigEndian.AppendUint64(nil, uint64(now.UnixMilli())))
			}
		}
		return nil
	})
	return card, key, err
}

// dropPrekeys marks ids of muid's card as handed out (another holder
// handed them out). It returns how many were newly marked.
func (s *store) dropPrekeys(muid string, ids []PrekeyID, now time.Time) (int, error) {
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		taken := tx.Bucket(bucketTaken)
		for _, id := range ids {
			k := takenKey(muid, id)
			if taken.Get(k) != nil {
				continue
			}
			if err := taken.Put(k, binary.BigEndian.AppendUint64(nil, uint64(now.UnixMilli()))); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

func loadMeta(v []byte) (*storedMeta, []byte, error) {
	hb, raw, err := splitFrame(v)
	if err != nil {
		return nil, nil, fmt.Errorf("mail: stored message: %w", err)
	}
	var m storedMeta
	if err := json.Unmarshal(hb, &m); err != nil {
		return nil, nil, fmt.Errorf("mail: stored message: %w", err)
	}
	return &m, raw, nil
}

// put stores env (idempotent by id). state is CellStored (now held, or
// held already with the same bytes) or CellDelivered (acknowledged
// before: nothing is stored again). added reports a new copy. The same id
// with other bytes is ErrConflict; a mailbox over its limits is
// ErrMailboxFull.
func (s *store) put(env *Envelope, holders []string, self string, now time.Time) (state string, added bool, err error) {
	mbox := mboxOf(env.To)
	sum := sha256.Sum256(env.Sealed)
	err = s.db.Update(func(tx *bolt.Tx) error {
		if t := tx.Bucket(bucketTombs).Get(env.ID[:]); t != nil {
			if !bytes.Equal(t[:32], mbox[:]) {
				return fmt.Errorf("%w: %s", ErrConflict, env.ID)
			}
			state = CellDelivered
			if len(t) > 40 && t[40] == tombExpired {
				state = CellExpired
			}
			return nil
		}
		ids := tx.Bucket(bucketIDs)
		if v := ids.Get(env.ID[:]); v != nil {
			if !bytes.Equal(v[:32], mbox[:]) || !bytes.Equal(v[32:], sum[:]) {
				return fmt.Errorf("%w: %s", ErrConflict, env.ID)
			}
			state = CellStored
			return addHolders(tx, mbox, env.ID, holders, self)
		}
		usage := tx.Bucket(bucketUsage)
		var count, size uint64
		if u := usage.Get(mbox[:]); len(u) == 16 {
			count, size = binary.BigEndian.Uint64(u), binary.BigEndian.Uint64(u[8:])
		}
		if count+1 > s.maxCount || size+uint64(len(env.Sealed)) > s.maxBytes {
			return fmt.Errorf("%w: %s holds %d messages, %d bytes", ErrMailboxFull, env.To, count, size)
		}
		meta := storedMeta{Header: env.Header(), Holders: others(holders, self), At: now.UnixMilli()}
		if err := tx.Bucket(bucketMsgs).Put(msgKey(mbox, env.ID), encodeFrame(mustJSON(meta), env.Sealed)); err != nil {
			return err
		}
		if err := ids.Put(env.ID[:], append(append([]byte(nil), mbox[:]...), sum[:]...)); err != nil {
			return err
		}
		u := binary.BigEndian.AppendUint64(nil, count+1)
		if err := usage.Put(mbox[:], binary.BigEndian.AppendUint64(u, size+uint64(len(env.Sealed)))); err != nil {
			return err
		}
		state, added = CellStored, true
		return nil
	})
	return state, added, err
}

func others(holders []string, self string) []string {
	out := []string{}
	for _, h := range holders {
		if h != self && !slices.Contains(out, h) && len(out) < MaxHolders {
			out = append(out, h)
		}
	}
	return out
}

// addHolders records more holders of a stored message.
func addHolders(tx *bolt.Tx, mbox [32]byte, id MsgID, holders []string, self string) error {
	msgs := tx.Bucket(bucketMsgs)
	k := msgKey(mbox, id)
	v := msgs.Get(k)
	if v == nil {
		return nil
	}
	m, raw, err := loadMeta(v)
	if err != nil {
		return err
	}
	n := len(m.Holders)
	m.Holders = others(append(m.Holders, holders...), self)
	if len(m.Holders) == n {
		return nil
	}
	return msgs.Put(k, encodeFrame(mustJSON(m), raw))
}

// setHolders records the holders of a stored message (after placing it).
func (s *store) setHolders(env *Envelope, holders []string, self string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		return addHolders(tx, mboxOf(env.To), env.ID, holders, self)
	})
}

// list returns up to limit headers of mailbox muid after id after, and
// whether more follow.
func (s *store) list(muid string, after MsgID, limit int) ([]Header, bool, error) {
	mbox := mboxOf(muid)
	out := []Header{}
	more := false
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketMsgs).Cursor()
		start := msgKey(mbox, after)
		k, v := c.Seek(start)
		if k != nil && bytes.Equal(k, start) {
			k, v = c.Next()
		}
		for ; k != nil && bytes.HasPrefix(k, mbox[:]); k, v = c.Next() {
			if len(out) == limit {
				more = true
				return nil
			}
			m, _, err := loadMeta(v)
			if err != nil {
				return err
			}
			out = append(out, m.Header)
		}
		return nil
	})
	return out, more, err
}

// fetch returns the envelopes of ids held in mailbox muid, in the order
// asked, stopping before MaxFetchBytes (at least one is returned).
func (s *store) fetch(muid string, ids []MsgID) ([]*Envelope, error) {
	mbox := mboxOf(muid)
	var out []*Envelope
	total := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		msgs := tx.Bucket(bucketMsgs)
		for _, id := range ids {
			v := msgs.Get(msgKey(mbox, id))
			if v == nil {
				continue
			}
			m, raw, err := loadMeta(v)
			if err != nil {
				return err
			}
			if len(out) > 0 && total+len(raw) > MaxFetchBytes {
				return nil
			}
			total += len(raw)
			out = append(out, &Envelope{ID: m.ID, To: m.To, Key: m.Key, Time: m.Time, Sealed: slices.Clone(raw)})
		}
		return nil
	})
	return out, err
}

// ack deletes ids from mailbox muid and remembers them as delivered. It
// returns how many it held and the other holders it knew of them.
func (s *store) ack(muid string, ids []MsgID, now time.Time) (int, []string, error) {
	mbox := mboxOf(muid)
	n := 0
	var holders []string
	err := s.db.Update(func(tx *bolt.Tx) error {
		tombs := tx.Bucket(bucketTombs)
		for _, id := range ids {
			if v := tx.Bucket(bucketIDs).Get(id[:]); v != nil && !bytes.Equal(v[:32], mbox[:]) {
				continue // another mailbox's message: not this owner's to delete
			}
			if t := tombs.Get(id[:]); t != nil && !bytes.Equal(t[:32], mbox[:]) {
				continue
			}
			hs, held, err := remove(tx, mbox, id)
			if err != nil {
				return err
			}
			if held {
				n++
				for _, h := range hs {
					if !slices.Contains(holders, h) {
						holders = append(holders, h)
					}
				}
			}
			t := binary.BigEndian.AppendUint64(append([]byte(nil), mbox[:]...), uint64(now.UnixMilli()))
			if err := tombs.Put(id[:], append(t, tombDelivered)); err != nil {
				return err
			}
		}
		return nil
	})
	return n, holders, err
}

// remove deletes one stored message and its accounting.
func remove(tx *bolt.Tx, mbox [32]byte, id MsgID) ([]string, bool, error) {
	msgs := tx.Bucket(bucketMsgs)
	k := msgKey(mbox, id)
	v := msgs.Get(k)
	if v == nil {
		return nil, false, nil
	}
	m, raw, err := loadMeta(v)
	if err != nil {
		return nil, false, err
	}
	if err := msgs.Delete(k); err != nil {
		return nil, false, err
	}
	if err := tx.Bucket(bucketIDs).Delete(id[:]); err != nil {
		return nil, false, err
	}
	usage := tx.Bucket(bucketUsage)
	if u := usage.Get(mbox[:]); len(u) == 16 {
		count, size := binary.BigEndian.Uint64(u), binary.BigEndian.Uint64(u[8:])
		count, size = count-min(count, 1), size-min(size, uint64(len(raw)))
		if count == 0 {
			err = usage.Delete(mbox[:])
		} else {
			err = usage.Put(mbox[:], binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, count), size))
		}
	}
	return m.Holders, true, err
}

// status returns the state of each id on this node.
func (s *store) status(ids []MsgID) ([]IDState, error) {
	out := make([]IDState, 0, len(ids))
	err := s.db.View(func(tx *bolt.Tx) error {
		for _, id := range ids {
			st := CellUnknown
			if tx.Bucket(bucketIDs).Get(id[:]) != nil {
				st = CellStored
			} else if t := tx.Bucket(bucketTombs).Get(id[:]); t != nil {
				st = CellDelivered
				if len(t) > 40 && t[40] == tombExpired {
					st = CellExpired
				}
			}
			out = append(out, IDState{ID: id, State: st})
		}
		return nil
	})
	return out, err
}

// has reports whether the node stores message id.
func (s *store) has(id MsgID) bool {
	held := false
	s.db.View(func(tx *bolt.Tx) error {
		held = tx.Bucket(bucketIDs).Get(id[:]) != nil
		return nil
	})
	return held
}

// gc drops messages stored before maxAge ago (remembered as expired) and
// tombstones older than tombTTL. It returns the messages dropped.
func (s *store) gc(now time.Time, maxAge, tombTTL time.Duration) (int, error) {
	expired := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		type victim struct {
			mbox [32]byte
			id   MsgID
		}
		var old []victim
		c := tx.Bucket(bucketMsgs).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			m, _, err := loadMeta(v)
			if err != nil || len(k) != 48 {
				continue
			}
			if now.Sub(time.UnixMilli(m.At)) > maxAge {
				var vi victim
				copy(vi.mbox[:], k[:32])
				copy(vi.id[:], k[32:])
				old = append(old, vi)
			}
		}
		tombs := tx.Bucket(bucketTombs)
		for _, vi := range old {
			if _, _, err := remove(tx, vi.mbox, vi.id); err != nil {
				return err
			}
			t := binary.BigEndian.AppendUint64(append([]byte(nil), vi.mbox[:]...), uint64(now.UnixMilli()))
			if err := tombs.Put(vi.id[:], append(t, tombExpired)); err != nil {
				return err
			}
			expired++
		}
		var dead [][]byte
		tc := tombs.Cursor()
		for k, v := tc.First(); k != nil; k, v = tc.Next() {
			if len(v) >= 40 && now.Sub(time.UnixMilli(int64(binary.BigEndian.Uint64(v[32:40])))) > tombTTL {
				dead = append(dead, slices.Clone(k))
			}
		}
		for _, k := range dead {
			if err := tombs.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	return expired, err
}
