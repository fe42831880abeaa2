package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
)

// Account is one account's state: its balance and the seq of its last
// applied transfer (0 before the first). An account exists once it ever
// held shells; accounts are named by MUID.
type Account struct {
	Balance Amount
	Seq     uint64
}

// state is the set of accounts: a map and its keys in sorted order (the
// order of the state hash).
type state struct {
	acc  map[string]Account
	keys []string // sorted bytewise
}

func newState() *state { return &state{acc: make(map[string]Account)} }

func (s *state) clone() *state {
	c := &state{acc: make(map[string]Account, len(s.acc)), keys: slices.Clone(s.keys)}
	for k, v := range s.acc {
		c.acc[k] = v
	}
	return c
}

// set writes (or, for a zero account, removes) one account.
func (s *state) set(m string, a Account) {
	_, had := s.acc[m]
	if a == (Account{}) {
		if had {
			delete(s.acc, m)
			if i, ok := slices.BinarySearch(s.keys, m); ok {
				s.keys = slices.Delete(s.keys, i, i+1)
			}
		}
		return
	}
	s.acc[m] = a
	if !had {
		i, _ := slices.BinarySearch(s.keys, m)
		s.keys = slices.Insert(s.keys, i, m)
	}
}

// digest computes the state hash and the total of the balances.
func (s *state) digest() (Hash, Amount, error) {
	return hashAccounts(func(yield func(string, Account) bool) {
		for _, k := range s.keys {
			if !yield(k, s.acc[k]) {
				return
			}
		}
	})
}

// StateHash is the hash of a set of accounts: SHA-256 of StateDomain
// followed, for every account in bytewise order of its MUID, by
// len(MUID) (one byte) ‖ MUID ‖ balance (8 bytes, big-endian) ‖ seq (8
// bytes, big-endian). Accounts with zero balance and zero seq do not exist.
func StateHash(accounts map[string]Account) Hash {
	s := newState()
	for k, v := range accounts {
		s.set(k, v)
	}
	h, _, _ := s.digest()
	return h
}

// hashAccounts hashes accounts given in sorted order and sums their
// balances, refusing an overflowing total.
func hashAccounts(each func(yield func(string, Account) bool)) (Hash, Amount, error) {
	h := sha256.New()
	h.Write([]byte(StateDomain))
	var total uint64
	var err error
	buf := make([]byte, 0, 64)
	each(func(m string, a Account) bool {
		if uint64(a.Balance) > math.MaxUint64-total {
			err = fmt.Errorf("%w: the balances overflow", ErrInvalid)
			return false
		}
		total += uint64(a.Balance)
		buf = append(buf[:0], byte(len(m)))
		buf = append(buf, m...)
		buf = binary.BigEndian.AppendUint64(buf, uint64(a.Balance))
		buf = binary.BigEndian.AppendUint64(buf, a.Seq)
		h.Write(buf)
		return true
	})
	var out Hash
	h.Sum(out[:0])
	return out, Amount(total), err
}

// overlay is a set of changes on top of a state: what a block would do,
// before it is known to be valid.
type overlay struct {
	base  *state
	mod   map[string]Account
	fresh []string // keys in mod that base lacks, unsorted
}

func newOverlay(base *state) *overlay {
	return &overlay{base: base, mod: make(map[string]Account)}
}

func (o *overlay) get(m string) Account {
	if a, ok := o.mod[m]; ok {
		return a
	}
	return o.base.acc[m]
}

func (o *overlay) put(m string, a Account) {
	if _, ok := o.mod[m]; !ok {
		if _, inBase := o.base.acc[m]; !inBase {
			o.fresh = append(o.fresh, m)
		}
	}
	o.mod[m] = a
}

// Reasons a transfer does not apply (status reasons; see doc.go).
const (
	ReasonBadSignature = "bad-signature"
	ReasonStaleSeq     = "stale-seq"
	ReasonSeqGap       = "seq-gap"
	ReasonFunds        = "insufficient-funds"
	ReasonOverflow     = "overflow"
	ReasonConflict     = "conflict"
	ReasonExpired      = "expired"
)

// applyError is a transfer that does not apply, with its status reason.
type applyError struct{ reason, detail string }

func (e *applyError) Error() string { return "ledger: invalid: " + e.reason + ": " + e.detail }
func (e *applyError) Is(target error) bool {
	return target == ErrInvalid
}

func reasonOf(err error) string {
	if e, ok := err.(*applyError); ok {
		return e.reason
	}
	return ReasonBadSignature
}

// apply debits the sender amount+fee, credits the recipient the amount
// and producer (a MUID) the fee. t must have passed check. It returns the
// sender's and the recipient's balances afterwards.
func (o *overlay) apply(t *Transfer, producer string) (Amount, Amount, error) {
	from := t.sender
	s := o.get(from)
	switch {
	case t.Seq <= s.Seq:
		return 0, 0, &applyError{ReasonStaleSeq, fmt.Sprintf("seq %d, the account is at %d", t.Seq, s.Seq)}
	case t.Seq != s.Seq+1:
		return 0, 0, &applyError{ReasonSeqGap, fmt.Sprintf("seq %d, the account is at %d", t.Seq, s.Seq)}
	}
	total := uint64(t.Amount) + uint64(t.Fee) // both ≤ GenesisSupply: no overflow
	if total > uint64(s.Balance) {
		return 0, 0, &applyError{ReasonFunds, fmt.Sprintf("needs %s, holds %s", Amount(total), s.Balance)}
	}
	r := o.get(t.To)
	if uint64(r.Balance) > math.MaxUint64-uint64(t.Amount) {
		return 0, 0, &applyError{ReasonOverflow, "the recipient's balance would overflow"}
	}
	if t.Fee > 0 {
		p := o.get(producer)
		if producer != from && uint64(p.Balance) > math.MaxUint64-uint64(t.Fee) {
			return 0, 0, &applyError{ReasonOverflow, "the producer's balance would overflow"}
		}
	}
	s.Balance -= Amount(total)
	s.Seq++
	o.put(from, s)
	r = o.get(t.To)
	r.Balance += t.Amount
	o.put(t.To, r)
	if t.Fee > 0 {
		p := o.get(producer)
		p.Balance += t.Fee
		o.put(producer, p)
	}
	return o.get(from).Balance, o.get(t.To).Balance, nil
}

// digest computes the hash and total of base with the overlay applied.
func (o *overlay) digest() (Hash, Amount, error) {
	fresh := slices.Clone(o.fresh)
	slices.Sort(fresh)
	keys := o.base.keys
	return hashAccounts(func(yield func(string, Account) bool) {
		i, j := 0, 0
		for i < len(keys) || j < len(fresh) {
			var k string
			if j >= len(fresh) || (i < len(keys) && keys[i] < fresh[j]) {
				k = keys[i]
				i++
			} else {
				k = fresh[j]
				j++
			}
			a := o.get(k)
			if a == (Account{}) {
				continue
			}
			if !yield(k, a) {
				return
			}
		}
	})
}

// undoEntry is an account's value before a block: what rolling the block
// back restores (a zero Account: the account did not exist).
type undoEntry struct {
	MUID string
	Prev Account
}

// changes returns the overlay's new values and the undo entries, sorted.
func (o *overlay) changes() (map[string]Account, []undoEntry) {
	undo := make([]undoEntry, 0, len(o.mod))
	for m := range o.mod {
		undo = append(undo, undoEntry{MUID: m, Prev: o.base.acc[m]})
	}
	slices.SortFunc(undo, func(a, b undoEntry) int {
		switch {
		case a.MUID < b.MUID:
			return -1
		case a.MUID > b.MUID:
			return 1
		}
		return 0
	})
	return o.mod, undo
}

// merge writes the overlay into its base.
func (o *overlay) merge() {
	for m, a := range o.mod {
		o.base.set(m, a)
	}
}

func encodeUndo(us []undoEntry) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(us)))
	for _, u := range us {
		b = append(b, byte(len(u.MUID)))
		b = append(b, u.MUID...)
		b = binary.BigEndian.AppendUint64(b, uint64(u.Prev.Balance))
		b = binary.BigEndian.AppendUint64(b, u.Prev.Seq)
	}
	return b
}

func decodeUndo(b []byte) ([]undoEntry, error) {
	bad := fmt.Errorf("%w: undo record", ErrCorrupt)
	if len(b) < 4 {
		return nil, bad
	}
	n := binary.BigEndian.Uint32(b)
	b = b[4:]
	var out []undoEntry
	for range n {
		if len(b) < 1 || len(b) < 1+int(b[0])+16 {
			return nil, bad
		}
		l := int(b[0])
		u := undoEntry{MUID: string(b[1 : 1+l])}
		u.Prev.Balance = Amount(binary.BigEndian.Uint64(b[1+l:]))
		u.Prev.Seq = binary.BigEndian.Uint64(b[9+l:])
		out = append(out, u)
		b = b[17+l:]
	}
	if len(b) != 0 {
		return nil, bad
	}
	return out, nil
}

func encodeAccount(a Account) []byte {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, 16), uint64(a.Balance))
	return binary.BigEndian.AppendUint64(b, a.Seq)
}

func decodeAccount(b []byte) (Account, error) {
	if len(b) != 16 {
		return Account{}, fmt.Errorf("%w: account record", ErrCorrupt)
	}
	return Account{Balance: Amount(binary.BigEndian.Uint64(b)), Seq: binary.BigEndian.Uint64(b[8:])}, nil
}
