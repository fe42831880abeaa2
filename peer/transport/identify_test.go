package transport

import (
	"context"
	"testing"
	"time"
)

func TestIdentify(t *testing.T) {
	leakCheck(t)
	a := newNode(t, nil)
	b := newNode(t, nil)
	if err := b.HandleMessage("test.one", echo); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	id, err := a.Identify(ctx, b.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if id != b.ID() {
		t.Fatalf("Identify = %s, want %s", id.Short(), b.ID().Short())
	}
	// The connection is reused for the messages that follow.
	before := a.Counters()[CountConnOut]
	if err := a.Send(ctx, Peer{ID: id}, "test.one", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if after := a.Counters()[CountConnOut]; after != before {
		t.Fatalf("a second connection was dialled (%d → %d)", before, after)
	}
	if _, err := a.Identify(ctx, "127.0.0.1:1"); err == nil {
		t.Fatal("identified a closed port")
	}
}

func TestCardOf(t *testing.T) {
	leakCheck(t)
	a := newNode(t, nil)
	b := newNode(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, ok := a.CardOf(b.ID()); ok {
		t.Fatal("a card of a node never met")
	}
	if _, err := a.Identify(ctx, b.Addr()); err != nil {
		t.Fatal(err)
	}
	card, ok := a.CardOf(b.ID())
	if !ok || card.ID() != b.ID() || card.Verify(time.Now()) != nil {
		t.Fatalf("card of a met node: %v %v", ok, card.Verify(time.Now()))
	}
}
