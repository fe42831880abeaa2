package ledger

import (
	"context"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/borgios/borghui/peer/transport"
	"github.com/borgios/borghui/signer"
)

// waitApplied waits until every live node has applied transfer id.
func (tn *testNet) waitApplied(t *testing.T, ids ...Hash) {
	t.Helper()
	waitFor(t, "transfers applied on every node", slow(30*time.Second), func() bool {
		for _, n := range tn.live() {
			for _, id := range ids {
				if st, err := n.srv.status(id); err != nil || st.Status != StatusApplied {
					return false
				}
			}
		}
		return true
	})
}

func TestClientQueries(t *testing.T) {
	if testing.Short() {
		t.Skip("a 3-node network")
	}
	// blocks travel as tips: members fetch them with ledger.blocks
	tn := startNetWith(t, 3, func(c *Config) { c.maxBroadcast = 1 })
	ctx := context.Background()
	alice, bob := newKey(t), newKey(t)
	ma, mb := muidOf(t, alice), muidOf(t, bob)
	tn.fund(t, []signer.Key{alice}, Shells(100))
	c := tn.live()[1].client
	var ids []Hash
	for seq := uint64(1); seq <= 5; seq++ {
		tr, err := NewTransfer(alice, mb, uint64(Shells(seq)), 1_000_000, seq, time.Now(), "rent")
		if err != nil {
			t.Fatal(err)
		}
		st, err := c.Submit(ctx, tr)
		if err != nil || st.Status != StatusPending {
			t.Fatalf("submit: %+v %v", st, err)
		}
		ids = append(ids, tr.ID())
	}
	tn.waitApplied(t, ids...)

	bal, err := c.Balance(ctx, ma)
	if err != nil {
		t.Fatal(err)
	}
	if want := Shells(100) - Shells(15) - 5*1_000_000; bal.Balance != want || bal.Seq != 5 || bal.Height < 2 {
		t.Fatalf("alice: %+v, want balance %s", bal, want)
	}
	if b, _ := c.Balance(ctx, muidA); b.Balance != 0 || b.Seq != 0 {
		t.Fatalf("an unknown account: %+v", b)
	}
	st, err := c.State(ctx)
	if err != nil || st.Supply != GenesisSupply || st.Height != bal.Height {
		t.Fatalf("state %+v %v", st, err)
	}

	// bob's history in pages of two, newest first, with his balance after each
	var got []*HistoryEntry
	var before *Cursor
	for pages := 0; ; pages++ {
		h, err := c.History(ctx, mb, before, 2)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, h.Entries...)
		if !h.More {
			if pages != 2 {
				t.Fatalf("%d pages", pages+1)
			}
			break
		}
		before = h.Next()
	}
	if len(got) != 5 {
		t.Fatalf("%d entries", len(got))
	}
	for i, e := range got {
		seq := uint64(5 - i)
		want := Amount(0)
		for k := uint64(1); k <= seq; k++ {
			want += Shells(k)
		}
		if e.Transfer.Seq != seq || e.Balance != want || e.Transfer.ID() != ids[seq-1] {
			t.Fatalf("entry %d: seq %d balance %s, want %d %s", i, e.Transfer.Seq, e.Balance, seq, want)
		}
	}
	if h, err := c.History(ctx, ma, nil, 0); err != nil || len(h.Entries) != 6 || h.More {
		t.Fatalf("alice's history: %d %v", len(h.Entries), err)
	}

	// statuses
	for i, id := range ids {
		s, err := c.Status(ctx, id)
		if err != nil || s.Status != StatusApplied || s.Height < 1 {
			t.Fatalf("status %d: %+v %v", i, s, err)
		}
	}
	if s, err := c.Status(ctx, Hash{1}); err != nil || s.Status != StatusUnknown {
		t.Fatalf("unknown transfer: %+v %v", s, err)
	}

	// refusals
	again, _ := NewTransfer(alice, mb, uint64(Shells(1)), 1_000_000, 1, time.Now(), "rent")
	if s, err := c.Submit(ctx, again); err != nil || s.Status != StatusRejected || s.Reason != ReasonConflict {
		t.Fatalf("a used seq: %+v %v", s, err)
	}
	far, _ := NewTransfer(alice, mb, 1, 0, 6+MaxSeqAhead, time.Now(), "")
	if _, err := c.Submit(ctx, far); !errors.Is(err, ErrBusy) {
		t.Fatalf("a seq far ahead: %v", err)
	}
	over, _ := NewTransfer(alice, mb, uint64(Shells(90)), 0, 6, time.Now(), "")
	if _, err := c.Submit(ctx, over); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the overdraft refused", slow(10*time.Second), func() bool {
		s, err := c.Status(ctx, over.ID())
		return err == nil && s.Status == StatusRejected && s.Reason == ReasonFunds
	})
	dup1, _ := NewTransfer(alice, mb, 7, 0, 6, time.Now(), "one")
	dup2, _ := NewTransfer(alice, mb, 8, 0, 6, time.Now(), "two")
	n0, n2 := tn.live()[0].client, tn.live()[2].client
	if _, err := n0.Submit(ctx, dup1); err != nil {
		t.Fatal(err)
	}
	if _, err := n2.Submit(ctx, dup2); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "one of two transfers with the same seq", slow(10*time.Second), func() bool {
		s1, e1 := n0.Status(ctx, dup1.ID())
		s2, e2 := n2.Status(ctx, dup2.ID())
		if e1 != nil || e2 != nil {
			return false
		}
		one := s1.Status == StatusApplied && s2.Status == StatusRejected && s2.Reason == ReasonConflict
		two := s2.Status == StatusApplied && s1.Status == StatusRejected && s1.Reason == ReasonConflict
		return one || two
	})
	bad := *dup1
	bad.Amount++
	if s, err := c.Submit(ctx, &bad); err != nil || s.Status != StatusRejected || s.Reason != ReasonBadSignature {
		t.Fatalf("a bad signature: %+v %v", s, err)
	}
	raw := ReceptorCaller{C: tn.live()[0].tc}
	for _, body := range []string{`{}`, `{"transfer":null}`, `{"transfer":{"from":"04"}}`, `not json`} {
		if _, err := raw.Call(ctx, TypeSubmit, []byte(body)); !errors.Is(fromRemote(TypeSubmit, err), ErrMalformed) {
			t.Fatalf("%s: %v", body, err)
		}
	}
	for _, n := range tn.live() {
		if err := n.srv.Check(); err != nil {
			t.Fatal(err)
		}
		if st := n.srv.Stats(); st.Applied == 0 || st.Refused != 0 {
			t.Fatalf("stats %+v", st)
		}
	}
}

func TestPayStorage(t *testing.T) {
	if testing.Short() {
		t.Skip("a 2-node network")
	}
	tn := startNet(t, 2)
	payer := tn.live()[1]
	payer.srv.cfg.NetworkSigner = tn.netKey
	h1, h2 := newKey(t), newKey(t)
	content := make([]byte, 1<<20)
	shard := Hash(sha256.Sum256(content))
	var proofs []*Proof
	for _, h := range []signer.Key{h1, h2, h1} { // h1 twice in one window: paid once
		c, _ := NewChallenge(shard, nil)
		p, err := c.Prove(h, content, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Verify(c, content); err != nil {
			t.Fatal(err)
		}
		proofs = append(proofs, p)
	}
	if _, err := tn.live()[0].srv.PayStorage(proofs); !errors.Is(err, ErrInvalid) {
		t.Fatalf("a node without the network key paid: %v", err)
	}
	sts, err := payer.srv.PayStorage(proofs)
	if err != nil || len(sts) != 2 {
		t.Fatalf("%+v %v", sts, err)
	}
	tn.waitApplied(t, sts[0].ID, sts[1].ID)
	const want = 976 // 1 MiB for one hour at 0.001 shells per GiB-hour, floored
	for _, h := range []signer.Key{h1, h2} {
		if got := tn.live()[0].srv.Account(muidOf(t, h)).Balance; got != want {
			t.Fatalf("holder got %d, want %d", got, want)
		}
	}
	if sts, err := payer.srv.PayStorage(proofs); err != nil || len(sts) != 0 {
		t.Fatalf("paid twice: %+v %v", sts, err)
	}
}

// TestRestart closes a node, moves the chain on without it, and reopens it
// on the same folder: it starts from its own chain and catches up.
func TestRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("a 3-node network")
	}
	tn := startNet(t, 3)
	ctx := context.Background()
	alice := newKey(t)
	tn.fund(t, []signer.Key{alice, newKey(t)}, Shells(10))
	var victim *testNode
	for _, n := range tn.live() {
		if n != tn.root() {
			victim = n
		}
	}
	before := victim.srv.Head()
	victim.close()
	var ids []Hash
	for seq := uint64(1); seq <= 4; seq++ {
		tr, _ := NewTransfer(alice, muidB, uint64(Shells(1)), 0, seq, time.Now(), "")
		if _, err := tn.submit(ctx, tr); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, tr.ID())
	}
	tn.waitApplied(t, ids...)
	waitFor(t, "the two survivors to agree", slow(30*time.Second), func() bool { _, ok := tn.converged(); return ok })
	moved, _ := tn.converged()
	if moved.Height <= before.Height {
		t.Fatal("the chain did not move")
	}
	back := tn.add(victim.key, victim.dir)
	if h := back.srv.Head(); h.Height < before.Height {
		t.Fatalf("reopened at height %d, had %d", h.Height, before.Height)
	}
	waitFor(t, "the reopened node to catch up", slow(30*time.Second), func() bool {
		h, ok := tn.converged()
		return ok && h.Height >= moved.Height
	})
	if err := back.srv.Check(); err != nil {
		t.Fatal(err)
	}
	if b := back.srv.Account(muidOf(t, alice)); b.Seq != 4 || b.Balance != Shells(6) {
		t.Fatalf("alice on the reopened node: %+v", b)
	}
}

// TestForkChoice makes two single-node trees of one network order two
// different transfers for the same slot at height 1, then lets each see
// the other: both keep the branch with the lower tip hash, and the losing
// transfer is refused.
func TestForkChoice(t *testing.T) {
	if testing.Short() {
		t.Skip("two nodes")
	}
	a := startNet(t, 1)
	b := &testNet{t: t, netKey: a.netKey, b: a.b, c: a.c, nextIP: 50}
	nb := b.add(newKey(t), t.TempDir())
	na := a.live()[0]
	waitFor(t, "two roots", slow(10*time.Second), func() bool {
		return na.cell.View().Pos == 1 && nb.cell.View().Pos == 1
	})
	ctx := context.Background()
	f, _ := NewTransfer(a.netKey, muidA, uint64(Shells(1)), 0, 1, time.Now(), "a")
	g, _ := NewTransfer(a.netKey, muidB, uint64(Shells(2)), 0, 1, time.Now(), "b")
	if _, err := na.client.Submit(ctx, f); err != nil {
		t.Fatal(err)
	}
	if _, err := nb.client.Submit(ctx, g); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a block on each side", slow(10*time.Second), func() bool {
		return na.srv.Head().Height == 1 && nb.srv.Head().Height == 1
	})
	ha, hb := na.srv.Head(), nb.srv.Head()
	if ha.Hash == hb.Hash {
		t.Fatal("no fork")
	}
	win, lose, winT, loseT := na, nb, f, g
	if better(hb.Height, hb.Hash, ha.Height, ha.Hash) {
		win, lose, winT, loseT = nb, na, g, f
	}
	na.srv.hints <- transport.Peer{ID: transport.NodeID(nb.cell.ID()), Addr: nb.cell.Addr()}
	nb.srv.hints <- transport.Peer{ID: transport.NodeID(na.cell.ID()), Addr: na.cell.Addr()}
	waitFor(t, "both on the winning branch", slow(10*time.Second), func() bool {
		return lose.srv.Head() == win.srv.Head()
	})
	for _, n := range []*testNode{win, lose} {
		s, err := n.client.Status(ctx, winT.ID())
		if err != nil || s.Status != StatusApplied {
			t.Fatalf("winner's transfer: %+v %v", s, err)
		}
		if err := n.srv.Check(); err != nil {
			t.Fatal(err)
		}
	}
	s, err := lose.client.Status(ctx, loseT.ID())
	if err != nil || s.Status != StatusRejected {
		t.Fatalf("loser's transfer on its node: %+v %v", s, err)
	}
	if st := lose.srv.Stats(); st.Reorgs != 1 || st.RolledBack != 1 {
		t.Fatalf("loser stats %+v", st)
	}
	if st := win.srv.Stats(); st.Reorgs != 0 {
		t.Fatalf("winner switched: %+v", st)
	}
}
