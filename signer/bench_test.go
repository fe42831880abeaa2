package signer

import (
	"bytes"
	"testing"
)

// Run with -cpu=1 to read "per core" figures; ops/s = 1e9 / ns/op.

func BenchmarkSign(b *testing.B) {
	k := mustKey(b, privA1)
	body := bytes.Repeat([]byte("b"), 1024)
	base := Envelope{Cell: "shardTreeCell", Type: "storeShard", Recipient: treeID, Timestamp: t0}
	r := &counterReader{}
	for b.Loop() {
		env := base
		if err := Sign(k, &env, body, r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	k := mustKey(b, privA1)
	body := bytes.Repeat([]byte("b"), 1024)
	msgs := signedBatchBody(b, k, 512, body)
	var v *Verifier
	i := 0
	for b.Loop() {
		if i%len(msgs) == 0 {
			b.StopTimer()
			v = newTestVerifier(newClock(t0), 0)
			b.StartTimer()
		}
		if err := v.Verify(msgs[i%len(msgs)], body, Expect{Cell: "shardTreeCell"}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkEncode(b *testing.B) {
	k := mustKey(b, privA1)
	body := bytes.Repeat([]byte("b"), 1024)
	env := signedBatchBody(b, k, 1, body)[0]
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := Encode(env, body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	k := mustKey(b, privA1)
	body := bytes.Repeat([]byte("b"), 1024)
	frame, err := Encode(signedBatchBody(b, k, 1, body)[0], body)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, _, err := Decode(frame, 1<<20); err != nil {
			b.Fatal(err)
		}
	}
}

func signedBatchBody(b *testing.B, k Key, n int, body []byte) []*Envelope {
	out := make([]*Envelope, n)
	r := &counterReader{}
	for i := range out {
		out[i] = &Envelope{Cell: "shardTreeCell", Type: "storeShard", Recipient: treeID, Timestamp: t0}
		if err := Sign(k, out[i], body, r); err != nil {
			b.Fatal(err)
		}
	}
	return out
}
