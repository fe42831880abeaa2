package signer

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"sync/atomic"
	"testing"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
)

// Fixed test inputs.
const (
	privOne = "0000000000000000000000000000000000000000000000000000000000000001"
	privA1  = "5fa8f0f782cb0d144c5022e3ce40d7a46e33097372e6799b8208aa22fcc35d31"
	t0      = int64(1700000000000)
	treeID  = "991be736-5075-4a4f-adc5-0f86f2088a3b"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("hex %q: %v", s, err)
	}
	return b
}

func mustKey(t testing.TB, privHex string) *MemKey {
	t.Helper()
	k, err := NewMemKey(mustHex(t, privHex))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// testClock is a settable network clock.
type testClock struct{ ms atomic.Int64 }

func newClock(ms int64) *testClock {
	c := new(testClock)
	c.ms.Store(ms)
	return c
}

func (c *testClock) now() time.Time { return time.UnixMilli(c.ms.Load()) }
func (c *testClock) set(ms int64)   { c.ms.Store(ms) }

func newTestVerifier(c *testClock, maxEntries int) *Verifier {
	return NewVerifier(VerifierConfig{Clock: c.now, MaxReplayEntries: maxEntries})
}

// counterReader fills each Read with a big-endian counter (1, 2, ...) in
// its last 8 bytes, so nonces are distinct and stable.
type counterReader struct{ n uint64 }

func (r *counterReader) Read(p []byte) (int, error) {
	r.n++
	clear(p)
	for i, v := len(p)-1, r.n; i >= 0 && v > 0; i, v = i-1, v>>8 {
		p[i] = byte(v)
	}
	return len(p), nil
}

// request returns a signed request from k at ts with body.
func request(t testing.TB, k Key, ts int64, body []byte) *Envelope {
	t.Helper()
	env := &Envelope{Cell: "shardTreeCell", Type: "storeShard", Recipient: treeID, Timestamp: ts}
	if err := Sign(k, env, body, nil); err != nil {
		t.Fatal(err)
	}
	return env
}

// clone deep-copies an envelope.
func clone(e *Envelope) *Envelope {
	c := *e
	c.Signature = bytes.Clone(e.Signature)
	return &c
}

// derOf encodes r and s as strict DER without normalising s.
func derOf(r, s *secp256k1.ModNScalar) []byte {
	enc := func(v *secp256k1.ModNScalar) []byte {
		b := v.Bytes()
		x := b[:]
		for len(x) > 1 && x[0] == 0 && x[1]&0x80 == 0 {
			x = x[1:]
		}
		if x[0]&0x80 != 0 {
			x = append([]byte{0}, x...)
		}
		return append([]byte{0x02, byte(len(x))}, x...)
	}
	body := append(enc(r), enc(s)...)
	return append([]byte{0x30, byte(len(body))}, body...)
}

func sha256sum(b []byte) [32]byte { return sha256.Sum256(b) }

func isHighS(t testing.TB, der []byte) bool {
	t.Helper()
	sig, err := ecdsa.ParseDERSignature(der)
	if err != nil {
		t.Fatal(err)
	}
	s := sig.S()
	return s.IsOverHalfOrder()
}
