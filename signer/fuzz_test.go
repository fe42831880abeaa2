package signer

import (
	"bytes"
	"errors"
	"testing"
)

// fuzzSeeds returns the golden wire messages.
func fuzzSeeds(t testing.TB) [][]byte {
	var out [][]byte
	for _, g := range goldenInputs(t) {
		out = append(out, mustHex(t, g.Wire))
	}
	return out
}

// FuzzDecode: the decoder never panics, returns exactly one of its error
// kinds on failure, and everything it accepts re-encodes to the same bytes.
func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
		f.Add(s[:len(s)/2])
		f.Add(append(bytes.Clone(s), 0))
	}
	f.Add([]byte{})
	f.Add([]byte("BGE1\x00\x00\x00\x02{}\x00\x00\x00\x00\x00\x00\x00\x00"))
	f.Add([]byte("BGE1\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		env, body, err := Decode(data, 1<<16)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("untyped error: %v", err)
			}
			return
		}
		again, err := Encode(env, body)
		if err != nil {
			t.Fatalf("accepted but cannot re-encode: %v", err)
		}
		if !bytes.Equal(again, data) {
			t.Fatalf("round trip differs:\n in %q\nout %q", data, again)
		}
		// The stream decoder agrees.
		env2, br, err := ReadMessage(bytes.NewReader(data), 1<<16)
		if err != nil || env2.digest() != env.digest() || br.Len() != int64(len(body)) {
			t.Fatalf("ReadMessage disagrees: %v", err)
		}
	})
}

// FuzzVerify: a mutated message (flipped byte, spliced bytes, cut) never
// verifies unless it carries the same signed content and body as the
// original. (The one malleable variant, the high-S twin of the signature,
// has the same digest and the same replay key.)
func FuzzVerify(f *testing.F) {
	seeds := fuzzSeeds(f)
	for i := range seeds {
		f.Add(uint8(i), uint16(0), uint8(0), uint16(0), []byte{})  // unchanged
		f.Add(uint8(i), uint16(40), uint8(1), uint16(0), []byte{}) // envelope byte
		f.Add(uint8(i), uint16(9999), uint8(0x80), uint16(0), []byte{})
		f.Add(uint8(i), uint16(0), uint8(0), uint16(60), []byte("0"))
	}
	f.Fuzz(func(t *testing.T, which uint8, pos uint16, xor uint8, at uint16, splice []byte) {
		orig := seeds[int(which)%len(seeds)]
		origEnv, origBody, err := Decode(orig, 1<<16)
		if err != nil {
			t.Fatal(err)
		}
		m := bytes.Clone(orig)
		m[int(pos)%len(m)] ^= xor
		if len(splice) > 0 {
			i := int(at) % len(m)
			m = append(m[:i:i], append(splice, m[i:]...)...)
		}
		env, body, err := Decode(m, 1<<16)
		if err != nil {
			return
		}
		v := newTestVerifier(newClock(origEnv.Timestamp), 0)
		if err := v.Verify(env, body, Expect{InReplyTo: env.InReplyTo}); err != nil {
			return
		}
		if env.digest() != origEnv.digest() || !bytes.Equal(body, origBody) {
			t.Fatalf("a mutated message verified:\n in %q\nout %q", orig, m)
		}
	})
}
