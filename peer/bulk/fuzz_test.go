package bulk

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// fuzzOffer is a small valid offer used as a seed.
func fuzzOffer(t testing.TB) (Offer, []byte) {
	data := randomData(2*testChunk+100, 3)
	o, err := NewOffer(context.Background(), "seed", bytes.NewReader(data), int64(len(data)), testChunk)
	if err != nil {
		t.Fatal(err)
	}
	return o, data
}

func FuzzDecodeFrameHeader(f *testing.F) {
	f.Add([]byte{frameOffer, 0, 0, 0, 54})
	f.Add([]byte{frameChunk, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, h []byte) {
		typ, n, err := decodeFrameHeader(h)
		if err != nil {
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if n < 0 || n > maxPayload(typ) {
			t.Fatalf("type %d length %d accepted", typ, n)
		}
		again := make([]byte, frameHeaderLen)
		putFrameHeader(again, typ, n)
		if !bytes.Equal(again, h) {
			t.Fatalf("re-encoded %x, was %x", again, h)
		}
	})
}

// FuzzDecodeOffer: never panics, errors are ErrBadOffer, and an accepted
// offer re-encodes to the same bytes and satisfies the invariants.
func FuzzDecodeOffer(f *testing.F) {
	o, _ := fuzzOffer(f)
	p := o.payload()
	f.Add(p)
	f.Add(p[:offerHeadLen])
	f.Add(append(bytes.Clone(p), 1))
	empty, _ := NewOffer(context.Background(), "", bytes.NewReader(nil), 0, 0)
	f.Add(empty.payload())
	f.Fuzz(func(t *testing.T, p []byte) {
		o, err := decodeOffer(p)
		if err != nil {
			if !errors.Is(err, ErrBadOffer) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if !bytes.Equal(o.payload(), p) {
			t.Fatal("accepted offer does not re-encode to its bytes")
		}
		if int64(o.Chunks()) != chunkCount(o.Size, o.ChunkSize) || o.Chunks() > MaxChunks ||
			o.ChunkSize < MinChunkSize || o.ChunkSize > MaxChunkSize || !validName(o.Name, MaxNameLen) {
			t.Fatalf("invariants broken: %+v", o)
		}
	})
}

func FuzzDecodeAccept(f *testing.F) {
	f.Add(appendAccept(nil, bitmap{0x05, 0x01}, 9), uint32(9))
	f.Add([]byte{0, 0, 0, 0}, uint32(0))
	f.Add([]byte{0, 0, 0, 3, 0xff}, uint32(3))
	f.Fuzz(func(t *testing.T, p []byte, count uint32) {
		if count > MaxChunks {
			count %= MaxChunks + 1
		}
		bm, err := decodeAccept(p, int(count))
		if err != nil {
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if !bytes.Equal(appendAccept(nil, bm, int(count)), p) || bm.count() > int(count) {
			t.Fatal("accepted bitmap does not round-trip")
		}
	})
}

func FuzzDecodeStatus(f *testing.F) {
	f.Add(appendStatus(nil, CodeRefused, "quota exceeded"))
	f.Add(appendStatus(nil, CodeIO, ""))
	f.Add([]byte{1, 0, 1, '\n'})
	f.Fuzz(func(t *testing.T, p []byte) {
		code, reason, err := decodeStatus(p)
		if err != nil {
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if !bytes.Equal(appendStatus(nil, code, reason), p) {
			t.Fatal("accepted status does not round-trip")
		}
	})
}

func FuzzDecodeIndex(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1}, uint32(2))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff}, uint32(MaxChunks))
	f.Fuzz(func(t *testing.T, p []byte, count uint32) {
		i, err := decodeIndex(p, int(count))
		if err != nil {
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if i < 0 || int64(i) >= int64(count) {
			t.Fatalf("index %d of %d accepted", i, count)
		}
	})
}

func FuzzDecodeDone(f *testing.F) {
	f.Add(make([]byte, 32))
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, p []byte) {
		var id [32]byte
		err := decodeDone(p, id)
		if (err == nil) != bytes.Equal(p, id[:]) {
			t.Fatalf("done %x: %v", p, err)
		}
	})
}

func FuzzDecodeBitmapFile(f *testing.F) {
	id := [32]byte{7}
	bm := newBitmap(11)
	bm.set(3)
	f.Add(appendBitmapFile(nil, id, 11, bm), uint32(11))
	f.Add(appendBitmapFile(nil, id, 0, nil), uint32(0))
	f.Fuzz(func(t *testing.T, p []byte, count uint32) {
		if count > MaxChunks {
			count %= MaxChunks + 1
		}
		got, err := decodeBitmapFile(p, id, int(count))
		if err != nil {
			return
		}
		if !bytes.Equal(appendBitmapFile(nil, id, int(count), got), p) {
			t.Fatal("accepted bitmap file does not round-trip")
		}
	})
}

// FuzzServe feeds arbitrary sender bytes to a Receiver: it never panics,
// always returns, and leaves no file it should not (a completed file only
// when Serve returned nil).
func FuzzServe(f *testing.F) {
	o, data := fuzzOffer(f)
	offer := offerFrame(&o)
	chunk := func(i int, b []byte) []byte {
		fr := make([]byte, chunkHeaderLen, chunkHeaderLen+len(b))
		putFrameHeader(fr, frameChunk, 4+len(b))
		fr[8] = byte(i)
		return append(fr, b...)
	}
	var all []byte
	all = append(all, offer...)
	for i := range o.Chunks() {
		all = append(all, chunk(i, data[o.chunkOff(i):o.chunkOff(i)+int64(o.chunkLen(i))])...)
	}
	f.Add(all)
	f.Add(offer)
	f.Add(append(bytes.Clone(offer), chunk(0, make([]byte, testChunk))...))
	f.Add(append(bytes.Clone(offer), frameAbort, 0, 0, 0, 3, byte(CodeSourceChanged), 0, 0))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, in []byte) {
		dir := t.TempDir()
		x, y := net.Pipe()
		go func() {
			x.Write(in)
			x.Close()
		}()
		go io.Copy(io.Discard, x)
		r := &Receiver{Dir: dir, Timeout: 100 * time.Millisecond, MaxSize: 1 << 20}
		done := make(chan error, 1)
		go func() { done <- r.Serve(context.Background(), y) }()
		select {
		case err := <-done:
			files := dirFiles(t, dir)
			for _, name := range files {
				if _, _, ok := splitPartialName(name); !ok && err != nil {
					t.Fatalf("failed Serve (%v) left %s", err, name)
				}
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Serve did not return")
		}
	})
}
