package mail

import (
	"errors"
	"testing"
	"time"
)

// TestStoreMessages drives the cell's store through a message's life:
// idempotent puts, conflicts, limits, listing, fetching, acknowledgement,
// tombstones and expiry.
func TestStoreMessages(t *testing.T) {
	alice, bob, carol := newIdentity(t), newIdentity(t), newIdentity(t)
	st, err := openStore(t.TempDir(), 3, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	bobLT, _ := LongTermKey(bob)
	bobMUID, carolMUID := muidOf(t, bob), muidOf(t, carol)
	now := time.Now()
	var envs []*Envelope
	for i := range 4 {
		m := newMessage(t, alice, bobMUID, "s", string(rune('a'+i)))
		envs = append(envs, mustSeal(t, m, bobMUID, bobLT.PublicKey().Bytes(), LongTerm))
	}
	const self = "self"
	steps := []struct {
		name  string
		env   *Envelope
		state string
		added bool
		err   error
	}{
		{"first", envs[0], CellStored, true, nil},
		{"again: no-op", envs[0], CellStored, false, nil},
		{"second", envs[1], CellStored, true, nil},
		{"third", envs[2], CellStored, true, nil},
		{"over the limit", envs[3], "", false, ErrMailboxFull},
	}
	for _, s := range steps {
		state, added, err := st.put(s.env, nil, self, now)
		if state != s.state || added != s.added || !errors.Is(err, s.err) && !(err == nil && s.err == nil) {
			t.Fatalf("%s: %q %v %v", s.name, state, added, err)
		}
	}
	// Same id, other bytes; same id, other mailbox.
	other := *envs[0]
	other.Sealed = append([]byte(nil), envs[0].Sealed...)
	other.Sealed[100] ^= 1
	if _, _, err := st.put(&other, nil, self, now); !errors.Is(err, ErrConflict) {
		t.Fatalf("conflict: %v", err)
	}
	moved := *envs[0]
	moved.To = carolMUID
	if _, _, err := st.put(&moved, nil, self, now); !errors.Is(err, ErrConflict) {
		t.Fatalf("moved: %v", err)
	}
	// Listing pages in id order.
	items, more, err := st.list(bobMUID, MsgID{}, 2)
	if err != nil || len(items) != 2 || !more {
		t.Fatalf("list: %v %v %v", items, more, err)
	}
	rest, more, _ := st.list(bobMUID, items[1].ID, 2)
	if len(rest) != 1 || more {
		t.Fatalf("page 2: %v %v", rest, more)
	}
	if l, _, _ := st.list(carolMUID, MsgID{}, 10); len(l) != 0 {
		t.Fatal("carol's mailbox lists bob's mail")
	}
	got, err := st.fetch(bobMUID, []MsgID{envs[3].ID, envs[1].ID, envs[0].ID})
	if err != nil || len(got) != 2 || got[0].ID != envs[1].ID || string(got[1].Sealed) != string(envs[0].Sealed) {
		t.Fatalf("fetch: %v %v", got, err)
	}
	if got, _ := st.fetch(carolMUID, []MsgID{envs[0].ID}); len(got) != 0 {
		t.Fatal("fetched through another mailbox")
	}
	// Carol's ack of bob's ids deletes nothing.
	if n, _, _ := st.ack(carolMUID, []MsgID{envs[0].ID}, now); n != 0 || !st.has(envs[0].ID) {
		t.Fatal("another mailbox's ack deleted mail")
	}
	n, _, err := st.ack(bobMUID, []MsgID{envs[0].ID, envs[3].ID}, now)
	if err != nil || n != 1 || st.has(envs[0].ID) {
		t.Fatalf("ack: %d %v", n, err)
	}
	states, _ := st.status([]MsgID{envs[0].ID, envs[1].ID, envs[3].ID, {7}})
	want := []string{CellDelivered, CellStored, CellDelivered, CellUnknown}
	for i, s := range states {
		if s.State != want[i] {
			t.Fatalf("status %d: %s, want %s", i, s.State, want[i])
		}
	}
	// A late delivery of an acknowledged id is not stored again; room was made.
	if state, added, err := st.put(envs[0], nil, self, now); state != CellDelivered || added || err != nil {
		t.Fatalf("late: %s %v %v", state, added, err)
	}
	if state, _, err := st.put(envs[3], nil, self, now); state != CellDelivered || err != nil {
		t.Fatalf("acked before stored: %s %v", state, err)
	}
	// Expiry: unread mail goes after MaxAge and says so; tombstones after TTL.
	expired, err := st.gc(now.Add(2*time.Hour), time.Hour, 24*time.Hour)
	if err != nil || expired != 2 {
		t.Fatalf("gc: %d %v", expired, err)
	}
	states, _ = st.status([]MsgID{envs[1].ID, envs[0].ID})
	if states[0].State != CellExpired || states[1].State != CellDelivered {
		t.Fatalf("after gc: %v", states)
	}
	if _, err := st.gc(now.Add(48*time.Hour), time.Hour, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	states, _ = st.status([]MsgID{envs[1].ID, envs[0].ID})
	if states[0].State != CellUnknown || states[1].State != CellUnknown {
		t.Fatalf("after the tombstone TTL: %v", states)
	}
	if l, _, _ := st.list(bobMUID, MsgID{}, 10); len(l) != 0 {
		t.Fatalf("left after gc: %v", l)
	}
}
