package signer

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestCanonicalIsJCS cross-checks the fixed template against a generic
// encoder: encoding/json with map keys sorted, no HTML escaping and
// integers printed plainly produces RFC 8785 output for this charset.
func TestCanonicalIsJCS(t *testing.T) {
	k := mustKey(t, privOne)
	long := strings.Repeat("Az09._:-", MaxTextLen/8)
	for _, env := range []*Envelope{
		request(t, k, t0, []byte("x")),
		{Cell: long, Type: long, Recipient: long, Timestamp: MaxTimestamp, InReplyTo: Digest{0xab}},
	} {
		if env.Signature == nil {
			if err := Sign(k, env, nil, nil); err != nil {
				t.Fatal(err)
			}
		}
		canon, err := env.Canonical()
		if err != nil {
			t.Fatal(err)
		}
		head, obj, ok := bytes.Cut(canon, []byte("\n"))
		if !ok || string(head) != Domain {
			t.Fatalf("canonical does not start with %q and a newline", Domain)
		}
		var m map[string]any
		dec := json.NewDecoder(bytes.NewReader(obj))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		if len(m) != 9 {
			t.Fatalf("%d members, want 9", len(m))
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(m); err != nil {
			t.Fatal(err)
		}
		if got := bytes.TrimSuffix(buf.Bytes(), []byte("\n")); !bytes.Equal(got, obj) {
			t.Fatalf("not JCS:\n got %s\nwant %s", obj, got)
		}
	}
}

// TestMaxEnvelopeFits: the largest valid envelope fits the frame limit.
func TestMaxEnvelopeFits(t *testing.T) {
	long := strings.Repeat("a", MaxTextLen)
	env := &Envelope{Version: 1, Cell: long, Type: long, Recipient: long, Timestamp: MaxTimestamp,
		InReplyTo: Digest{1}, Signature: make([]byte, MaxSigLen)}
	env.Sender[0] = 4
	n := len(env.appendJSON(nil, true))
	if n > MaxEnvelopeBytes {
		t.Fatalf("max envelope is %d bytes > MaxEnvelopeBytes %d", n, MaxEnvelopeBytes)
	}
	t.Logf("largest envelope JSON: %d bytes", n)
}

func TestTextCharset(t *testing.T) {
	for c := 0; c < 256; c++ {
		want := strings.ContainsRune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-", rune(c)) && c < 128
		if got := validText("f", string([]byte{byte(c)})) == nil; got != want {
			t.Errorf("byte %#x accepted = %v, want %v", c, got, want)
		}
	}
	if validText("f", strings.Repeat("a", MaxTextLen)) != nil || validText("f", strings.Repeat("a", MaxTextLen+1)) == nil || validText("f", "") == nil {
		t.Error("length limits wrong")
	}
}

// TestDigestIgnoresSignature: the digest (message id) does not depend on
// the signature bytes.
func TestDigestIgnoresSignature(t *testing.T) {
	k := mustKey(t, privOne)
	e := request(t, k, t0, nil)
	d1, err := e.Digest()
	if err != nil {
		t.Fatal(err)
	}
	e.Signature = nil
	d2, err := e.Digest()
	if err != nil || d1 != d2 {
		t.Fatalf("digest changed with the signature: %v", err)
	}
}
