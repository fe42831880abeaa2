package transport

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/borgios/borghui/signer"
)

func FuzzDecodeCard(f *testing.F) {
	k, _ := signer.NewMemKey(bytes.Repeat([]byte{7}, 32))
	c := &NodeCard{TLSKeyHash: [32]byte{1}, Addrs: []string{"127.0.0.1:13350"}, Cells: []string{testCell},
		Issued: 1700000000000, Expires: 1700003600000}
	if err := c.Sign(k); err != nil {
		f.Fatal(err)
	}
	good, _ := c.Encode()
	f.Add(good)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"addrs":[],"cells":[],"expires":2,"issued":1,"nodeKey":"04","sig":"","tlsKeyHash":"","version":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeCard(b)
		if err != nil {
			if !errors.Is(err, ErrBadCard) {
				t.Fatalf("error %v does not wrap ErrBadCard", err)
			}
			return
		}
		out, err := c.Encode()
		if err != nil || !bytes.Equal(out, b) {
			t.Fatalf("accepted input does not round-trip: %v", err)
		}
		if c.Verify(time.UnixMilli(1700000000000)) == nil && !bytes.Equal(b, good) {
			t.Fatalf("a mutated card verifies: %s", b)
		}
	})
}

func FuzzReadHello(f *testing.F) {
	for _, h := range []hello{
		{kind: helloMessages, card: []byte("{}")},
		{kind: helloStream, purpose: "bulk.v1", card: []byte("{}")},
		{kind: helloAccept, card: []byte("x")},
		{kind: helloRefuse, purpose: refuseBadCard},
	} {
		b, _ := appendHello(nil, h)
		f.Add(b)
	}
	f.Add([]byte("BGT1M\x00\xff\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bytes.NewReader(b)
		h, err := readHello(r)
		if int(r.Size())-r.Len() > maxHelloLen {
			t.Fatalf("read %d bytes", int(r.Size())-r.Len())
		}
		if err != nil {
			return
		}
		out, err := appendHello(nil, h)
		if err != nil || !bytes.Equal(out, b[:len(out)]) {
			t.Fatalf("accepted hello does not round-trip: %v", err)
		}
	})
}

func FuzzDecodeRelayBody(f *testing.F) {
	k, _ := signer.NewMemKey(bytes.Repeat([]byte{7}, 32))
	env := &signer.Envelope{Cell: testCell, Type: "x", Recipient: "tree", Timestamp: 1700000000000}
	signer.Sign(k, env, []byte("body"), nil)
	frame, _ := signer.Encode(env, []byte("body"))
	var key [65]byte
	copy(key[:], k.PublicKey())
	f.Add(encodeRelayBody(key, frame))
	f.Add(key[:])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		key, env, body, err := DecodeRelayBody(b, 1<<16)
		if err != nil {
			if !errors.Is(err, ErrBadRelayFrame) {
				t.Fatalf("error %v does not wrap ErrBadRelayFrame", err)
			}
			return
		}
		frame, err := signer.Encode(env, body)
		if err != nil || !bytes.Equal(encodeRelayBody(key, frame), b) {
			t.Fatalf("accepted relay body does not round-trip: %v", err)
		}
	})
}

func FuzzDecodeErrorBody(f *testing.F) {
	f.Add(EncodeErrorBody("stale", "timestamp 5 ms behind"))
	f.Add([]byte(`{"code":"x","error":""}`))
	f.Add([]byte(`{"code":"x"}`))
	f.Add([]byte(`{"code":"x","error":"","more":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := DecodeErrorBody(b)
		if err != nil {
			if !errors.Is(err, ErrBadErrorBody) {
				t.Fatalf("error %v does not wrap ErrBadErrorBody", err)
			}
			return
		}
		again, err := DecodeErrorBody(EncodeErrorBody(e.Code, e.Message))
		if err != nil || again.Code != e.Code {
			t.Fatalf("re-encoding: %v", err)
		}
	})
}

func TestErrorBody(t *testing.T) {
	tests := []struct {
		in   string
		code string
		ok   bool
	}{
		{`{"code":"stale","error":"x"}`, "stale", true},
		{`{"error":"x","code":"stale"}`, "stale", true},
		{`{"code":"Stale","error":"x"}`, "", false},
		{`{"code":"stale"}`, "", false},
		{`{"code":"stale","error":"x"} {}`, "", false},
		{`{"code":"stale","error":"x","extra":1}`, "", false},
		{`[]`, "", false},
	}
	for _, tc := range tests {
		e, err := DecodeErrorBody([]byte(tc.in))
		if (err == nil) != tc.ok || err == nil && e.Code != tc.code {
			t.Errorf("DecodeErrorBody(%s) = %v, %v", tc.in, e, err)
		}
	}
	long := EncodeErrorBody("Bad Code", string(bytes.Repeat([]byte("é"), 1000)))
	e, err := DecodeErrorBody(long)
	if err != nil || e.Code != CodeInternal || len(e.Message) > maxErrorMsgLen {
		t.Fatalf("EncodeErrorBody did not bound its input: %v %v", e, err)
	}
}
