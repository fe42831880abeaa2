package signer

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestWireRoundTrip(t *testing.T) {
	k := mustKey(t, privOne)
	for _, body := range [][]byte{nil, {0}, []byte("hello"), bytes.Repeat([]byte{0xff, 0, '\n'}, 5000)} {
		env := request(t, k, t0, body)
		frame, err := Encode(env, body)
		if err != nil {
			t.Fatal(err)
		}
		got, gotBody, err := Decode(frame, int64(len(body)))
		if err != nil {
			t.Fatalf("Decode: %v", err)
		}
		if !bytes.Equal(gotBody, body) {
			t.Fatal("body changed")
		}
		again, err := Encode(got, gotBody)
		if err != nil || !bytes.Equal(again, frame) {
			t.Fatalf("re-encode differs: %v", err)
		}
		// The stream form writes the same bytes.
		var buf bytes.Buffer
		if err := WriteMessage(&buf, env, bytes.NewReader(body), int64(len(body))); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), frame) {
			t.Fatal("WriteMessage differs from Encode")
		}
		v := newTestVerifier(newClock(t0), 0)
		if err := v.Verify(got, gotBody, Expect{}); err != nil {
			t.Fatalf("Verify after round trip: %v", err)
		}
	}
}

// frameWith builds a frame around raw envelope JSON.
func frameWith(envJSON []byte, bodyLen uint64, body []byte) []byte {
	b := []byte(Magic)
	b = binary.BigEndian.AppendUint32(b, uint32(len(envJSON)))
	b = append(b, envJSON...)
	b = binary.BigEndian.AppendUint64(b, bodyLen)
	return append(b, body...)
}

func TestDecodeErrors(t *testing.T) {
	k := mustKey(t, privOne)
	env := request(t, k, t0, []byte("abc"))
	frame, err := Encode(env, []byte("abc"))
	if err != nil {
		t.Fatal(err)
	}
	js := string(env.appendJSON(nil, true))
	sub := func(old, new string) []byte {
		if !strings.Contains(js, old) {
			t.Fatalf("%q not in %s", old, js)
		}
		return frameWith([]byte(strings.Replace(js, old, new, 1)), 3, []byte("abc"))
	}
	senderHex := js[strings.Index(js, `"sender":"`)+10:][:130]
	tests := []struct {
		name    string
		in      []byte
		maxBody int64
		err     error
	}{
		{"empty", nil, 10, ErrTruncated},
		{"short magic", []byte("BG"), 10, ErrTruncated},
		{"bad magic", append([]byte("BGE2"), frame[4:]...), 10, ErrMalformed},
		{"no env length", frame[:6], 10, ErrTruncated},
		{"zero env length", frameWith(nil, 0, nil), 10, ErrMalformed},
		{"env too large", binary.BigEndian.AppendUint32([]byte(Magic), MaxEnvelopeBytes+1), 10, ErrTooLarge},
		{"env length 2^32-1", binary.BigEndian.AppendUint32([]byte(Magic), 1<<32-1), 10, ErrTooLarge},
		{"env cut", frame[:100], 10, ErrTruncated},
		{"no body length", frame[:len(frame)-3-8], 10, ErrTruncated},
		{"body cut", frame[:len(frame)-1], 10, ErrTruncated},
		{"trailing byte", append(bytes.Clone(frame), 0), 10, ErrMalformed},
		{"body over limit", frame, 2, ErrTooLarge},
		{"body over negative limit", frame, -1, ErrTooLarge},
		{"body length 2^64-1", frameWith([]byte(js), 1<<64-1, nil), 1 << 62, ErrTooLarge},
		{"space after colon", sub(`"cell":"`, `"cell": "`), 10, ErrMalformed},
		{"leading space", sub(`{"bodyHash"`, ` {"bodyHash"`), 10, ErrMalformed},
		{"trailing newline", sub(`"version":1}`, "\"version\":1}\n"), 10, ErrMalformed},
		{"uppercase hex", sub(senderHex, strings.ToUpper(senderHex)), 10, ErrMalformed},
		{"escaped char", sub(`"type":"storeShard"`, `"type":"store\u0053hard"`), 10, ErrMalformed},
		{"version 2", sub(`"version":1`, `"version":2`), 10, ErrMalformed},
		{"version 1.0", sub(`"version":1`, `"version":1.0`), 10, ErrMalformed},
		{"timestamp leading zero", sub(`"timestamp":1`, `"timestamp":01`), 10, ErrMalformed},
		{"timestamp exponent", sub(`"timestamp":1700000000000`, `"timestamp":1.7e12`), 10, ErrMalformed},
		{"timestamp negative", sub(`"timestamp":1`, `"timestamp":-1`), 10, ErrMalformed},
		{"timestamp 2^53", sub(`"timestamp":1700000000000`, `"timestamp":9007199254740992`), 10, ErrMalformed},
		{"timestamp 17 digits", sub(`"timestamp":1700000000000`, `"timestamp":17000000000000000`), 10, ErrMalformed},
		{"timestamp as string", sub(`"timestamp":1700000000000`, `"timestamp":"1700000000000"`), 10, ErrMalformed},
		{"keys reordered", sub(`"cell":"shardTreeCell","inReplyTo":""`, `"inReplyTo":"","cell":"shardTreeCell"`), 10, ErrMalformed},
		{"duplicate key", sub(`"cell":"shardTreeCell",`, `"cell":"shardTreeCell","cell":"shardTreeCell",`), 10, ErrMalformed},
		{"zero inReplyTo spelt out", sub(`"inReplyTo":""`, `"inReplyTo":"`+strings.Repeat("0", 64)+`"`), 10, ErrMalformed},
		{"short nonce", sub(`"nonce":"`, `"nonce":"00`), 10, ErrMalformed},
		{"empty cell", sub(`"cell":"shardTreeCell"`, `"cell":""`), 10, ErrMalformed},
		{"odd sig", sub(`"sig":"30`, `"sig":"3`), 10, ErrMalformed},
		{"unknown member", sub(`"version":1}`, `"version":1,"x":1}`), 10, ErrMalformed},
		{"not JSON", frameWith([]byte("hello"), 0, nil), 10, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, b, err := Decode(tc.in, tc.maxBody)
			if !errors.Is(err, tc.err) {
				t.Fatalf("Decode = %v, want %v", err, tc.err)
			}
			if strings.Count(err.Error(), "signer:") != 1 {
				t.Fatalf("error %q: want exactly one package prefix", err)
			}
			if e != nil || b != nil {
				t.Fatal("result returned with an error")
			}
			_, _, err = ReadMessage(bytes.NewReader(tc.in), tc.maxBody)
			if tc.name == "empty" {
				if err != io.EOF {
					t.Fatalf("ReadMessage(empty) = %v, want io.EOF", err)
				}
				return
			}
			// ReadMessage leaves the body unread, so body-level faults show up
			// when reading the body, not here.
			if err != nil && !errors.Is(err, tc.err) {
				t.Fatalf("ReadMessage = %v, want nil or %v", err, tc.err)
			}
		})
	}
}

func TestEncodeRejectsInvalid(t *testing.T) {
	k := mustKey(t, privOne)
	env := request(t, k, t0, nil)
	unsigned := clone(env)
	unsigned.Signature = nil
	badCell := clone(env)
	badCell.Cell = "a b"
	for _, e := range []*Envelope{nil, unsigned, badCell} {
		if _, err := Encode(e, nil); !errors.Is(err, ErrMalformed) {
			t.Errorf("Encode = %v, want ErrMalformed", err)
		}
		if err := WriteMessage(io.Discard, e, bytes.NewReader(nil), 0); !errors.Is(err, ErrMalformed) {
			t.Errorf("WriteMessage = %v, want ErrMalformed", err)
		}
	}
}

func TestStreamMessages(t *testing.T) {
	k := mustKey(t, privOne)
	bodies := [][]byte{[]byte("first"), nil, bytes.Repeat([]byte("x"), 100_000)}
	var stream bytes.Buffer
	envs := make([]*Envelope, len(bodies))
	for i, b := range bodies {
		envs[i] = request(t, k, t0+int64(i), b)
		if err := WriteMessage(&stream, envs[i], bytes.NewReader(b), int64(len(b))); err != nil {
			t.Fatal(err)
		}
	}
	v := newTestVerifier(newClock(t0), 0)
	r := iotest.OneByteReader(&stream) // worst-case fragmentation
	for i, want := range bodies {
		env, body, err := ReadMessage(r, 1<<20)
		if err != nil {
			t.Fatalf("msg %d: %v", i, err)
		}
		if body.Len() != int64(len(want)) {
			t.Fatalf("msg %d: Len %d", i, body.Len())
		}
		if _, err := body.Sum(); !errors.Is(err, ErrTruncated) && len(want) > 0 {
			t.Fatalf("Sum before reading: %v", err)
		}
		got, err := io.ReadAll(body)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("msg %d body: %v", i, err)
		}
		sum, err := body.Sum()
		if err != nil {
			t.Fatal(err)
		}
		if err := v.VerifyBodyHash(env, sum, Expect{}); err != nil {
			t.Fatalf("msg %d: %v", i, err)
		}
	}
	if _, _, err := ReadMessage(r, 1<<20); err != io.EOF {
		t.Fatalf("after the last message: %v, want io.EOF", err)
	}
}

func TestStreamLimits(t *testing.T) {
	k := mustKey(t, privOne)
	env := request(t, k, t0, nil)
	// A header that announces 1 TiB: rejected before any body byte is read.
	hdr, err := appendHeader(nil, env, 1<<40)
	if err != nil {
		t.Fatal(err)
	}
	src := io.MultiReader(bytes.NewReader(hdr), iotest.ErrReader(errors.New("body must not be read")))
	if _, _, err := ReadMessage(src, 1<<20); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("huge body: %v, want ErrTooLarge", err)
	}
	// A body that ends early.
	hdr, _ = appendHeader(nil, env, 10)
	_, body, err := ReadMessage(bytes.NewReader(append(hdr, "short"...)), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(body); !errors.Is(err, ErrTruncated) {
		t.Fatalf("short body: %v, want ErrTruncated", err)
	}
	if _, err := body.Sum(); !errors.Is(err, ErrTruncated) {
		t.Fatalf("Sum of short body: %v", err)
	}
	// A header cut inside the envelope.
	if _, _, err := ReadMessage(bytes.NewReader(hdr[:50]), 1<<20); !errors.Is(err, ErrTruncated) {
		t.Fatalf("cut header: %v, want ErrTruncated", err)
	}
	// The writer refuses a body shorter than announced.
	if err := WriteMessage(io.Discard, env, strings.NewReader("abc"), 4); !errors.Is(err, ErrTruncated) {
		t.Fatalf("WriteMessage short body: %v", err)
	}
	// A failing writer is reported.
	if err := WriteMessage(errWriter{}, env, strings.NewReader(""), 0); err == nil {
		t.Fatal("WriteMessage to a failing writer succeeded")
	}
}

type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }
