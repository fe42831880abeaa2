package transport

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/borgios/borghui/signer"
)

func newReceptorNode(t *testing.T, mod func(*Config)) *Transport {
	t.Helper()
	n := newNode(t, func(c *Config) {
		c.ReceptorAddr = "127.0.0.1:0"
		if mod != nil {
			mod(c)
		}
	})
	n.HandleReceptor(testCell, "whoami", func(_ context.Context, r *Request) ([]byte, error) {
		return []byte(r.From), nil
	})
	return n
}

func TestReceptorClient(t *testing.T) {
	leakCheck(t)
	n := newReceptorNode(t, nil)
	ck := newKey(t)
	cl, err := Dial(ctxT(t, 5*time.Second), n.ReceptorAddr(), ClientConfig{Key: ck, Expect: n.ID()})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if cl.NodeID() != n.ID() {
		t.Fatalf("card of %s", cl.NodeID().Short())
	}
	got, err := cl.Request(ctxT(t, 5*time.Second), testCell, "whoami", nil)
	if err != nil || NodeID(got) != IDOf(ck.PublicKey()) {
		t.Fatalf("whoami = %q, %v", got, err)
	}
	b, err := cl.Request(ctxT(t, 5*time.Second), testCell, TypeReceptorCard, nil)
	if err != nil {
		t.Fatal(err)
	}
	card, err := DecodeCard(b)
	if err != nil || card.ID() != n.ID() || card.Verify(time.Now()) != nil {
		t.Fatalf("receptor.card: %v", err)
	}
	tests := []struct{ cell, typ, code string }{
		{testCell, "nope", CodeUnknownType},
		{"mailTreeCell", "whoami", "unexpected"},
	}
	for _, tc := range tests {
		if _, err := cl.Request(ctxT(t, 5*time.Second), tc.cell, tc.typ, nil); remoteCode(err) != tc.code {
			t.Errorf("%s/%s: %v, want %s", tc.cell, tc.typ, err, tc.code)
		}
	}
	wantCounters(t, "client", cl, map[string]uint64{CountAccepted: 4, CountRespError: 2, CountRespBad: 0, CountSent: 4})
	wantCounters(t, "node", n, map[string]uint64{
		"receptor." + CountConnIn: 1, "receptor." + CountAccepted: 3, "receptor." + CountUnknownType: 1,
		"receptor." + CountRejected + "unexpected": 1, "receptor." + CountSent: 4, CountAccepted: 0})

	// The wrong node, and a node channel dialled at the receptor port.
	if _, err := Dial(ctxT(t, 5*time.Second), n.ReceptorAddr(), ClientConfig{Key: ck, Expect: IDOf(ck.PublicKey())}); !errors.Is(err, ErrBadCard) {
		t.Fatalf("Dial expecting another node: %v", err)
	}
	other := newNode(t, nil)
	if err := other.Send(ctxT(t, 5*time.Second), Peer{ID: n.ID(), Addr: n.ReceptorAddr()}, "x", nil); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("node channel on the receptor port: %v", err)
	}
	wantCounters(t, "node", n, map[string]uint64{CountHandshakeFail: 1, "receptor." + CountConnIn: 2})
}

// rawClient is a hand-driven receptor client.
type rawClient struct {
	tc *tls.Conn
	br *bufio.Reader
}

func dialReceptorRaw(t *testing.T, addr string) *rawClient {
	t.Helper()
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	raw.SetDeadline(time.Now().Add(10 * time.Second))
	tc := tls.Client(raw, clientTLS(nil, alpnReceptor))
	if _, err := readHello(tc); err != nil {
		t.Fatal(err)
	}
	return &rawClient{tc: tc, br: bufio.NewReader(tc)}
}

func TestReceptorRejects(t *testing.T) {
	leakCheck(t)
	n := newReceptorNode(t, func(c *Config) { c.MaxReceptorBody = 64 })
	rc := dialReceptorRaw(t, n.ReceptorAddr())
	rn := &rawNode{tc: rc.tc, br: rc.br}
	ck := newKey(t)
	now := time.Now()
	once := envelope(t, ck, "whoami", n.ID(), now, nil)
	tests := []struct {
		name string
		env  *signer.Envelope
		body []byte
		code string
	}{
		{"valid", once, nil, ""},
		{"replay", once, nil, "replay"},
		{"stale", envelope(t, ck, "whoami", n.ID(), now.Add(-time.Hour), nil), nil, "stale"},
		{"altered body", envelope(t, ck, "whoami", n.ID(), now, []byte("a")), []byte("b"), "body-hash"},
		{"addressed to another node", envelope(t, ck, "whoami", IDOf(ck.PublicKey()), now, nil), nil, "unexpected"},
		{"a response", func() *signer.Envelope {
			e := &signer.Envelope{Cell: testCell, Type: "whoami", Recipient: string(n.ID()), Timestamp: now.UnixMilli(), InReplyTo: signer.Digest{1}}
			signer.Sign(ck, e, nil, nil)
			return e
		}(), nil, "unexpected"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rn.send(t, tc.env, tc.body)
			if got := rn.readError(t, tc.env); got != tc.code {
				t.Fatalf("code %q, want %q", got, tc.code)
			}
		})
	}
	big := make([]byte, 65)
	env := envelope(t, ck, "whoami", n.ID(), now, big)
	rn.send(t, env, big)
	if got := rn.readError(t, env); got != "too-large" {
		t.Fatalf("oversized: %q", got)
	}
	if !rn.closed() {
		t.Fatal("connection kept after an oversized body")
	}
	wantCounters(t, "node", n, map[string]uint64{
		"receptor." + CountAccepted: 1, "receptor." + CountRejected + "replay": 1, "receptor." + CountRejected + "stale": 1,
		"receptor." + CountRejected + "body-hash": 1, "receptor." + CountRejected + "unexpected": 2,
		"receptor." + CountRejected + "too-large": 1, "receptor." + CountConnClosed: 1})
}

// fakeNode is a listener that completes the node preamble with a valid
// card for key and answers every request with forge(request).
func fakeNode(t *testing.T, key *signer.MemKey, receptor bool, forge func(req *signer.Envelope) (*signer.Envelope, []byte)) string {
	t.Helper()
	cert := mustCert(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			raw, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, raw)
			cfg := serverTLS(cert, alpnNode, true)
			if receptor {
				cfg = serverTLS(cert, alpnReceptor, false)
			}
			tc := tls.Server(raw, cfg)
			if err := tc.Handshake(); err != nil {
				continue
			}
			if !receptor {
				if _, err := readHello(tc); err != nil {
					continue
				}
			}
			writeHello(tc, hello{kind: helloAccept, card: makeCard(t, key, cert, time.Now())})
			go func() {
				br := bufio.NewReader(tc)
				for {
					env, body, err := signer.ReadMessage(br, 1<<20)
					if err != nil {
						return
					}
					if _, err := body.Read(make([]byte, body.Len()+1)); err != nil && body.Len() > 0 {
						return
					}
					resp, rb := forge(env)
					frame, _ := signer.Encode(resp, rb)
					tc.Write(frame)
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func TestForgedResponses(t *testing.T) {
	leakCheck(t)
	key, wrong := newKey(t), newKey(t)
	respond := func(k signer.Key, typ string, ts time.Time, body, sent []byte) func(*signer.Envelope) (*signer.Envelope, []byte) {
		return func(req *signer.Envelope) (*signer.Envelope, []byte) {
			d, _ := req.Digest()
			e := &signer.Envelope{Cell: req.Cell, Type: typ, Recipient: string(IDOf(req.Sender[:])), Timestamp: ts.UnixMilli(), InReplyTo: d}
			signer.Sign(k, e, body, nil)
			return e, sent
		}
	}
	now := time.Now()
	tests := []struct {
		name   string
		forge  func(*signer.Envelope) (*signer.Envelope, []byte)
		reason string
	}{
		{"signed by another key", respond(wrong, TypeResponse, now, []byte("ok"), []byte("ok")), "unexpected"},
		{"altered body", respond(key, TypeResponse, now, []byte("ok"), []byte("no")), "body-hash"},
		{"stale", respond(key, TypeResponse, now.Add(-time.Hour), nil, nil), "stale"},
	}
	for _, receptor := range []bool{false, true} {
		for _, tc := range tests {
			name := tc.name
			if receptor {
				name = "receptor/" + name
			}
			t.Run(name, func(t *testing.T) {
				addr := fakeNode(t, key, receptor, tc.forge)
				var err error
				var who interface{ Counters() map[string]uint64 }
				if receptor {
					cl, derr := Dial(ctxT(t, 5*time.Second), addr, ClientConfig{Key: newKey(t), Expect: IDOf(key.PublicKey())})
					if derr != nil {
						t.Fatal(derr)
					}
					defer cl.Close()
					_, err = cl.Request(ctxT(t, 5*time.Second), testCell, "x", nil)
					who = cl
				} else {
					a := newNode(t, nil)
					_, err = a.Request(ctxT(t, 5*time.Second), Peer{ID: IDOf(key.PublicKey()), Addr: addr}, "x", nil)
					who = a
				}
				if !errors.Is(err, ErrBadResponse) {
					t.Fatalf("Request = %v, want ErrBadResponse", err)
				}
				wantCounters(t, "requester", who, map[string]uint64{CountRespBad: 1, CountRejected + tc.reason: 1, CountAccepted: 0})
			})
		}
	}
	t.Run("unknown response type", func(t *testing.T) {
		addr := fakeNode(t, key, false, respond(key, "weird", now, nil, nil))
		a := newNode(t, nil)
		_, err := a.Request(ctxT(t, 5*time.Second), Peer{ID: IDOf(key.PublicKey()), Addr: addr}, "x", nil)
		if !errors.Is(err, ErrBadResponse) {
			t.Fatalf("Request = %v", err)
		}
		wantCounters(t, "a", a, map[string]uint64{CountRespBad: 1, CountAccepted: 0})
	})
	t.Run("response to nothing", func(t *testing.T) {
		addr := fakeNode(t, key, false, func(req *signer.Envelope) (*signer.Envelope, []byte) {
			e := &signer.Envelope{Cell: req.Cell, Type: TypeResponse, Recipient: string(IDOf(req.Sender[:])), Timestamp: now.UnixMilli(), InReplyTo: signer.Digest{9}}
			signer.Sign(key, e, nil, nil)
			return e, nil
		})
		a := newNode(t, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		if _, err := a.Request(ctx, Peer{ID: IDOf(key.PublicKey()), Addr: addr}, "x", nil); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Request = %v", err)
		}
		wantCounters(t, "a", a, map[string]uint64{CountUnsolicited: 1, CountAccepted: 0})
	})
}
