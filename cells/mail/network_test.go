package mail

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func openAccount(t *testing.T, tn *testNet, id Identity, nick string, dir string) *Account {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	a, err := OpenAccount(AccountConfig{Identity: id, Dir: dir, Net: tn.multi(t, id), Nick: nick,
		Prekeys: 4, RefillBelow: 2, Outbox: fastOutbox()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// TestNetwork runs a 5-node mail tree (R = 3) on real TLS through the life
// of a letter: cards, search, a forward-secret send, collection,
// acknowledgement and deletion on every holder, delivery status, refusal
// of a stranger, read receipts, prekey replenishment, long-term fallback,
// restore on a new stick and a home cell going down.
func TestNetwork(t *testing.T) {
	tn := startNet(t, 5, Config{Replicas: 3})
	ctx := testCtx(t, 5*time.Minute)
	aliceID, bobID, carolID := newIdentity(t), newIdentity(t), newIdentity(t)
	alice := openAccount(t, tn, aliceID, "Alice", "")
	bobDir := t.TempDir()
	bob := openAccount(t, tn, bobID, "bob", bobDir)

	for _, a := range []*Account{alice, bob} {
		card, err := a.Publish(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if card.Version != 1 || len(card.Prekeys) != 4 {
			t.Fatalf("card %d, %d prekeys", card.Version, len(card.Prekeys))
		}
	}
	net := alice.cfg.Net

	t.Run("cards on the home cells, searchable", func(t *testing.T) {
		info, err := net.Card(ctx, bob.MUID())
		if err != nil || info.Holders < 2 || len(info.Left) != 4 {
			t.Fatalf("card info %+v, %v", info, err)
		}
		for _, q := range []string{"ALI", "alice", "Al"} {
			cs, err := net.Search(ctx, q, 5)
			if err != nil || len(cs) != 1 || cs[0].MUID != alice.MUID() {
				t.Fatalf("search %q: %v %v", q, cs, err)
			}
		}
		cs, err := net.Search(ctx, bob.MUID(), 5)
		if err != nil || len(cs) != 1 || cs[0].Nick != "bob" {
			t.Fatalf("search by MUID: %v %v", cs, err)
		}
		if _, err := net.Card(ctx, muidOf(t, carolID)); !errors.Is(err, ErrNotFound) {
			t.Fatalf("carol has no card: %v", err)
		}
		// Only its owner can publish a card.
		forged, _ := NewCard(bobID, "bob", "", bob.LongTermPublic(), nil, 9, time.Now())
		if _, err := NewClient(callerOf(t, tn, carolID, 0)).PutCard(ctx, forged); !errors.Is(err, ErrForbidden) {
			t.Fatalf("carol publishing bob's card: %v", err)
		}
	})

	var letter *SendResult
	t.Run("send with forward secrecy", func(t *testing.T) {
		var err error
		letter, err = alice.Send(ctx, Draft{To: bob.MUID(), Subject: "lunch?", Body: "At noon.", Attachments: []string{testLink("menu.pdf")}})
		if err != nil || letter.State != StateSent || !letter.ForwardSecret {
			t.Fatalf("send: %+v %v", letter, err)
		}
		it, _ := alice.Outbox().Item(letter.ID)
		if it.Copies != 3 {
			t.Fatalf("%d copies", it.Copies)
		}
		holders := tn.holders(letter.ID)
		if len(holders) != 3 {
			t.Fatalf("%d holders", len(holders))
		}
		// The home cells, unless one was passed over (a loaded machine can
		// make a push time out; the next cell of the order then holds it).
		home := 0
		for _, m := range net.Home(bob.MUID()) {
			if slices.Contains(holders, m.ID) {
				home++
			}
		}
		if home < 2 {
			t.Fatalf("%d home cells hold a copy", home)
		}
		s, err := alice.Mailbox().Get(Sent, letter.ID)
		if err != nil || s.Message.Subject != "lunch?" || s.State != StateSent {
			t.Fatalf("sent copy: %+v %v", s, err)
		}
		// Sending the same envelope again is a no-op on the cells.
		r, err := net.Deliver(ctx, it.Envelope)
		if err != nil || r.State != CellStored || len(tn.holders(letter.ID)) != 3 {
			t.Fatalf("re-delivery: %+v %v", r, err)
		}
		if n, err := alice.Outbox().Refresh(ctx); n != 0 || err != nil {
			t.Fatalf("refresh before fetch: %d %v", n, err)
		}
	})

	t.Run("a stranger cannot read or acknowledge bob's mailbox", func(t *testing.T) {
		carolNet := tn.multi(t, carolID)
		if _, err := carolNet.List(ctx, bob.MUID()); !errors.Is(err, ErrForbidden) {
			t.Fatalf("list: %v", err)
		}
		c := NewClient(callerOf(t, tn, carolID, 0))
		if _, err := c.Fetch(ctx, bob.MUID(), []MsgID{letter.ID}); !errors.Is(err, ErrForbidden) {
			t.Fatalf("fetch: %v", err)
		}
		proof, _ := NewAckProof(carolID, []MsgID{letter.ID}, time.Now())
		proof.MUID = bob.MUID()
		if _, err := c.Ack(ctx, proof); !errors.Is(err, ErrForbidden) {
			t.Fatalf("ack: %v", err)
		}
		if len(tn.holders(letter.ID)) != 3 {
			t.Fatal("a copy went")
		}
	})

	var prekeyUsed PrekeyID
	t.Run("bob fetches, opens, acknowledges", func(t *testing.T) {
		it, _ := alice.Outbox().Item(letter.ID)
		prekeyUsed, _ = it.Envelope.Key.Prekey()
		if !bob.Prekeys().Has(prekeyUsed) {
			t.Fatal("bob does not hold the prekey")
		}
		rep, err := bob.Receive(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.New) != 1 || rep.Acked != 1 || len(rep.Rejected)+len(rep.Unreadable) != 0 {
			t.Fatalf("report %+v", rep)
		}
		got := rep.New[0]
		if got.Message.Subject != "lunch?" || got.Message.FromMUID != alice.MUID() || !got.ForwardSecret ||
			len(got.Message.Attachments) != 1 {
			t.Fatalf("received %+v", got.Message)
		}
		if bob.Prekeys().Has(prekeyUsed) {
			t.Fatal("the consumed prekey was not destroyed")
		}
		waitFor(t, "every holder to delete the letter", 30*time.Second, func() bool { return len(tn.holders(letter.ID)) == 0 })
		if n, err := alice.Outbox().Refresh(ctx); n != 1 || err != nil {
			t.Fatalf("refresh: %d %v", n, err)
		}
		if s, _ := alice.Mailbox().Get(Sent, letter.ID); s.State != StateDelivered {
			t.Fatalf("sent state %v", s.State)
		}
		// Nothing more to collect; a late re-delivery is not stored again.
		if rep, err := bob.Receive(ctx); err != nil || len(rep.New) != 0 {
			t.Fatalf("second receive: %+v %v", rep, err)
		}
		it, _ = alice.Outbox().Item(letter.ID)
		if r, err := net.Deliver(ctx, it.Envelope); err != nil || r.State != CellDelivered || len(tn.holders(letter.ID)) != 0 {
			t.Fatalf("late re-delivery: %+v %v", r, err)
		}
	})

	t.Run("read receipt", func(t *testing.T) {
		if err := bob.MarkRead(ctx, letter.ID, true); err != nil {
			t.Fatal(err)
		}
		rep, err := alice.Receive(ctx)
		if err != nil || len(rep.Receipts) != 1 || rep.Receipts[0] != letter.ID || len(rep.New) != 0 {
			t.Fatalf("alice: %+v %v", rep, err)
		}
		if s, _ := alice.Mailbox().Get(Sent, letter.ID); s.Receipt.IsZero() {
			t.Fatal("no receipt recorded")
		}
	})

	t.Run("prekeys replenished, long-term fallback", func(t *testing.T) {
		// Bob's card has 3 prekeys left. Two letters take two; then a
		// stranger drains the last, and the third letter falls back to the
		// long-term key.
		for i := range 2 {
			r, err := alice.Send(ctx, Draft{To: bob.MUID(), Subject: "n", Body: string(rune('a' + i))})
			if err != nil || !r.ForwardSecret {
				t.Fatalf("send %d: %+v %v", i, r, err)
			}
		}
		carolNet := tn.multi(t, carolID)
		if _, key, err := carolNet.Take(ctx, bob.MUID()); err != nil || key == LongTerm {
			t.Fatalf("drain: %v %v", key, err)
		}
		if _, key, err := carolNet.Take(ctx, bob.MUID()); err != nil || key != LongTerm {
			t.Fatalf("empty: %v %v", key, err)
		}
		r, err := alice.Send(ctx, Draft{To: bob.MUID(), Subject: "no fs", Body: "long-term"})
		if err != nil || r.ForwardSecret {
			t.Fatalf("fallback send: %+v %v", r, err)
		}
		before, _ := net.Card(ctx, bob.MUID())
		rep, err := bob.Receive(ctx)
		if err != nil || len(rep.New) != 3 || !rep.Replenished {
			t.Fatalf("receive: %+v %v", rep, err)
		}
		after, err := net.Card(ctx, bob.MUID())
		// All three home cells normally; a replica push that timed out
		// (a loaded machine) is repaired by the next Receive.
		if err != nil || after.Card.Version <= before.Card.Version || len(after.Left) != 4 || after.Holders < 2 {
			t.Fatalf("card after replenishing: %+v %v", after, err)
		}
		for _, id := range after.Left {
			if !bob.Prekeys().Has(id) {
				t.Fatal("a new prekey's private half is missing")
			}
		}
		fs := 0
		for _, s := range rep.New {
			if s.ForwardSecret {
				fs++
			}
		}
		if fs != 2 {
			t.Fatalf("%d forward-secret letters", fs)
		}
	})

	t.Run("restore on a new stick", func(t *testing.T) {
		// Bob's card now has 4 fresh prekeys whose private halves are on
		// the old stick. A letter to a prekey, and one to the long-term key.
		r1, err := alice.Send(ctx, Draft{To: bob.MUID(), Subject: "prekey", Body: "lost with the stick"})
		if err != nil || !r1.ForwardSecret {
			t.Fatal(r1, err)
		}
		m := newMessage(t, aliceID, bob.MUID(), "long-term", "survives")
		env := mustSeal(t, m, bob.MUID(), bob.LongTermPublic(), LongTerm)
		if _, err := net.Deliver(ctx, env); err != nil {
			t.Fatal(err)
		}
		newStick := openAccount(t, tn, bobID, "bob", t.TempDir())
		rep, err := newStick.Receive(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.New) != 1 || rep.New[0].Message.Body != "survives" || len(rep.Unreadable) != 1 || rep.Unreadable[0].ID != r1.ID {
			t.Fatalf("restored: %+v", rep)
		}
		// Listed again, not fetched again.
		rep, err = newStick.Receive(ctx)
		if err != nil || len(rep.New) != 0 || len(rep.Unreadable) != 1 {
			t.Fatalf("restored, again: %+v %v", rep, err)
		}
		// The old stick still reads it.
		rep, err = bob.Receive(ctx)
		if err != nil || len(rep.New) != 1 || rep.New[0].Message.ID != r1.ID {
			t.Fatalf("old stick: %+v %v", rep, err)
		}
		// The new stick gives up on a letter it cannot read: gone for all.
		r2, err := alice.Send(ctx, Draft{To: bob.MUID(), Subject: "prekey 2", Body: "discarded"})
		if err != nil || !r2.ForwardSecret {
			t.Fatal(r2, err)
		}
		if rep, err := newStick.Receive(ctx); err != nil || len(rep.Unreadable) != 1 || rep.Unreadable[0].ID != r2.ID {
			t.Fatalf("restored, r2: %+v %v", rep, err)
		}
		if err := newStick.Discard(ctx, []MsgID{r2.ID}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the discarded letter to go", 30*time.Second, func() bool { return len(tn.holders(r2.ID)) == 0 })
		if rep, err := bob.Receive(ctx); err != nil || len(rep.New) != 0 {
			t.Fatalf("old stick after discard: %+v %v", rep, err)
		}
	})

	t.Run("large letters page through fetch", func(t *testing.T) {
		big := strings.Repeat("0123456789", 90_000) // 900 kB: four exceed one fetch answer
		var ids []MsgID
		for i := range 4 {
			r, err := alice.Send(ctx, Draft{To: bob.MUID(), Subject: fmt.Sprint("big ", i), Body: big})
			if err != nil || r.State != StateSent {
				t.Fatalf("send %d: %+v %v", i, r, err)
			}
			ids = append(ids, r.ID)
		}
		rep, err := bob.Receive(ctx)
		if err != nil || len(rep.New) != 4 || rep.Acked != 4 {
			t.Fatalf("receive: %+v %v", rep, err)
		}
		for _, s := range rep.New {
			if s.Message.Body != big {
				t.Fatal("body changed")
			}
		}
		for _, id := range ids {
			waitFor(t, "big letters deleted", 30*time.Second, func() bool { return len(tn.holders(id)) == 0 })
		}
	})

	t.Run("a home cell down", func(t *testing.T) {
		home := net.Home(bob.MUID())
		var down int
		for i, s := range tn.servers {
			if s.ID() == home[0].ID {
				down = i
			}
		}
		tn.nodes[down].Close()
		r, err := alice.Send(ctx, Draft{To: bob.MUID(), Subject: "failover", Body: "still arrives"})
		if err != nil || r.State != StateSent {
			t.Fatalf("send: %+v %v", r, err)
		}
		it, _ := alice.Outbox().Item(r.ID)
		if it.Copies < 2 {
			t.Fatalf("%d copies", it.Copies)
		}
		rep, err := bob.Receive(ctx)
		if err != nil || len(rep.New) != 1 || rep.New[0].Message.Subject != "failover" {
			t.Fatalf("receive: %+v %v", rep, err)
		}
	})
}

// callerOf dials server i of tn with key.
func callerOf(t *testing.T, tn *testNet, key Identity, i int) Caller {
	t.Helper()
	pool := NewPool(key)
	t.Cleanup(pool.Close)
	m := tn.servers[i].Members()
	var self Member
	for _, x := range m {
		if x.ID == tn.servers[i].ID() {
			self = x
		}
	}
	c, err := pool.Dial(context.Background(), self)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestPoolRedials: a kept connection that broke (a node closes idle
// connections) costs no failed call: the pool dials again once.
func TestPoolRedials(t *testing.T) {
	tn := startNet(t, 1, Config{Replicas: 1})
	ctx := testCtx(t, time.Minute)
	key := newIdentity(t)
	pool := NewPool(key)
	defer pool.Close()
	m := tn.servers[0].Members()[0]
	for i := range 3 {
		c, err := pool.Dial(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			pool.mu.Lock()
			pool.conns[m.ID].Close() // broken under the pool's feet
			pool.mu.Unlock()
		}
		if _, err := NewClient(c).Members(ctx); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
}

// TestPrekeyTakenOnce: senders racing for one card's prekeys on every
// home cell at once never get the same prekey twice.
func TestPrekeyTakenOnce(t *testing.T) {
	tn := startNet(t, 3, Config{Replicas: 3})
	ctx := testCtx(t, 2*time.Minute)
	bobID := newIdentity(t)
	bob := openAccount(t, tn, bobID, "bob", "")
	card, err := bob.Publish(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	got := map[KeyID]int{}
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := NewClient(callerOf(t, tn, newIdentity(t), i%3))
			_, key, err := c.Take(ctx, bob.MUID())
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			got[key]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	handed := 0
	for key, n := range got {
		if key == LongTerm {
			continue
		}
		handed++
		if n != 1 {
			t.Fatalf("prekey %s handed out %d times", key, n)
		}
		id, _ := key.Prekey()
		if _, ok := card.Prekey(id); !ok {
			t.Fatalf("prekey %s is not on the card", key)
		}
	}
	t.Logf("%d of %d prekeys handed out to 12 racing senders", handed, len(card.Prekeys))
	if handed == 0 || handed > len(card.Prekeys) || got[LongTerm] != 12-handed {
		t.Fatalf("handed %d: %v", handed, got)
	}
}
