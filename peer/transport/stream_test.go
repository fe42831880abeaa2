package transport

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

func TestStreams(t *testing.T) {
	leakCheck(t)
	a := newNode(t, nil)
	b := newNode(t, nil)
	from := make(chan NodeID, 1)
	b.HandleStream("bulk.v1", func(id NodeID, c net.Conn) {
		from <- id
		io.Copy(c, c)
	})
	blocked := make(chan struct{})
	b.HandleStream("hang", func(id NodeID, c net.Conn) {
		close(blocked)
		io.Copy(io.Discard, c) // until Close aborts it
	})
	to := Peer{ID: b.ID(), Addr: b.Addr()}
	s, err := a.DialStream(ctxT(t, 5*time.Second), to, "bulk.v1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(s, buf); err != nil || string(buf) != "hello" {
		t.Fatalf("echo %q %v", buf, err)
	}
	if id := <-from; id != a.ID() {
		t.Fatalf("stream from %s", id.Short())
	}
	s.Close()

	if _, err := a.DialStream(ctxT(t, 5*time.Second), to, "nope"); !errors.Is(err, ErrRefused) {
		t.Fatalf("unknown stream: %v", err)
	}
	if _, err := a.DialStream(ctxT(t, 5*time.Second), Peer{ID: b.ID(), Addr: RelayPrefix + string(a.ID())}, "bulk.v1"); err != nil {
		t.Fatalf("stream to a known address: %v", err) // the address is known from b's card
	}
	if _, err := a.DialStream(ctxT(t, 5*time.Second), to, "hang"); err != nil {
		t.Fatal(err)
	}
	<-blocked
	wantCounters(t, "a", a, map[string]uint64{CountStreamOut: 3, CountRefused: 1, CountConnOut: 0})
	wantCounters(t, "b", b, map[string]uint64{CountStreamIn: 3, CountRefused: 1, CountConnIn: 0})
	// Closing b ends its stream handlers; closing a ends its open streams.
}
