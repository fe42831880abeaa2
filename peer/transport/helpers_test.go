package transport

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/borgios/borghui/signer"
)

const testCell = "shardTreeCell"

// leakCheck fails the test if goroutines started during it outlive it.
// Call it first, so its cleanup runs after every Close.
func leakCheck(t testing.TB) {
	t.Helper()
	base := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > base {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				n := runtime.Stack(buf, true)
				t.Errorf("goroutine leak: %d running, %d at start\n%s", runtime.NumGoroutine(), base, buf[:n])
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

func newKey(t testing.TB) *signer.MemKey {
	t.Helper()
	k, err := signer.GenerateMemKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// newNode starts a transport on 127.0.0.1 with a random port unless
// mod changes it; it is closed at the end of the test.
func newNode(t testing.TB, mod func(*Config)) *Transport {
	t.Helper()
	cfg := Config{Key: newKey(t), Cell: testCell, ListenAddr: "127.0.0.1:0"}
	if mod != nil {
		mod(&cfg)
	}
	tr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return tr
}

func echo(_ context.Context, r *Request) ([]byte, error) { return r.Body, nil }

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// waitFor polls cond for up to 5 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// wantCounters checks that every listed counter has exactly its value,
// waiting up to 5 s for counters that the other side of a connection may
// bump just after the test observed the effect.
func wantCounters(t testing.TB, who string, tr interface{ Counters() map[string]uint64 }, want map[string]uint64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := tr.Counters()
		ok := true
		for k, v := range want {
			ok = ok && got[k] == v
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s: counter %q = %d, want %d (all: %v)", who, k, got[k], v, got)
				}
			}
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitCounter waits until a counter reaches v.
func waitCounter(t testing.TB, tr interface{ Counters() map[string]uint64 }, name string, v uint64) {
	t.Helper()
	waitFor(t, name, func() bool { return tr.Counters()[name] >= v })
}

// rawNode is a hand-driven node connection for crafting frames.
type rawNode struct {
	key  *signer.MemKey
	tc   *tls.Conn
	br   *bufio.Reader
	card *NodeCard // the listener's card
}

// makeCard signs a card for key binding cert's key.
func makeCard(t testing.TB, key signer.Key, cert tls.Certificate, now time.Time) []byte {
	t.Helper()
	h, err := certKeyHash(cert)
	if err != nil {
		t.Fatal(err)
	}
	c := &NodeCard{TLSKeyHash: h, Addrs: []string{}, Cells: []string{testCell},
		Issued: now.UnixMilli(), Expires: now.Add(time.Hour).UnixMilli()}
	if err := c.Sign(key); err != nil {
		t.Fatal(err)
	}
	b, err := c.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// dialRaw connects to addr presenting cert and the card card (nil: a
// correct card for key and cert). It returns the listener's answer.
func dialRaw(t testing.TB, addr string, key *signer.MemKey, cert tls.Certificate, card []byte) (*rawNode, hello, error) {
	t.Helper()
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	raw.SetDeadline(time.Now().Add(10 * time.Second))
	tc := tls.Client(raw, clientTLS(&cert, alpnNode))
	if err := tc.Handshake(); err != nil {
		return nil, hello{}, err
	}
	if card == nil {
		card = makeCard(t, key, cert, time.Now())
	}
	if err := writeHello(tc, hello{kind: helloMessages, card: card}); err != nil {
		return nil, hello{}, err
	}
	h, err := readHello(tc)
	if err != nil {
		return nil, h, err
	}
	rn := &rawNode{key: key, tc: tc, br: bufio.NewReader(tc)}
	if h.kind == helloAccept {
		if rn.card, err = DecodeCard(h.card); err != nil {
			t.Fatal(err)
		}
	}
	return rn, h, nil
}

func mustCert(t testing.TB) tls.Certificate {
	t.Helper()
	c, err := NewCertificate()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// envelope returns a signed request of the test cell.
func envelope(t testing.TB, k signer.Key, typ string, to NodeID, ts time.Time, body []byte) *signer.Envelope {
	t.Helper()
	env := &signer.Envelope{Cell: testCell, Type: typ, Recipient: string(to), Timestamp: ts.UnixMilli()}
	if err := signer.Sign(k, env, body, nil); err != nil {
		t.Fatal(err)
	}
	return env
}

func (r *rawNode) send(t testing.TB, env *signer.Envelope, body []byte) {
	t.Helper()
	b, err := signer.Encode(env, body)
	if err != nil {
		t.Fatal(err)
	}
	r.sendRaw(t, b)
}

func (r *rawNode) sendRaw(t testing.TB, b []byte) {
	t.Helper()
	if _, err := r.tc.Write(b); err != nil {
		t.Fatal(err)
	}
}

func (r *rawNode) read() (*signer.Envelope, []byte, error) {
	env, br, err := signer.ReadMessage(r.br, 1<<20)
	if err != nil {
		return nil, nil, err
	}
	body, err := io.ReadAll(br)
	return env, body, err
}

// readError reads one response and returns its error code ("" for a
// success response), checking it answers req.
func (r *rawNode) readError(t testing.TB, req *signer.Envelope) string {
	t.Helper()
	env, body, err := r.read()
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	d, _ := req.Digest()
	if env.InReplyTo != d {
		t.Fatalf("response answers %s, want %s", env.InReplyTo, d)
	}
	if env.Type == TypeResponse {
		return ""
	}
	re, err := DecodeErrorBody(body)
	if err != nil {
		t.Fatal(err)
	}
	return re.Code
}

// closed reports whether the server closed the raw connection.
func (r *rawNode) closed() bool {
	r.tc.SetReadDeadline(time.Now().Add(3 * time.Second))
	_, err := r.br.ReadByte()
	return err != nil && !errors.Is(err, context.DeadlineExceeded) && !isTimeout(err)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func remoteCode(err error) string {
	var re *RemoteError
	if errors.As(err, &re) {
		return re.Code
	}
	return ""
}

type netConn = net.Conn
