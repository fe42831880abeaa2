package mail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/borgios/borghui/internal/seglog"
)

// fakeCell is a Deliverer that stores envelopes by id the way a cell does
// (a second delivery of an id is a no-op) and counts every call.
type fakeCell struct {
	mu         sync.Mutex
	calls      map[MsgID]int    // Deliver calls per id
	stored     map[MsgID][]byte // what is stored, once per id
	storeCount map[MsgID]int    // how many times an id was newly stored
	delivered  map[MsgID]bool   // acknowledged by the recipient
	failNext   int              // transient failures still to serve
	refuse     error            // a permanent refusal for every call
}

func newFakeCell() *fakeCell {
	return &fakeCell{calls: map[MsgID]int{}, stored: map[MsgID][]byte{}, storeCount: map[MsgID]int{}, delivered: map[MsgID]bool{}}
}

func (f *fakeCell) Deliver(_ context.Context, env *Envelope) (*DeliverResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[env.ID]++
	if f.refuse != nil {
		return nil, f.refuse
	}
	if f.failNext > 0 {
		f.failNext--
		return nil, fmt.Errorf("%w: cell unreachable", ErrNoNode)
	}
	if f.delivered[env.ID] {
		return &DeliverResponse{ID: env.ID, State: CellDelivered, Target: 3}, nil
	}
	if old, ok := f.stored[env.ID]; ok {
		if !bytes.Equal(old, env.Sealed) {
			return nil, ErrConflict
		}
	} else {
		f.stored[env.ID] = bytes.Clone(env.Sealed)
		f.storeCount[env.ID]++
	}
	return &DeliverResponse{ID: env.ID, State: CellStored, Copies: 3, Target: 3}, nil
}

func (f *fakeCell) Status(_ context.Context, _ string, ids []MsgID) (map[MsgID]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[MsgID]string{}
	for _, id := range ids {
		switch {
		case f.delivered[id]:
			out[id] = CellDelivered
		case f.stored[id] != nil:
			out[id] = CellStored
		default:
			out[id] = CellUnknown
		}
	}
	return out, nil
}

func (f *fakeCell) count(id MsgID) (calls, stores int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[id], f.storeCount[id]
}

// sealedPair seals a letter to bob and alice's Sent copy.
func sealedPair(t testing.TB, alice, bob Identity, subject string) (*Envelope, *Envelope) {
	t.Helper()
	bobLT, _ := LongTermKey(bob)
	aliceLT, _ := LongTermKey(alice)
	m := newMessage(t, alice, muidOf(t, bob), subject, "body of "+subject)
	return mustSeal(t, m, m.To, bobLT.PublicKey().Bytes(), LongTerm),
		mustSeal(t, m, m.FromMUID, aliceLT.PublicKey().Bytes(), LongTerm)
}

func fastOutbox() OutboxConfig {
	return OutboxConfig{BackoffMin: 5 * time.Millisecond, BackoffMax: 40 * time.Millisecond, StatusEvery: 10 * time.Millisecond}
}

func TestOutboxRetriesWithBackoff(t *testing.T) {
	alice, bob := newIdentity(t), newIdentity(t)
	cell := newFakeCell()
	cell.failNext = 4
	var mu sync.Mutex
	var states []State
	cfg := fastOutbox()
	cfg.OnState = func(_ MsgID, st State) { mu.Lock(); states = append(states, st); mu.Unlock() }
	o, err := OpenOutbox(filepath.Join(t.TempDir(), "outbox.journal"), cell, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	env, sent := sealedPair(t, alice, bob, "retry")
	start := time.Now()
	st, err := o.Send(testCtx(t, 10*time.Second), env, sent)
	if err != nil || st != StateSent {
		t.Fatalf("Send: %v %v", st, err)
	}
	// 5+10+20+40 ms of backoff at least (less 20 % jitter).
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Fatalf("no backoff: %v", d)
	}
	if calls, stores := cell.count(env.ID); calls != 5 || stores != 1 {
		t.Fatalf("calls %d, stores %d", calls, stores)
	}
	it, _ := o.Item(env.ID)
	if it.Copies != 3 || it.Attempts != 5 {
		t.Fatalf("item %+v", it)
	}
	cell.mu.Lock()
	cell.delivered[env.ID] = true
	cell.mu.Unlock()
	if n, err := o.Refresh(context.Background()); n != 1 || err != nil {
		t.Fatal(n, err)
	}
	if it, _ := o.Item(env.ID); it.State != StateDelivered {
		t.Fatalf("state %v", it.State)
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(states) != "[queued sent delivered]" {
		t.Fatalf("states %v", states)
	}
}

func TestOutboxQueuedWhenContextEnds(t *testing.T) {
	alice, bob := newIdentity(t), newIdentity(t)
	cell := newFakeCell()
	cell.failNext = 1 << 30
	path := filepath.Join(t.TempDir(), "outbox.journal")
	o, err := OpenOutbox(path, cell, fastOutbox())
	if err != nil {
		t.Fatal(err)
	}
	env, sent := sealedPair(t, alice, bob, "offline")
	st, err := o.Send(testCtx(t, 100*time.Millisecond), env, sent)
	if st != StateQueued || err == nil {
		t.Fatalf("Send offline: %v %v", st, err)
	}
	o.Close()
	// Back online: Run delivers it after a restart.
	cell.mu.Lock()
	cell.failNext = 0
	cell.mu.Unlock()
	o, err = OpenOutbox(path, cell, fastOutbox())
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { o.Run(ctx); close(done) }()
	waitFor(t, "the queued message to be sent", 10*time.Second, func() bool {
		it, _ := o.Item(env.ID)
		return it.State == StateSent
	})
	cancel()
	<-done
	if _, stores := cell.count(env.ID); stores != 1 {
		t.Fatalf("stored %d times", stores)
	}
}

func TestOutboxPermanentRefusal(t *testing.T) {
	alice, bob := newIdentity(t), newIdentity(t)
	cell := newFakeCell()
	cell.refuse = fmt.Errorf("%w: no", ErrTooLarge)
	o, err := OpenOutbox(filepath.Join(t.TempDir(), "outbox.journal"), cell, fastOutbox())
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	env, sent := sealedPair(t, alice, bob, "refused")
	st, err := o.Send(context.Background(), env, sent)
	if st != StateFailed || !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Send: %v %v", st, err)
	}
	if calls, _ := cell.count(env.ID); calls != 1 {
		t.Fatalf("a permanent refusal was retried: %d calls", calls)
	}
}

// TestOutboxCrashResume kills the outbox at each step of a send (by
// cutting the journal where the crash would have left it), reopens it and
// sends: every message reaches the cell exactly once.
func TestOutboxCrashResume(t *testing.T) {
	alice, bob := newIdentity(t), newIdentity(t)
	cases := []struct {
		name string
		// cut returns the journal length a crash leaves, given the lengths
		// of the queued line and of the sent line of a complete send.
		cut func(queued, sent int) int
		// cellHad: the cell stored the message before the crash.
		cellHad   bool
		wantItem  bool
		wantState State
	}{
		{"torn queued line", func(q, _ int) int { return q / 2 }, false, false, ""},
		{"queued, crash before delivery", func(q, _ int) int { return q }, false, true, StateSent},
		{"delivered, crash before the sent line", func(q, _ int) int { return q }, true, true, StateSent},
		{"delivered, torn sent line", func(q, s int) int { return q + s/2 }, true, true, StateSent},
		{"sent line complete", func(q, s int) int { return q + s }, true, true, StateSent},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "outbox.journal")
			ref := newFakeCell() // the run before the crash
			o, err := OpenOutbox(path, ref, fastOutbox())
			if err != nil {
				t.Fatal(err)
			}
			env, sent := sealedPair(t, alice, bob, tc.name)
			if err := o.Queue(env, sent); err != nil {
				t.Fatal(err)
			}
			fi, _ := os.Stat(path)
			queued := int(fi.Size())
			if st, err := o.Deliver(context.Background(), env.ID); err != nil || st != StateSent {
				t.Fatal(st, err)
			}
			fi, _ = os.Stat(path)
			sentLine := int(fi.Size()) - queued
			o.Close()
			if err := os.Truncate(path, int64(tc.cut(queued, sentLine))); err != nil {
				t.Fatal(err)
			}

			cell := newFakeCell()
			if tc.cellHad {
				cell.stored[env.ID] = bytes.Clone(env.Sealed)
				cell.storeCount[env.ID] = 1
			}
			o, err = OpenOutbox(path, cell, fastOutbox())
			if err != nil {
				t.Fatal(err)
			}
			defer o.Close()
			it, ok := o.Item(env.ID)
			if ok != tc.wantItem {
				t.Fatalf("item after reopen: %v", ok)
			}
			o.Flush(context.Background())
			o.Flush(context.Background())
			calls, stores := cell.count(env.ID)
			switch {
			case !tc.wantItem:
				if calls != 0 || len(o.Items()) != 0 {
					t.Fatalf("a message never queued was sent: %d calls", calls)
				}
				o.Close()
				if _, recs, err := seglog.Open(path); err != nil || len(recs) != 0 {
					t.Fatalf("the torn line reads back: %d records, %v", len(recs), err)
				}
				return
			case stores != 1:
				t.Fatalf("stored %d times (calls %d)", stores, calls)
			}
			if it, _ = o.Item(env.ID); it.State != tc.wantState {
				t.Fatalf("state %v", it.State)
			}
			if it.SentCopy == nil || !bytes.Equal(it.SentCopy.Sealed, sent.Sealed) {
				t.Fatal("the sent copy did not survive")
			}
			// The journal is whole again: reopening replays the same state
			// and sends nothing more.
			o.Close()
			o2, err := OpenOutbox(path, cell, fastOutbox())
			if err != nil {
				t.Fatal(err)
			}
			defer o2.Close()
			o2.Flush(context.Background())
			if it, _ := o2.Item(env.ID); it.State != StateSent {
				t.Fatalf("state after a clean reopen: %v", it.State)
			}
			if c2, s2 := cell.count(env.ID); c2 != calls || s2 != 1 {
				t.Fatalf("re-sent after a clean reopen: calls %d→%d", calls, c2)
			}
		})
	}
}

func TestOutboxCompaction(t *testing.T) {
	alice, bob := newIdentity(t), newIdentity(t)
	cell := newFakeCell()
	path := filepath.Join(t.TempDir(), "outbox.journal")
	o, err := OpenOutbox(path, cell, fastOutbox())
	if err != nil {
		t.Fatal(err)
	}
	var ids []MsgID
	for i := range 3 {
		env, sent := sealedPair(t, alice, bob, fmt.Sprint("m", i))
		if _, err := o.Send(context.Background(), env, sent); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, env.ID)
	}
	cell.mu.Lock()
	cell.delivered[ids[0]] = true
	cell.mu.Unlock()
	if n, _ := o.Refresh(context.Background()); n != 1 {
		t.Fatal(n)
	}
	o.Close()
	o, err = OpenOutbox(path, cell, fastOutbox())
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if _, ok := o.Item(ids[0]); ok || len(o.Items()) != 2 {
		t.Fatalf("delivered message kept: %d items", len(o.Items()))
	}
	// Queuing an id again is a no-op.
	env, _ := sealedPair(t, alice, bob, "again")
	env.ID = ids[1]
	if err := o.Queue(env, nil); err != nil {
		t.Fatal(err)
	}
	if len(o.Items()) != 2 {
		t.Fatal("queued twice")
	}
}

func TestOutboxConcurrentSends(t *testing.T) {
	alice, bob := newIdentity(t), newIdentity(t)
	cell := newFakeCell()
	cell.failNext = 5
	o, err := OpenOutbox(filepath.Join(t.TempDir(), "outbox.journal"), cell, fastOutbox())
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go o.Run(ctx)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			env, sent := sealedPair(t, alice, bob, fmt.Sprint("c", i))
			if st, err := o.Send(testCtx(t, 10*time.Second), env, sent); st != StateSent {
				t.Errorf("send %d: %v %v", i, st, err)
			}
		}()
	}
	wg.Wait()
	cell.mu.Lock()
	defer cell.mu.Unlock()
	for id, n := range cell.storeCount {
		if n != 1 {
			t.Fatalf("%s stored %d times", id, n)
		}
	}
	if len(cell.storeCount) != 8 {
		t.Fatalf("%d stored", len(cell.storeCount))
	}
}

// TestOutboxRedeliver: messages stored by one set of cells (the solo
// network) go out again through another (the real network) after
// Redeliver, once; delivered messages are left alone, and the requeue
// survives a reopen.
func TestOutboxRedeliver(t *testing.T) {
	alice, bob := newIdentity(t), newIdentity(t)
	path := filepath.Join(t.TempDir(), "outbox.journal")
	solo := newFakeCell()
	o, err := OpenOutbox(path, solo, fastOutbox())
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := sealedPair(t, alice, bob, "stored on the solo cells")
	fetched, _ := sealedPair(t, alice, bob, "fetched already")
	for _, env := range []*Envelope{stored, fetched} {
		if st, err := o.Send(context.Background(), env, nil); err != nil || st != StateSent {
			t.Fatal(st, err)
		}
	}
	solo.delivered[fetched.ID] = true
	if n, err := o.Refresh(context.Background()); err != nil || n != 1 {
		t.Fatalf("refresh: %d %v", n, err)
	}
	o.Close()

	// The network: the outbox reopened over other cells.
	network := newFakeCell()
	o, err = OpenOutbox(path, network, fastOutbox())
	if err != nil {
		t.Fatal(err)
	}
	n, err := o.Redeliver()
	if err != nil || n != 1 {
		t.Fatalf("Redeliver: %d %v, want 1", n, err)
	}
	if it, _ := o.Item(stored.ID); it.State != StateQueued {
		t.Fatalf("after Redeliver: %s, want queued", it.State)
	}
	o.Close()
	o, err = OpenOutbox(path, network, fastOutbox())
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if it, _ := o.Item(stored.ID); it.State != StateQueued {
		t.Fatalf("after a reopen: %s, want queued", it.State)
	}
	if got := o.Flush(context.Background()); got != 1 {
		t.Fatalf("Flush stored %d, want 1", got)
	}
	if n, _ := o.Redeliver(); n != 1 {
		t.Fatalf("a second Redeliver requeued %d, want 1 (the network's copy is still unfetched)", n)
	}
	o.Flush(context.Background())
	if _, stores := network.count(stored.ID); stores != 1 {
		t.Fatalf("the network stored the message %d times, want 1", stores)
	}
	if calls, _ := network.count(fetched.ID); calls != 0 {
		t.Fatalf("a message already fetched was sent again (%d calls)", calls)
	}
}
