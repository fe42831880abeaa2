package mail

import (
	"crypto/hpke"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/borgios/borghui/internal/dirs"
)

// Prekey store file: sealed (see sealFile) with magic "BMPK", label
// "BorgIOS/v1/mail-prekeys", key DeriveKey(LabelPrekeys, "v1", 32 bytes).
// Plaintext: count uint32 ‖ count × (id(8) ‖ created ms int64(8) ‖
// private key(32)), sorted by id.
const (
	prekeyMagic = "BMPK"
	prekeyLabel = "BorgIOS/v1/mail-prekeys"
	prekeyEntry = 8 + 8 + HPKEPrivateKeyLen
	// maxStoredPrekeys bounds the prekeys one store holds.
	maxStoredPrekeys = 4096
)

// PrekeyStore keeps the private halves of one-time prekeys, on the stick,
// in one encrypted file whose key is derived from the identity (so only
// this identity opens it). Every change rewrites the file atomically (temp
// file, fsync, rename, folder fsync): Destroy really removes the private
// key from the file — the new file is written under a fresh nonce without
// it, and replaces the old one. It is safe for concurrent use.
//
// Forward secrecy rests on Destroy: once a prekey's message is stored, its
// private half is gone, and a captured ciphertext can no longer be opened
// even with the words. (A copy of the file taken before, plus the words,
// still opens it; the file never leaves the stick.)
type PrekeyStore struct {
	path string

	mu     sync.Mutex
	key    []byte // file key; nil when closed
	keys   map[PrekeyID]*storedPrekey
	closed bool
}

type storedPrekey struct {
	priv    []byte // HPKEPrivateKeyLen bytes
	created int64  // ms
}

// OpenPrekeyStore opens (or, on the first write, creates) the prekey store
// at path for identity d.
func OpenPrekeyStore(path string, d Deriver) (*PrekeyStore, error) {
	key := make([]byte, 32)
	if err := d.DeriveKey(LabelPrekeys, []byte("v1"), key); err != nil {
		return nil, fmt.Errorf("mail: prekey store key: %w", err)
	}
	s := &PrekeyStore{path: path, key: key, keys: map[PrekeyID]*storedPrekey{}}
	if err := dirs.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		clear(key)
		return nil, fmt.Errorf("mail: prekey store: %w", err)
	}
	removeTemps(filepath.Dir(path))
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		clear(key)
		return nil, fmt.Errorf("mail: prekey store: %w", err)
	}
	plain, err := openFile(key, prekeyMagic, prekeyLabel, b)
	if err != nil {
		clear(key)
		return nil, fmt.Errorf("mail: prekey store %s: %w", path, err)
	}
	defer clear(plain)
	if err := s.parse(plain); err != nil {
		s.Close()
		return nil, fmt.Errorf("mail: prekey store %s: %w", path, err)
	}
	return s, nil
}

func (s *PrekeyStore) parse(p []byte) error {
	if len(p) < 4 {
		return fmt.Errorf("%w: prekey store too short", ErrMalformed)
	}
	n := binary.BigEndian.Uint32(p)
	if n > maxStoredPrekeys || uint64(len(p)-4) != uint64(n)*prekeyEntry {
		return fmt.Errorf("%w: prekey store length", ErrMalformed)
	}
	for i := range int(n) {
		e := p[4+i*prekeyEntry:]
		var id PrekeyID
		copy(id[:], e)
		if _, dup := s.keys[id]; dup {
			return fmt.Errorf("%w: prekey %s stored twice", ErrMalformed, id)
		}
		s.keys[id] = &storedPrekey{
			created: int64(binary.BigEndian.Uint64(e[8:])),
			priv:    append([]byte(nil), e[16:prekeyEntry]...),
		}
	}
	return nil
}

// save writes keys (the store's map after a change) atomically.
func (s *PrekeyStore) save(keys map[PrekeyID]*storedPrekey) error {
	ids := make([]PrekeyID, 0, len(keys))
	for id := range keys {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b PrekeyID) int { return slices.Compare(a[:], b[:]) })
	p := make([]byte, 4, 4+len(ids)*prekeyEntry)
	defer func() { clear(p) }()
	binary.BigEndian.PutUint32(p, uint32(len(ids)))
	for _, id := range ids {
		e := keys[id]
		p = append(p, id[:]...)
		p = binary.BigEndian.AppendUint64(p, uint64(e.created))
		p = append(p, e.priv...)
	}
	b, err := sealFile(s.key, prekeyMagic, prekeyLabel, p)
	if err != nil {
		return fmt.Errorf("mail: prekey store: %w", err)
	}
	if err := writeFileAtomic(s.path, b); err != nil {
		return fmt.Errorf("mail: prekey store: %w", err)
	}
	return nil
}

// Generate makes n fresh random prekey pairs, stores their private halves
// durably and returns their public halves for a card.
func (s *PrekeyStore) Generate(n int, now time.Time) ([]Prekey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if n < 0 || len(s.keys)+n > maxStoredPrekeys {
		return nil, fmt.Errorf("%w: the store would hold more than %d prekeys", ErrMalformed, maxStoredPrekeys)
	}
	next := cloneKeys(s.keys)
	out := make([]Prekey, 0, n)
	for len(out) < n {
		var id PrekeyID
		if _, err := rand.Read(id[:]); err != nil {
			return nil, err
		}
		if _, dup := next[id]; dup {
			continue
		}
		k, err := kem.GenerateKey()
		if err != nil {
			return nil, fmt.Errorf("mail: generating a prekey: %w", err)
		}
		priv, err := k.Bytes()
		if err != nil {
			return nil, fmt.Errorf("mail: generating a prekey: %w", err)
		}
		next[id] = &storedPrekey{priv: priv, created: now.UnixMilli()}
		out = append(out, Prekey{ID: id, Key: k.PublicKey().Bytes()})
	}
	if err := s.save(next); err != nil {
		for _, p := range out {
			clear(next[p.ID].priv)
		}
		return nil, err
	}
	s.keys = next
	return out, nil
}

func cloneKeys(m map[PrekeyID]*storedPrekey) map[PrekeyID]*storedPrekey {
	out := make(map[PrekeyID]*storedPrekey, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Private returns the private key of prekey id; ErrNoKey when the store
// does not hold it (never made here, or destroyed).
func (s *PrekeyStore) Private(id PrekeyID) (hpke.PrivateKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	e, ok := s.keys[id]
	if !ok {
		return nil, fmt.Errorf("%w: prekey %s (consumed and destroyed, or never this store's)", ErrNoKey, id)
	}
	k, err := kem.NewPrivateKey(e.priv)
	if err != nil {
		return nil, fmt.Errorf("%w: prekey %s: %w", ErrMalformed, id, err)
	}
	return k, nil
}

// Public returns the public half of prekey id, as a card lists it.
func (s *PrekeyStore) Public(id PrekeyID) (Prekey, error) {
	k, err := s.Private(id)
	if err != nil {
		return Prekey{}, err
	}
	return Prekey{ID: id, Key: k.PublicKey().Bytes()}, nil
}

// Has reports whether the store holds prekey id.
func (s *PrekeyStore) Has(id PrekeyID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.keys[id]
	return ok
}

// IDs lists the held prekeys, sorted.
func (s *PrekeyStore) IDs() []PrekeyID {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]PrekeyID, 0, len(s.keys))
	for id := range s.keys {
		out = append(out, id)
	}
	slices.SortFunc(out, func(a, b PrekeyID) int { return slices.Compare(a[:], b[:]) })
	return out
}

// Len is the number of held prekeys.
func (s *PrekeyStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.keys)
}

// Destroy removes the private halves of ids from the file (rewritten
// atomically) and wipes them from memory. Unknown ids are ignored. When
// the write fails nothing changes (the keys stay usable) and the error is
// returned.
func (s *PrekeyStore) Destroy(ids ...PrekeyID) error {
	return s.remove(func(id PrekeyID, _ *storedPrekey) bool { return slices.Contains(ids, id) })
}

// Prune destroys every prekey for which drop returns true (e.g. prekeys no
// longer on the card and older than a grace period: taken by a sender who
// never sent). It returns how many went.
func (s *PrekeyStore) Prune(drop func(id PrekeyID, created time.Time) bool) (int, error) {
	n := 0
	err := s.remove(func(id PrekeyID, e *storedPrekey) bool {
		if drop(id, time.UnixMilli(e.created)) {
			n++
			return true
		}
		return false
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

func (s *PrekeyStore) remove(drop func(PrekeyID, *storedPrekey) bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	next := make(map[PrekeyID]*storedPrekey, len(s.keys))
	var gone []*storedPrekey
	for id, e := range s.keys {
		if drop(id, e) {
			gone = append(gone, e)
		} else {
			next[id] = e
		}
	}
	if len(gone) == 0 {
		return nil
	}
	if err := s.save(next); err != nil {
		return err
	}
	for _, e := range gone {
		clear(e.priv)
	}
	s.keys = next
	return nil
}

// Close wipes the store's keys from memory. The file stays.
func (s *PrekeyStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	for _, e := range s.keys {
		clear(e.priv)
	}
	clear(s.key)
	s.keys, s.key, s.closed = nil, nil, true
	return nil
}
