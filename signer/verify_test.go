package signer

import (
	"bytes"
	"errors"
	"sync"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
)

func TestVerifyAcceptsSigned(t *testing.T) {
	k := mustKey(t, privOne)
	c := newClock(t0)
	v := newTestVerifier(c, 0)
	body := []byte("hello")
	env := request(t, k, t0, body)
	want := Expect{Cell: "shardTreeCell", Type: "storeShard", Recipients: []string{"other", treeID}, Sender: k.PublicKey()}
	if err := v.Verify(env, body, want); err != nil {
		t.Fatalf("Verify: %v", err)
	}
}

// TestVerifyTamper changes one field of a signed response and expects the
// signature (or the body hash) to catch it. The expectations are taken from
// the tampered envelope so that only the cryptographic checks can fail.
func TestVerifyTamper(t *testing.T) {
	k := mustKey(t, privOne)
	other := mustKey(t, privA1)
	body := []byte("the body")
	base := &Envelope{Cell: "shardTreeCell", Type: "storeShardResult", Recipient: treeID, Timestamp: t0,
		InReplyTo: Digest{1, 2, 3}}
	if err := Sign(k, base, body, nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mutate func(e *Envelope, body []byte) []byte
		want   error
	}{
		{"untouched", func(e *Envelope, b []byte) []byte { return b }, nil},
		{"cell", func(e *Envelope, b []byte) []byte { e.Cell = "mailTreeCell"; return b }, ErrBadSignature},
		{"type", func(e *Envelope, b []byte) []byte { e.Type = "storeShardResulT"; return b }, ErrBadSignature},
		{"recipient", func(e *Envelope, b []byte) []byte { e.Recipient = "991be736"; return b }, ErrBadSignature},
		{"timestamp +1ms", func(e *Envelope, b []byte) []byte { e.Timestamp++; return b }, ErrBadSignature},
		{"timestamp -1ms", func(e *Envelope, b []byte) []byte { e.Timestamp--; return b }, ErrBadSignature},
		{"nonce", func(e *Envelope, b []byte) []byte { e.Nonce[15] ^= 1; return b }, ErrBadSignature},
		{"bodyHash", func(e *Envelope, b []byte) []byte { e.BodyHash[0] ^= 1; return b }, ErrBadSignature},
		{"inReplyTo", func(e *Envelope, b []byte) []byte { e.InReplyTo[31] ^= 1; return b }, ErrBadSignature},
		{"inReplyTo removed", func(e *Envelope, b []byte) []byte { e.InReplyTo = Digest{}; return b }, ErrBadSignature},
		{"sender", func(e *Envelope, b []byte) []byte { copy(e.Sender[:], other.PublicKey()); return b }, ErrBadSignature},
		{"sender off curve", func(e *Envelope, b []byte) []byte { e.Sender[64] ^= 1; return b }, ErrMalformed},
		{"signature r", func(e *Envelope, b []byte) []byte { e.Signature[5] ^= 1; return b }, ErrBadSignature},
		{"signature s", func(e *Envelope, b []byte) []byte { e.Signature[len(e.Signature)-1] ^= 1; return b }, ErrBadSignature},
		{"version", func(e *Envelope, b []byte) []byte { e.Version = 2; return b }, ErrMalformed},
		{"body byte", func(e *Envelope, b []byte) []byte { b[0] ^= 1; return b }, ErrBodyHash},
		{"body appended", func(e *Envelope, b []byte) []byte { return append(b, 0) }, ErrBodyHash},
		{"body empty", func(e *Envelope, b []byte) []byte { return nil }, ErrBodyHash},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := newTestVerifier(newClock(t0), 0)
			e := clone(base)
			b := tc.mutate(e, bytes.Clone(body))
			want := Expect{Cell: e.Cell, Type: e.Type, Recipients: []string{e.Recipient}, Sender: e.Sender[:], InReplyTo: e.InReplyTo}
			err := v.Verify(e, b, want)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestVerifyExpectations(t *testing.T) {
	k := mustKey(t, privOne)
	other := mustKey(t, privA1)
	body := []byte("x")
	req := request(t, k, t0, body)
	resp := &Envelope{Cell: "shardTreeCell", Type: "storeShardResult", Recipient: "client", Timestamp: t0, InReplyTo: req.digest()}
	if err := Sign(k, resp, body, nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  *Envelope
		want Expect
		err  error
	}{
		{"any", req, Expect{}, nil},
		{"wrong cell", req, Expect{Cell: "mailTreeCell"}, ErrUnexpected},
		{"wrong type", req, Expect{Type: "getShard"}, ErrUnexpected},
		{"wrong recipient", req, Expect{Recipients: []string{"me", "my-tree"}}, ErrUnexpected},
		{"wrong sender", req, Expect{Sender: other.PublicKey()}, ErrUnexpected},
		{"short sender", req, Expect{Sender: k.PublicKey()[:33]}, ErrUnexpected},
		{"request where response expected", req, Expect{InReplyTo: req.digest()}, ErrUnexpected},
		{"response where request expected", resp, Expect{}, ErrUnexpected},
		{"response to another request", resp, Expect{Sender: k.PublicKey(), InReplyTo: Digest{9}}, ErrUnexpected},
		{"response from the wrong endpoint", resp, Expect{Sender: other.PublicKey(), InReplyTo: req.digest()}, ErrUnexpected},
		{"response ok", resp, Expect{Cell: "shardTreeCell", Type: "storeShardResult", Recipients: []string{"client"}, Sender: k.PublicKey(), InReplyTo: req.digest()}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := newTestVerifier(newClock(t0), 0)
			err := v.Verify(tc.env, body, tc.want)
			if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("Verify = %v, want %v", err, tc.err)
			}
		})
	}
}

func TestVerifyFreshness(t *testing.T) {
	k := mustKey(t, privOne)
	const w = int64(60_000)
	tests := []struct {
		name  string
		ts    int64
		stale bool
	}{
		{"now", t0, false},
		{"window start", t0 - w, false},
		{"window end", t0 + w, false},
		{"1 ms too old", t0 - w - 1, true},
		{"1 ms too far in the future", t0 + w + 1, true},
		{"an hour old", t0 - 3_600_000, true},
		{"an hour ahead", t0 + 3_600_000, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := newTestVerifier(newClock(t0), 0)
			err := v.Verify(request(t, k, tc.ts, nil), nil, Expect{})
			if tc.stale != errors.Is(err, ErrStale) || (!tc.stale && err != nil) {
				t.Fatalf("Verify = %v, stale want %v", err, tc.stale)
			}
		})
	}
}

// TestVerifyOrder checks the documented order on a message that fails
// several checks at once.
func TestVerifyOrder(t *testing.T) {
	k := mustKey(t, privOne)
	good := request(t, k, t0, []byte("b"))
	stale := request(t, k, t0-120_000, []byte("b"))
	forged := clone(good)
	forged.Signature[6] ^= 1
	staleForged := clone(stale)
	staleForged.Signature[6] ^= 1
	v := newTestVerifier(newClock(t0), 0)
	cases := []struct {
		name string
		env  *Envelope
		body []byte
		want Expect
		err  error
	}{
		{"malformed before unexpected", &Envelope{Version: 1}, nil, Expect{Cell: "x"}, ErrMalformed},
		{"unexpected before stale", stale, nil, Expect{Cell: "x"}, ErrUnexpected},
		{"stale before bad signature", staleForged, nil, Expect{}, ErrStale},
		{"bad signature before body hash", forged, []byte("other"), Expect{}, ErrBadSignature},
		{"body hash before replay", good, []byte("other"), Expect{}, ErrBodyHash},
	}
	for _, tc := range cases {
		if err := v.Verify(tc.env, tc.body, tc.want); !errors.Is(err, tc.err) {
			t.Errorf("%s: Verify = %v, want %v", tc.name, err, tc.err)
		}
	}
	// None of the failures above recorded the nonce of good.
	if err := v.Verify(good, []byte("b"), Expect{}); err != nil {
		t.Fatalf("first valid Verify: %v", err)
	}
	if err := v.Verify(good, []byte("b"), Expect{}); !errors.Is(err, ErrReplay) {
		t.Fatalf("second Verify = %v, want ErrReplay", err)
	}
}

func TestVerifyReplay(t *testing.T) {
	k := mustKey(t, privOne)
	v := newTestVerifier(newClock(t0), 0)
	env := request(t, k, t0, nil)
	if err := v.Verify(env, nil, Expect{}); err != nil {
		t.Fatal(err)
	}
	if err := v.Verify(env, nil, Expect{}); !errors.Is(err, ErrReplay) {
		t.Fatalf("replay: %v", err)
	}
	// The same nonce from another sender is a different message.
	other := &Envelope{Cell: env.Cell, Type: env.Type, Recipient: env.Recipient, Timestamp: t0, Nonce: env.Nonce}
	if err := Sign(mustKey(t, privA1), other, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := v.Verify(other, nil, Expect{}); err != nil {
		t.Fatalf("same nonce, other sender: %v", err)
	}
	// A re-signed message with the same (sender, nonce) is still a replay.
	again := clone(env)
	again.Timestamp++
	if err := Sign(k, again, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := v.Verify(again, nil, Expect{}); !errors.Is(err, ErrReplay) {
		t.Fatalf("same nonce, new timestamp: %v", err)
	}
}

// TestVerifyHighS: legacy signers did not normalise S; Verify accepts it.
func TestVerifyHighS(t *testing.T) {
	k := mustKey(t, privOne)
	env := request(t, k, t0, nil)
	sig, err := ecdsa.ParseDERSignature(env.Signature)
	if err != nil {
		t.Fatal(err)
	}
	r, s := sig.R(), sig.S()
	if s.IsOverHalfOrder() {
		t.Fatal("Sign produced high-S")
	}
	s.Negate()
	high := clone(env)
	high.Signature = derOf(&r, &s)
	if bytes.Equal(high.Signature, env.Signature) {
		t.Fatal("high-S encoding equals low-S")
	}
	v := newTestVerifier(newClock(t0), 0)
	if err := v.Verify(high, nil, Expect{}); err != nil {
		t.Fatalf("high-S: %v", err)
	}
	// Malleability gains nothing: same digest, same (sender, nonce).
	if err := v.Verify(env, nil, Expect{}); !errors.Is(err, ErrReplay) {
		t.Fatalf("low-S twin after high-S: %v, want ErrReplay", err)
	}
}

func TestVerifyMalformedDER(t *testing.T) {
	k := mustKey(t, privOne)
	env := request(t, k, t0, nil)
	good := env.Signature
	rLen := int(good[3])
	tests := []struct {
		name string
		sig  []byte
		err  error
	}{
		{"trailing byte", append(append([]byte{}, good[:1]...), append([]byte{good[1] + 1}, append(bytes.Clone(good[2:]), 0)...)...), ErrBadSignature},
		{"trailing byte, length unchanged", append(bytes.Clone(good), 0), ErrBadSignature},
		{"wrong sequence tag", append([]byte{0x31}, good[1:]...), ErrBadSignature},
		{"overlong length form", append([]byte{0x30, 0x81, good[1]}, good[2:]...), ErrBadSignature},
		{"padded r", func() []byte {
			r := append([]byte{0x02, byte(rLen + 1), 0x00}, good[4:4+rLen]...)
			rest := append(r, good[4+rLen:]...)
			return append([]byte{0x30, byte(len(rest))}, rest...)
		}(), ErrBadSignature},
		{"r and s swapped tags", func() []byte { b := bytes.Clone(good); b[2] = 0x03; return b }(), ErrBadSignature},
		{"too short", []byte{0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01}, ErrBadSignature},
		{"empty", nil, ErrMalformed},
		{"too long", make([]byte, 73), ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := clone(env)
			e.Signature = tc.sig
			v := newTestVerifier(newClock(t0), 0)
			if err := v.Verify(e, nil, Expect{}); !errors.Is(err, tc.err) {
				t.Fatalf("Verify = %v, want %v", err, tc.err)
			}
		})
	}
}

func TestVerifyMalformed(t *testing.T) {
	k := mustKey(t, privOne)
	env := request(t, k, t0, nil)
	long := string(bytes.Repeat([]byte("a"), MaxTextLen+1))
	tests := []struct {
		name   string
		mutate func(*Envelope)
	}{
		{"version 0", func(e *Envelope) { e.Version = 0 }},
		{"empty cell", func(e *Envelope) { e.Cell = "" }},
		{"cell with space", func(e *Envelope) { e.Cell = "shard Cell" }},
		{"cell with quote", func(e *Envelope) { e.Cell = `a"b` }},
		{"type with backslash", func(e *Envelope) { e.Type = `a\b` }},
		{"type with unicode", func(e *Envelope) { e.Type = "café" }},
		{"recipient too long", func(e *Envelope) { e.Recipient = long }},
		{"recipient with slash", func(e *Envelope) { e.Recipient = "a/b" }},
		{"timestamp 0", func(e *Envelope) { e.Timestamp = 0 }},
		{"timestamp negative", func(e *Envelope) { e.Timestamp = -1 }},
		{"timestamp 2^53", func(e *Envelope) { e.Timestamp = MaxTimestamp + 1 }},
		{"sender compressed tag", func(e *Envelope) { e.Sender[0] = 0x02 }},
		{"sender hybrid tag", func(e *Envelope) { e.Sender[0] = 0x06 }},
		{"sender zero", func(e *Envelope) { e.Sender = [PublicKeyLen]byte{} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := clone(env)
			tc.mutate(e)
			v := newTestVerifier(newClock(t0), 0)
			if err := v.Verify(e, nil, Expect{}); !errors.Is(err, ErrMalformed) {
				t.Fatalf("Verify = %v, want ErrMalformed", err)
			}
		})
	}
	v := newTestVerifier(newClock(t0), 0)
	if err := v.Verify(nil, nil, Expect{}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("nil envelope: %v", err)
	}
}

// TestVerifyConcurrent: many goroutines verify the same messages; each
// message is accepted exactly once.
func TestVerifyConcurrent(t *testing.T) {
	k := mustKey(t, privOne)
	v := newTestVerifier(newClock(t0), 0)
	msgs := make([]*Envelope, 32)
	for i := range msgs {
		msgs[i] = request(t, k, t0+int64(i), []byte{byte(i)})
	}
	var accepted [32]int32
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, m := range msgs {
				err := v.Verify(m, []byte{byte(i)}, Expect{})
				switch {
				case err == nil:
					mu.Lock()
					accepted[i]++
					mu.Unlock()
				case !errors.Is(err, ErrReplay):
					t.Errorf("msg %d: %v", i, err)
				}
			}
		}()
	}
	wg.Wait()
	for i, n := range accepted {
		if n != 1 {
			t.Errorf("msg %d accepted %d times", i, n)
		}
	}
}

func TestVerifyBodyHashStreamed(t *testing.T) {
	k := mustKey(t, privOne)
	body := bytes.Repeat([]byte("chunk"), 1000)
	env := &Envelope{Cell: "shardTreeCell", Type: "storeShard", Recipient: treeID, Timestamp: t0}
	if err := SignBodyHash(k, env, Digest(sha256sum(body)), nil); err != nil {
		t.Fatal(err)
	}
	v := newTestVerifier(newClock(t0), 0)
	if err := v.VerifyBodyHash(env, Digest{}, Expect{}); !errors.Is(err, ErrBodyHash) {
		t.Fatalf("wrong hash: %v", err)
	}
	if err := v.Verify(env, body, Expect{}); err != nil {
		t.Fatalf("Verify with body: %v", err)
	}
}
