package transport

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/borgios/borghui/signer"
)

func TestRelayRoundTrip(t *testing.T) {
	leakCheck(t)
	rKey := newKey(t)
	r := newNode(t, func(c *Config) { c.Key = rKey })
	rAddr := r.Addr()
	resolve := func(id NodeID) (string, bool) { return rAddr, id == r.ID() }
	var mu sync.Mutex
	var lost []NodeID
	a := newNode(t, func(c *Config) {
		c.Resolve = resolve
		c.OnUnreachable = func(id NodeID) { mu.Lock(); lost = append(lost, id); mu.Unlock() }
	})
	n := newNode(t, func(c *Config) { c.ListenAddr = "" })
	if n.Addr() != "" || len(n.Card().Addrs) != 0 {
		t.Fatal("a listener-less node has an address")
	}
	type seen struct{ from, via NodeID }
	got := make(chan seen, 4)
	n.Handle("echo", func(_ context.Context, req *Request) ([]byte, error) {
		got <- seen{req.From, req.Via}
		return append([]byte("n:"), req.Body...), nil
	})
	n.HandleMessage("note", func(_ context.Context, req *Request) ([]byte, error) {
		got <- seen{req.From, req.Via}
		return nil, nil
	})
	if err := n.SetRelay(ctxT(t, 5*time.Second), Peer{ID: r.ID(), Addr: rAddr}); err != nil {
		t.Fatal(err)
	}
	self := n.Self()
	if self.Addr != RelayPrefix+string(r.ID()) {
		t.Fatalf("Self = %+v", self)
	}

	resp, err := a.Request(ctxT(t, 5*time.Second), self, "echo", []byte("hi"))
	if err != nil || string(resp) != "n:hi" {
		t.Fatalf("relayed request: %q %v", resp, err)
	}
	if s := <-got; s.from != a.ID() || s.via != r.ID() {
		t.Fatalf("handler saw from %s via %s", s.from.Short(), s.via.Short())
	}
	if err := a.Send(ctxT(t, 5*time.Second), self, "note", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s.from != a.ID() || s.via != r.ID() {
		t.Fatalf("one-way handler saw from %s via %s", s.from.Short(), s.via.Short())
	}
	// An error response comes back the same way.
	if _, err := a.Request(ctxT(t, 5*time.Second), self, "nope", nil); remoteCode(err) != CodeUnknownType {
		t.Fatalf("unknown type via relay: %v", err)
	}
	wantCounters(t, "r", r, map[string]uint64{CountRelayRegistered: 1, CountRelayForwarded: 5, CountRelayNoTarget: 0})
	wantCounters(t, "n", n, map[string]uint64{CountRelayDelivered: 3, CountConnOut: 1, CountConnIn: 0, CountUnknownType: 1})
	wantCounters(t, "a", a, map[string]uint64{CountRelayDelivered: 2, CountConnOut: 1, CountRespError: 1})

	// A target that is not registered with the relay.
	ghost := IDOf(newKey(t).PublicKey())
	err = a.Send(ctxT(t, 5*time.Second), Peer{ID: ghost, Addr: RelayPrefix + string(r.ID())}, "note", nil)
	if !errors.Is(err, ErrUnreachable) || remoteCode(err) != CodeUnreachable {
		t.Fatalf("Send to an unregistered target: %v", err)
	}
	mu.Lock()
	if len(lost) != 1 || lost[0] != ghost {
		t.Errorf("OnUnreachable calls %v, want [ghost]", lost)
	}
	mu.Unlock()
	wantCounters(t, "r", r, map[string]uint64{CountRelayNoTarget: 1})

	// The relay restarts: the node registers again by itself.
	r.Close()
	r2 := newNode(t, func(c *Config) { c.Key = rKey; c.ListenAddr = rAddr })
	waitCounter(t, r2, CountRelayRegistered, 1)
	waitFor(t, "a to drop the old relay connection", func() bool { return a.best(r.ID()) == nil })
	if resp, err := a.Request(ctxT(t, 5*time.Second), self, "echo", []byte("again")); err != nil || string(resp) != "n:again" {
		t.Fatalf("after the relay restarted: %q %v", resp, err)
	}
	<-got
	wantCounters(t, "r2", r2, map[string]uint64{CountRelayForwarded: 2})
}

func TestRelayAbuse(t *testing.T) {
	leakCheck(t)
	r := newNode(t, nil)
	key := newKey(t)
	rn, _, err := dialRaw(t, r.Addr(), key, mustCert(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	target := newKey(t)
	now := time.Now()
	forward := func(inner *signer.Envelope, innerBody []byte, to signer.Key) (*signer.Envelope, []byte) {
		frame, err := signer.Encode(inner, innerBody)
		if err != nil {
			t.Fatal(err)
		}
		var k [65]byte
		copy(k[:], to.PublicKey())
		body := encodeRelayBody(k, frame)
		return envelope(t, key, TypeRelayForward, r.ID(), now, body), body
	}
	tests := []struct {
		name string
		env  func() (*signer.Envelope, []byte)
		code string
	}{
		{"inner signed by someone else", func() (*signer.Envelope, []byte) {
			return forward(envelope(t, newKey(t), "x", IDOf(target.PublicKey()), now, nil), nil, target)
		}, "unexpected"},
		{"target not registered", func() (*signer.Envelope, []byte) {
			return forward(envelope(t, key, "x", IDOf(target.PublicKey()), now, nil), nil, target)
		}, CodeUnreachable},
		{"garbage body", func() (*signer.Envelope, []byte) {
			body := []byte("short")
			return envelope(t, key, TypeRelayForward, r.ID(), now, body), body
		}, "malformed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env, body := tc.env()
			rn.send(t, env, body)
			if code := rn.readError(t, env); code != tc.code {
				t.Fatalf("code %q, want %q", code, tc.code)
			}
		})
	}
	// A relay.deliver from a node we never used as a relay is dropped.
	var k [65]byte
	copy(k[:], key.PublicKey())
	inner, _ := signer.Encode(envelope(t, key, "x", r.ID(), now, nil), nil)
	body := encodeRelayBody(k, inner)
	rn.send(t, envelope(t, key, TypeRelayDeliver, r.ID(), now, body), body)
	wantCounters(t, "r", r, map[string]uint64{CountRelayBad: 3, CountRelayNoTarget: 1, CountRelayForwarded: 0, CountRelayDelivered: 0, CountErrorSent: 3})

	// A node with relaying off does not know the relay types.
	off := false
	q := newNode(t, func(c *Config) { c.Relay = &off })
	rq, _, err := dialRaw(t, q.Addr(), key, mustCert(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	env := envelope(t, key, TypeRelayRegister, q.ID(), now, nil)
	rq.send(t, env, nil)
	if code := rq.readError(t, env); code != CodeUnknownType {
		t.Fatalf("register with a non-relay: %q", code)
	}
	wantCounters(t, "q", q, map[string]uint64{CountUnknownType: 1, CountRelayRegistered: 0})
}
