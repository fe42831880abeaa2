package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/borgios/borghui/signer"
)

// chain is a test chain built without a network.
type chain struct {
	st  *state
	tip tip
}

func newChain(t testing.TB, network signer.Key) *chain {
	t.Helper()
	nk, _ := PubKeyOf(network.PublicKey())
	g, err := Genesis(nk)
	if err != nil {
		t.Fatal(err)
	}
	st := newState()
	st.set(muidOf(t, network), Account{Balance: GenesisSupply})
	return &chain{st: st, tip: tip{Hash: g.Hash(), State: g.State}}
}

// makeBlock signs a block of ts on top of c with the state they lead to
// (transfers that do not apply are left out of the state, not the block);
// mutate changes the block before it is signed.
func (c *chain) makeBlock(t testing.TB, producer signer.Key, ts []*Transfer, mutate func(*Block)) *Block {
	t.Helper()
	o := newOverlay(c.st)
	pm := muidOf(t, producer)
	for _, tr := range ts {
		o.apply(tr, pm)
	}
	st, _, _ := o.digest()
	b := &Block{Height: c.tip.Height + 1, Prev: c.tip.Hash, Time: c.tip.Time + 1, State: st, Transfers: ts}
	if mutate != nil {
		mutate(b)
	}
	if err := b.sign(producer, b.IDs()); err != nil {
		t.Fatal(err)
	}
	return b
}

// add validates and applies b.
func (c *chain) add(t testing.TB, b *Block) *appliedBlock {
	t.Helper()
	ab, o, err := validateBlock(c.st, c.tip, b, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	o.merge()
	c.tip = ab.tip
	return ab
}

func pay(t testing.TB, from signer.Key, to string, amount Amount, seq uint64) *Transfer {
	t.Helper()
	tr, err := NewTransfer(from, to, uint64(amount), 0, seq, time.UnixMilli(1700000000000), "")
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestBlockValidation(t *testing.T) {
	netKey, producer, alice := newKey(t), newKey(t), newKey(t)
	c := newChain(t, netKey)
	c.add(t, c.makeBlock(t, producer, []*Transfer{pay(t, netKey, muidOf(t, alice), Shells(10), 1)}, nil))
	good := func() []*Transfer {
		return []*Transfer{pay(t, alice, muidB, Shells(1), 1), pay(t, netKey, muidB, Shells(2), 2)}
	}
	tests := []struct {
		name string
		b    func() *Block
		err  error
	}{
		{"valid", func() *Block { return c.makeBlock(t, producer, good(), nil) }, nil},
		{"bad prev", func() *Block {
			return c.makeBlock(t, producer, good(), func(b *Block) { b.Prev[0] ^= 1 })
		}, ErrInvalid},
		{"bad height", func() *Block {
			return c.makeBlock(t, producer, good(), func(b *Block) { b.Height++ })
		}, ErrInvalid},
		{"older than its parent", func() *Block {
			return c.makeBlock(t, producer, good(), func(b *Block) { b.Time = 0 })
		}, ErrInvalid},
		{"bad state hash", func() *Block {
			return c.makeBlock(t, producer, good(), func(b *Block) { b.State[5] ^= 1 })
		}, ErrInvalid},
		{"bad producer signature", func() *Block {
			b := c.makeBlock(t, producer, good(), nil)
			b.Producer, _ = PubKeyOf(newKey(t).PublicKey())
			return b
		}, ErrBadSignature},
		{"signature over another block", func() *Block {
			b := c.makeBlock(t, producer, good(), nil)
			b.Time++
			return b
		}, ErrBadSignature},
		{"transfer tampered after signing", func() *Block {
			ts := good()
			b := c.makeBlock(t, producer, ts, nil)
			ts[0].Amount++
			b.sign(producer, b.IDs()) // the producer signs it, the sender did not
			return b
		}, ErrBadSignature},
		{"overdraft inside", func() *Block {
			return c.makeBlock(t, producer, []*Transfer{pay(t, alice, muidB, Shells(11), 1)}, nil)
		}, ErrInvalid},
		{"wrong seq inside", func() *Block {
			return c.makeBlock(t, producer, []*Transfer{pay(t, alice, muidB, Shells(1), 2)}, nil)
		}, ErrInvalid},
		{"replayed transfer", func() *Block {
			return c.makeBlock(t, producer, []*Transfer{pay(t, netKey, muidOf(t, alice), Shells(10), 1)}, nil)
		}, ErrInvalid},
		{"same seq twice inside", func() *Block {
			return c.makeBlock(t, producer, []*Transfer{pay(t, alice, muidB, Shells(1), 1), pay(t, alice, muidB, Shells(2), 1)}, nil)
		}, ErrInvalid},
		{"same transfer twice inside", func() *Block {
			tr := pay(t, alice, muidB, Shells(1), 1)
			return c.makeBlock(t, producer, []*Transfer{tr, tr}, nil)
		}, ErrMalformed},
		{"empty", func() *Block { return c.makeBlock(t, producer, nil, nil) }, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.b()
			_, _, err := validateBlock(c.st, c.tip, b, true, nil)
			if tc.err == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
		})
	}
	// The chain itself was not touched by the refused blocks.
	if _, total, _ := c.st.digest(); total != GenesisSupply {
		t.Fatal("supply changed")
	}
}

func TestBlockRoundTrip(t *testing.T) {
	netKey, producer := newKey(t), newKey(t)
	c := newChain(t, netKey)
	b := c.makeBlock(t, producer, []*Transfer{pay(t, netKey, muidB, Shells(3), 1)}, nil)
	raw, err := b.Encode()
	if err != nil {
		t.Fatal(err)
	}
	b2, err := DecodeBlock(raw)
	if err != nil {
		t.Fatal(err)
	}
	if b2.Hash() != b.Hash() {
		t.Fatal("hash changed through the wire form")
	}
	if err := b2.VerifySignatures(); err != nil {
		t.Fatal(err)
	}
	raw2, _ := b2.Encode()
	if string(raw) != string(raw2) {
		t.Fatal("re-encoding changed the bytes")
	}
	// a high-S transfer signature gives the same block hash (ids skip signatures)
	b2.Transfers[0].Sig = highS(t, b2.Transfers[0].Sig)
	if b2.Hash() != b.Hash() || b2.VerifySignatures() != nil {
		t.Fatal("high-S transfer signature changed or broke the block")
	}
}

func TestStateHashDeterminism(t *testing.T) {
	accts := map[string]Account{
		muidB:                                {Balance: 7, Seq: 0},
		muidA:                                {Balance: Shells(2), Seq: 3},
		"1BoatSLRHtKNngkdXEeobR76b53LETtpyT": {Balance: 0, Seq: 9},
	}
	// by hand: sorted by MUID bytes: "12oA…" < "1B1x…" < "1Boa…"
	h := sha256.New()
	h.Write([]byte("BorgIOS/v1/ledger-state\n"))
	for _, m := range []string{muidA, muidB, "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"} {
		a := accts[m]
		h.Write([]byte{byte(len(m))})
		h.Write([]byte(m))
		h.Write(binary.BigEndian.AppendUint64(nil, uint64(a.Balance)))
		h.Write(binary.BigEndian.AppendUint64(nil, a.Seq))
	}
	var want Hash
	h.Sum(want[:0])
	for range 20 { // map order varies between runs
		if got := StateHash(accts); got != want {
			t.Fatalf("state hash %s, want %s", got, want)
		}
	}
	// the same accounts reached in different orders hash the same
	s1, s2 := newState(), newState()
	for _, m := range []string{muidA, muidB, "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"} {
		s1.set(m, accts[m])
	}
	for _, m := range []string{"1BoatSLRHtKNngkdXEeobR76b53LETtpyT", muidB, muidA} {
		s2.set(m, accts[m])
	}
	h1, _, _ := s1.digest()
	h2, _, _ := s2.digest()
	if h1 != want || h2 != want {
		t.Fatal("insertion order changed the hash")
	}
	// an overlay's digest equals the digest of the merged state
	o := newOverlay(s1)
	o.put("1111111111111111111114oLvT2", Account{Balance: 1})
	o.put(muidA, Account{Balance: Shells(2) - 1, Seq: 4})
	oh, _, _ := o.digest()
	o.merge()
	mh, _, _ := s1.digest()
	if oh != mh {
		t.Fatal("overlay digest differs from the merged state's")
	}
	// genesis depends on the network key only
	k1, k2 := newKey(t), newKey(t)
	p1, _ := PubKeyOf(k1.PublicKey())
	p2, _ := PubKeyOf(k2.PublicKey())
	g1, _ := Genesis(p1)
	g1b, _ := Genesis(p1)
	g2, _ := Genesis(p2)
	if g1.Hash() != g1b.Hash() || g1.Hash() == g2.Hash() {
		t.Fatal("genesis is not a function of the network key")
	}
}

func TestUndoRoundTrip(t *testing.T) {
	us := []undoEntry{{MUID: muidA, Prev: Account{Balance: 5, Seq: 2}}, {MUID: muidB}}
	got, err := decodeUndo(encodeUndo(us))
	if err != nil || len(got) != 2 || got[0] != us[0] || got[1] != us[1] {
		t.Fatalf("%v %v", got, err)
	}
	if _, err := decodeUndo(encodeUndo(us)[:10]); !errors.Is(err, ErrCorrupt) {
		t.Fatal("truncated undo accepted")
	}
}
