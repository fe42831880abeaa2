package transport

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/borgios/borghui/signer"
)

// TestInboundRejected sends crafted messages on an authenticated
// connection; each is answered with an error response and counted, the
// handler never runs, and the connection stays usable.
func TestInboundRejected(t *testing.T) {
	leakCheck(t)
	ran := 0
	var mu sync.Mutex
	b := newNode(t, nil)
	b.Handle("echo", func(ctx context.Context, r *Request) ([]byte, error) {
		mu.Lock()
		ran++
		mu.Unlock()
		return r.Body, nil
	})
	key := newKey(t)
	rn, h, err := dialRaw(t, b.Addr(), key, mustCert(t), nil)
	if err != nil || h.kind != helloAccept {
		t.Fatalf("dial: %q %v", h.kind, err)
	}
	now := time.Now()
	replayed := envelope(t, key, "echo", b.ID(), now, []byte("once"))
	tests := []struct {
		name string
		env  *signer.Envelope
		body []byte
		code string
	}{
		{"valid", envelope(t, key, "echo", b.ID(), now, []byte("hi")), []byte("hi"), ""},
		{"sender differs from the connection", envelope(t, newKey(t), "echo", b.ID(), now, []byte("hi")), []byte("hi"), "unexpected"},
		{"first of a replay", replayed, []byte("once"), ""},
		{"replayed envelope", replayed, []byte("once"), "replay"},
		{"altered body", envelope(t, key, "echo", b.ID(), now, []byte("hi")), []byte("ho"), "body-hash"},
		{"stale timestamp", envelope(t, key, "echo", b.ID(), now.Add(-2*time.Minute), nil), nil, "stale"},
		{"from the future", envelope(t, key, "echo", b.ID(), now.Add(2*time.Minute), nil), nil, "stale"},
		{"wrong recipient", envelope(t, key, "echo", IDOf(key.PublicKey()), now, nil), nil, "unexpected"},
		{"wrong cell", func() *signer.Envelope {
			e := &signer.Envelope{Cell: "mailTreeCell", Type: "echo", Recipient: string(b.ID()), Timestamp: now.UnixMilli()}
			signer.Sign(key, e, nil, nil)
			return e
		}(), nil, "unexpected"},
		{"bad signature", func() *signer.Envelope {
			e := envelope(t, key, "echo", b.ID(), now, nil)
			e.Signature = append([]byte(nil), envelope(t, key, "echo", b.ID(), now, []byte("x")).Signature...)
			return e
		}(), nil, "bad-signature"},
		{"unknown type", envelope(t, key, "nope", b.ID(), now, nil), nil, CodeUnknownType},
		{"valid after all that", envelope(t, key, "echo", b.ID(), now, []byte("again")), []byte("again"), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rn.send(t, tc.env, tc.body)
			if got := rn.readError(t, tc.env); got != tc.code {
				t.Fatalf("code %q, want %q", got, tc.code)
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	if ran != 3 {
		t.Errorf("handler ran %d times, want 3", ran)
	}
	wantCounters(t, "b", b, map[string]uint64{
		CountAccepted:                   4, // 3 echo + the unknown type (authentic, then no handler)
		CountRejected + "unexpected":    3,
		CountRejected + "replay":        1,
		CountRejected + "body-hash":     1,
		CountRejected + "stale":         2,
		CountRejected + "bad-signature": 1,
		CountUnknownType:                1,
		CountErrorSent:                  9,
		CountSent:                       12,
		CountConnClosed:                 0,
		CountFrameBroken:                0,
	})
}

// TestOversizedBody: a frame announcing a body over the limit is answered
// with too-large and the connection is closed without reading the body;
// the node keeps serving others.
func TestOversizedBody(t *testing.T) {
	leakCheck(t)
	b := newNode(t, func(c *Config) { c.MaxBody = 1 << 10 })
	b.Handle("echo", echo)
	key := newKey(t)
	rn, _, err := dialRaw(t, b.Addr(), key, mustCert(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 1<<30) // never sent: only its header is
	env := &signer.Envelope{Cell: testCell, Type: "echo", Recipient: string(b.ID()), Timestamp: time.Now().UnixMilli()}
	if err := signer.SignBodyHash(key, env, signer.Digest{1}, nil); err != nil {
		t.Fatal(err)
	}
	frame, err := signer.Encode(env, nil)
	if err != nil {
		t.Fatal(err)
	}
	binary.BigEndian.PutUint64(frame[len(frame)-8:], uint64(len(big)))
	rn.sendRaw(t, append(frame, big[:4096]...))
	if code := rn.readError(t, env); code != "too-large" {
		t.Fatalf("code %q, want too-large", code)
	}
	if !rn.closed() {
		t.Fatal("connection still open")
	}
	wantCounters(t, "b", b, map[string]uint64{CountRejected + "too-large": 1, CountFrameBroken: 1, CountAccepted: 0})
	waitCounter(t, b, CountConnClosed, 1)

	a := newNode(t, nil)
	if _, err := a.Request(ctxT(t, 5*time.Second), Peer{ID: b.ID(), Addr: b.Addr()}, "echo", []byte("ok")); err != nil {
		t.Fatalf("node stopped serving: %v", err)
	}
	// The sender refuses to send over its own limit.
	if err := a.Send(ctxT(t, time.Second), Peer{ID: b.ID()}, "echo", make([]byte, DefaultMaxBody+1)); !errors.Is(err, signer.ErrTooLarge) {
		t.Fatalf("Send of an oversized body: %v", err)
	}
	wantCounters(t, "b", b, map[string]uint64{CountAccepted: 1})
}

// TestMalformedFrame: bytes that are not a frame close that connection;
// the node keeps serving others.
func TestMalformedFrame(t *testing.T) {
	leakCheck(t)
	b := newNode(t, nil)
	b.Handle("echo", echo)
	tests := []struct {
		name    string
		bytes   []byte
		counter string
	}{
		{"bad magic", []byte("GET / HTTP/1.1\r\n\r\n"), CountRejected + "malformed"},
		{"envelope not canonical", append([]byte("BGE1\x00\x00\x00\x02{}"), make([]byte, 8)...), CountRejected + "malformed"},
		{"envelope too long", []byte("BGE1\x00\x01\x00\x00"), CountRejected + "too-large"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := b.Counters()[tc.counter]
			rn, _, err := dialRaw(t, b.Addr(), newKey(t), mustCert(t), nil)
			if err != nil {
				t.Fatal(err)
			}
			rn.sendRaw(t, tc.bytes)
			if !rn.closed() {
				t.Fatal("connection still open")
			}
			wantCounters(t, "b", b, map[string]uint64{tc.counter: before + 1, CountFrameBroken: uint64(i + 1), CountConnClosed: uint64(i + 1)})
		})
	}
	t.Run("truncated", func(t *testing.T) {
		rn, _, err := dialRaw(t, b.Addr(), newKey(t), mustCert(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		rn.sendRaw(t, []byte("BGE1\x00\x00\x01\x00{"))
		rn.tc.CloseWrite()
		if !rn.closed() {
			t.Fatal("connection still open")
		}
		waitCounter(t, b, CountRejected+"truncated", 1)
	})
	a := newNode(t, nil)
	if _, err := a.Request(ctxT(t, 5*time.Second), Peer{ID: b.ID(), Addr: b.Addr()}, "echo", []byte("ok")); err != nil {
		t.Fatalf("node stopped serving: %v", err)
	}
	wantCounters(t, "b", b, map[string]uint64{CountAccepted: 1, CountFrameBroken: 4})
}

func TestConcurrentRequests(t *testing.T) {
	leakCheck(t)
	a := newNode(t, nil)
	b := newNode(t, nil)
	b.Handle("echo", func(_ context.Context, r *Request) ([]byte, error) {
		time.Sleep(time.Duration(r.Body[0]%10) * time.Millisecond) // answer out of order
		return r.Body, nil
	})
	const n = 100
	to := Peer{ID: b.ID(), Addr: b.Addr()}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			want := fmt.Sprintf("%c request %d", byte(i), i)
			got, err := a.Request(ctxT(t, 10*time.Second), to, "echo", []byte(want))
			if err == nil && string(got) != want {
				err = fmt.Errorf("got %q, want %q", got, want)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	wantCounters(t, "a", a, map[string]uint64{CountConnOut: 1, CountAccepted: n, CountSent: n, CountRespBad: 0})
	wantCounters(t, "b", b, map[string]uint64{CountConnIn: 1, CountAccepted: n, CountSent: n})
}

func TestRequestDeadline(t *testing.T) {
	leakCheck(t)
	a := newNode(t, nil)
	b := newNode(t, nil)
	release := make(chan struct{})
	b.Handle("slow", func(ctx context.Context, r *Request) ([]byte, error) {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil, nil
	})
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := a.Request(ctx, Peer{ID: b.ID(), Addr: b.Addr()}, "slow", nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Request = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %s", d)
	}
	wantCounters(t, "a", a, map[string]uint64{CountSent: 1, CountAccepted: 0, CountUnreachable: 0})
	wantCounters(t, "b", b, map[string]uint64{CountAccepted: 1})
}

func TestOneWayInOrder(t *testing.T) {
	leakCheck(t)
	a := newNode(t, nil)
	b := newNode(t, nil)
	var mu sync.Mutex
	var got []string
	var from NodeID
	b.HandleMessage("note", func(_ context.Context, r *Request) ([]byte, error) {
		mu.Lock()
		got = append(got, string(r.Body))
		from = r.From
		mu.Unlock()
		return nil, nil
	})
	const n = 50
	to := Peer{ID: b.ID(), Addr: b.Addr()}
	for i := range n {
		if err := a.Send(ctxT(t, 5*time.Second), to, "note", fmt.Appendf(nil, "%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	waitCounter(t, b, CountAccepted, n)
	mu.Lock()
	for i, s := range got {
		if s != fmt.Sprint(i) {
			t.Fatalf("message %d is %q: out of order", i, s)
		}
	}
	if from != a.ID() {
		t.Fatalf("from %s", from)
	}
	mu.Unlock()
	wantCounters(t, "a", a, map[string]uint64{CountSent: n, CountUnsolicited: 0})
	wantCounters(t, "b", b, map[string]uint64{CountAccepted: n, CountErrorSent: 0, CountSent: 0})
}

func TestReconnectAfterRestart(t *testing.T) {
	leakCheck(t)
	var mu sync.Mutex
	var lost []NodeID
	a := newNode(t, func(c *Config) {
		c.OnUnreachable = func(id NodeID) { mu.Lock(); lost = append(lost, id); mu.Unlock() }
	})
	bKey := newKey(t)
	b := newNode(t, func(c *Config) { c.Key = bKey })
	b.Handle("echo", echo)
	addr := b.Addr()
	to := Peer{ID: b.ID(), Addr: addr}
	if _, err := a.Request(ctxT(t, 5*time.Second), to, "echo", []byte("1")); err != nil {
		t.Fatal(err)
	}
	b.Close()
	waitFor(t, "a to notice", func() bool { return a.best(b.ID()) == nil })
	b2 := newNode(t, func(c *Config) { c.Key = bKey; c.ListenAddr = addr })
	b2.Handle("echo", echo)
	if _, err := a.Request(ctxT(t, 5*time.Second), to, "echo", []byte("2")); err != nil {
		t.Fatalf("after restart: %v", err)
	}
	wantCounters(t, "a", a, map[string]uint64{CountConnOut: 2, CountConnClosed: 1, CountAccepted: 2})
	wantCounters(t, "b2", b2, map[string]uint64{CountConnIn: 1, CountAccepted: 1})

	// A peer that is gone for good: the send fails and is reported.
	b2.Close()
	waitFor(t, "a to notice", func() bool { return a.best(b.ID()) == nil })
	if err := a.Send(ctxT(t, 5*time.Second), to, "echo", nil); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("Send to a stopped peer: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(lost) == 0 || lost[len(lost)-1] != b.ID() {
		t.Fatalf("OnUnreachable calls %v", lost)
	}
	wantCounters(t, "a", a, map[string]uint64{CountSendFailed: 1})
}

func TestIdleTimeout(t *testing.T) {
	leakCheck(t)
	a := newNode(t, func(c *Config) { c.IdleTimeout = 100 * time.Millisecond })
	b := newNode(t, nil)
	b.Handle("echo", echo)
	to := Peer{ID: b.ID(), Addr: b.Addr()}
	if _, err := a.Request(ctxT(t, 5*time.Second), to, "echo", nil); err != nil {
		t.Fatal(err)
	}
	waitCounter(t, a, CountConnIdle, 1)
	waitFor(t, "b to see the close", func() bool { return b.Counters()[CountConnClosed] == 1 })
	if _, err := a.Request(ctxT(t, 5*time.Second), to, "echo", nil); err != nil {
		t.Fatal(err)
	}
	wantCounters(t, "a", a, map[string]uint64{CountConnOut: 2, CountUnreachable: 0, CountConnLost: 0})
	wantCounters(t, "b", b, map[string]uint64{CountUnreachable: 0, CountConnLost: 0})
}

func TestHandlerErrorAndPanic(t *testing.T) {
	leakCheck(t)
	a := newNode(t, nil)
	b := newNode(t, nil)
	b.Handle("fail", func(context.Context, *Request) ([]byte, error) { return nil, errors.New("no shard") })
	b.Handle("coded", func(context.Context, *Request) ([]byte, error) {
		return nil, &RemoteError{Code: "wrong-epoch", Message: "epoch 3 < 4"}
	})
	b.Handle("boom", func(context.Context, *Request) ([]byte, error) { panic("boom") })
	to := Peer{ID: b.ID(), Addr: b.Addr()}
	tests := []struct{ typ, code string }{{"fail", CodeHandler}, {"coded", "wrong-epoch"}, {"boom", CodeInternal}}
	for _, tc := range tests {
		t.Run(tc.typ, func(t *testing.T) {
			_, err := a.Request(ctxT(t, 5*time.Second), to, tc.typ, nil)
			if !errors.Is(err, ErrRemote) || remoteCode(err) != tc.code {
				t.Fatalf("Request = %v, want code %q", err, tc.code)
			}
		})
	}
	wantCounters(t, "a", a, map[string]uint64{CountRespError: 3})
	wantCounters(t, "b", b, map[string]uint64{CountHandlerErr: 2, CountHandlerPan: 1, CountErrorSent: 3})
}

func TestRegistrationRules(t *testing.T) {
	leakCheck(t)
	a := newNode(t, nil)
	for _, typ := range []string{"", "relay.forward", "transport.x", "receptor.card", "bad type"} {
		if a.Handle(typ, echo) == nil {
			t.Errorf("Handle(%q) accepted", typ)
		}
	}
	if a.HandleReceptor("otherCell", "x", echo) == nil || a.HandleStream("Bad", func(NodeID, netConn) {}) == nil {
		t.Error("bad registration accepted")
	}
	if err := a.Send(ctxT(t, time.Second), Peer{ID: "nope"}, "x", nil); err == nil {
		t.Error("Send to an invalid ID accepted")
	}
	if err := a.Send(ctxT(t, time.Second), Peer{ID: IDOf(newKey(t).PublicKey())}, "x", nil); !errors.Is(err, ErrNoRoute) {
		t.Errorf("Send without an address: %v", err)
	}
	wantCounters(t, "a", a, map[string]uint64{CountSent: 0, CountUnreachable: 1})
}
