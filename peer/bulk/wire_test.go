package bulk

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"
)

// offerFrame returns a whole offer frame for o.
func offerFrame(o *Offer) []byte {
	p := o.payload()
	f := append(make([]byte, frameHeaderLen), p...)
	putFrameHeader(f, frameOffer, len(p))
	return f
}

// rawHead builds an offer frame header and head with the given fields; the
// frame length is n (or the exact length the fields imply when n < 0).
func rawHead(size uint64, cs, count uint32, nameLen uint16, n int64) []byte {
	if n < 0 {
		n = int64(offerHeadLen) + int64(nameLen) + 32*int64(count)
	}
	b := []byte{frameOffer, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(b[1:], uint32(n))
	b = append(b, offerMagic...)
	b = append(b, make([]byte, 32)...)
	b = binary.BigEndian.AppendUint64(b, size)
	b = binary.BigEndian.AppendUint32(b, cs)
	b = binary.BigEndian.AppendUint32(b, count)
	return binary.BigEndian.AppendUint16(b, nameLen)
}

func TestDecodeOffer(t *testing.T) {
	data := randomData(3*testChunk+5, 1)
	o := mustOffer(t, "name ✓", data, testChunk)
	p := o.payload()
	got, err := decodeOffer(p)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != o.ID || got.Name != o.Name || got.Size != o.Size || got.ChunkSize != o.ChunkSize || len(got.Hashes) != 4 || got.Hashes[3] != o.Hashes[3] {
		t.Fatalf("decoded %+v", got)
	}
	mutate := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(p)) }
	for _, tc := range []struct {
		name string
		p    []byte
	}{
		{"empty", nil},
		{"short head", p[:offerHeadLen-1]},
		{"truncated", p[:len(p)-1]},
		{"trailing byte", append(bytes.Clone(p), 0)},
		{"bad magic", mutate(func(b []byte) []byte { b[0] = 'X'; return b })},
		{"bad id", mutate(func(b []byte) []byte { b[4] ^= 1; return b })},
		{"hash changed", mutate(func(b []byte) []byte { b[len(b)-1] ^= 1; return b })},
		{"size changed", mutate(func(b []byte) []byte { b[43]++; return b })},
		{"count mismatch", mutate(func(b []byte) []byte { b[51]--; return b })},
		{"chunk size 0", mutate(func(b []byte) []byte { binary.BigEndian.PutUint32(b[44:], 0); return b })},
		{"chunk size 2 GiB", mutate(func(b []byte) []byte { binary.BigEndian.PutUint32(b[44:], 1<<31); return b })},
		{"name control char", mutate(func(b []byte) []byte { b[offerHeadLen] = '\n'; return b })},
		{"name bad utf-8", mutate(func(b []byte) []byte { b[offerHeadLen] = 0xff; return b })},
	} {
		if _, err := decodeOffer(tc.p); !errors.Is(err, ErrBadOffer) {
			t.Errorf("%s: err = %v, want ErrBadOffer", tc.name, err)
		}
	}
}

func TestNewOfferLimits(t *testing.T) {
	ctx := context.Background()
	src := bytes.NewReader(nil)
	for _, tc := range []struct {
		name  string
		size  int64
		chunk int
	}{
		{"negative size", -1, 0},
		{"chunk too small", 10, MinChunkSize - 1},
		{"chunk too large", 10, MaxChunkSize + 1},
		{"too many chunks", int64(MaxChunks+1) * MinChunkSize, MinChunkSize},
		{"too large", int64(MaxChunks)*MaxChunkSize + 1, 0},
	} {
		if _, err := NewOffer(ctx, "x", src, tc.size, tc.chunk); !errors.Is(err, ErrBadOffer) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if _, err := NewOffer(ctx, "bad\x00name", src, 0, 0); !errors.Is(err, ErrBadOffer) {
		t.Errorf("bad name: %v", err)
	}
	if _, err := NewOffer(ctx, "short", src, 10, 0); err == nil || !errors.Is(err, errSource) || !strings.Contains(err.Error(), "reading chunk 0") {
		t.Errorf("short source: %v", err)
	}
}

func TestWireRoundTrips(t *testing.T) {
	// Accept.
	for _, count := range []int{0, 1, 7, 8, 9, 1000} {
		bm := newBitmap(count)
		for i := 0; i < count; i += 3 {
			bm.set(i)
		}
		got, err := decodeAccept(appendAccept(nil, bm, count), count)
		if err != nil || !bytes.Equal(got, bm) {
			t.Errorf("accept %d: %v", count, err)
		}
	}
	if _, err := decodeAccept(appendAccept(nil, bitmap{0x80}, 7), 7); err == nil {
		t.Error("accept with a bit past the count was accepted")
	}
	if _, err := decodeAccept(appendAccept(nil, newBitmap(9), 9), 8); err == nil {
		t.Error("accept for another count was accepted")
	}
	// Status.
	long := strings.Repeat("é", 200) // 400 bytes: cut on a rune boundary
	for _, reason := range []string{"", "quota exceeded", "line\nbreak\x00", long, "\xff\xfe"} {
		code, got, err := decodeStatus(appendStatus(nil, CodeTooLarge, reason))
		if err != nil || code != CodeTooLarge || got != cleanReason(reason) || len(got) > MaxReasonLen {
			t.Errorf("status %q: %v %q %v", reason, code, got, err)
		}
	}
	if _, _, err := decodeStatus([]byte{0, 0, 0}); err == nil {
		t.Error("status code 0 accepted")
	}
	if _, _, err := decodeStatus([]byte{byte(maxCode + 1), 0, 0}); err == nil {
		t.Error("unknown status code accepted")
	}
	// Index, done.
	if i, err := decodeIndex([]byte{0, 0, 1, 2}, 259); err != nil || i != 258 {
		t.Errorf("index: %d %v", i, err)
	}
	if _, err := decodeIndex([]byte{0, 0, 1, 3}, 259); err == nil {
		t.Error("index past the count accepted")
	}
	id := [32]byte{1}
	if decodeDone(id[:], id) != nil || decodeDone(make([]byte, 32), id) == nil {
		t.Error("done")
	}
	// Frame header.
	for typ := byte(0); typ < 12; typ++ {
		max := maxPayload(typ)
		h := make([]byte, frameHeaderLen)
		putFrameHeader(h, typ, max)
		_, _, err := decodeFrameHeader(h)
		if (err == nil) != (max >= 0) {
			t.Errorf("type %d at its limit: %v", typ, err)
		}
		if max >= 0 {
			putFrameHeader(h, typ, max+1)
			if _, _, err := decodeFrameHeader(h); err == nil {
				t.Errorf("type %d over its limit accepted", typ)
			}
		}
	}
}

func TestBitmapFile(t *testing.T) {
	id := [32]byte{9}
	bm := newBitmap(13)
	bm.set(0)
	bm.set(12)
	f := appendBitmapFile(nil, id, 13, bm)
	got, err := decodeBitmapFile(f, id, 13)
	if err != nil || !bytes.Equal(got, bm) || got.count() != 2 {
		t.Fatalf("%v %v", got, err)
	}
	for i := range f {
		g := bytes.Clone(f)
		g[i] ^= 0x10
		if _, err := decodeBitmapFile(g, id, 13); err == nil {
			t.Errorf("flipped byte %d accepted", i)
		}
	}
	if _, err := decodeBitmapFile(f, [32]byte{8}, 13); err == nil {
		t.Error("another id accepted")
	}
	if _, err := decodeBitmapFile(f[:len(f)-1], id, 13); err == nil {
		t.Error("truncated accepted")
	}
}

// TestMalformedOffer: offers outside the limits are refused with the right
// code, without allocating what they claim.
func TestMalformedOffer(t *testing.T) {
	good := mustOffer(t, "good", randomData(3*testChunk, 2), testChunk)
	badID := good
	badID.ID[0] ^= 1
	badName := good
	badName.Name = "a\tb"
	const tib = uint64(1) << 40
	for _, tc := range []struct {
		name    string
		head    []byte // written first
		rest    int64  // zeros streamed after head
		maxSize int64
		code    Code // 0: no answer expected
	}{
		{"frame length 4 GiB", []byte{frameOffer, 0xff, 0xff, 0xff, 0xff}, 0, 0, CodeBadOffer},
		{"not an offer", []byte{frameAck, 0, 0, 0, 4}, 0, 0, CodeProtocol},
		{"shorter than a head", []byte{frameOffer, 0, 0, 0, 10}, 10, 0, CodeBadOffer},
		{"too many chunks, frame at the limit", rawHead(uint64(MaxChunks+1)*testChunk, testChunk, MaxChunks+1, 0, maxOfferLen), maxOfferLen - offerHeadLen, 0, CodeBadOffer},
		{"too many chunks, frame to match", rawHead(uint64(MaxChunks+1)*testChunk, testChunk, MaxChunks+1, 0, -1), 0, 0, CodeBadOffer},
		{"size/count mismatch", rawHead(10*testChunk, testChunk, 9, 0, -1), 9 * 32, 0, CodeBadOffer},
		{"chunk size 0", rawHead(100, 0, 1, 0, -1), 32, 0, CodeBadOffer},
		{"chunk size 4 GiB", rawHead(100, 0xffffffff, 1, 0, -1), 32, 0, CodeBadOffer},
		{"1 TiB, over MaxSize", rawHead(tib, MaxChunkSize, uint32(tib/MaxChunkSize), 0, -1), 32 * int64(tib/MaxChunkSize), 1 << 20, CodeTooLarge},
		{"bad id", offerFrame(&badID), 0, 0, CodeBadOffer},
		{"bad name", offerFrame(&badName), 0, 0, CodeBadOffer},
		{"truncated", offerFrame(&good)[:40], 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkGoroutines(t)
			dir := t.TempDir()
			x, y := net.Pipe()
			r := &Receiver{Dir: dir, MaxSize: tc.maxSize, Timeout: time.Second}
			go func() {
				x.Write(tc.head)
				if tc.rest > 0 {
					io.CopyN(x, zeroReader{}, tc.rest)
				}
				if tc.code == 0 {
					x.Close()
				}
			}()
			answer := make(chan []byte, 1)
			go func() {
				b, _ := io.ReadAll(x)
				answer <- b
			}()
			var m0, m1 runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&m0)
			err := r.Serve(context.Background(), y)
			runtime.ReadMemStats(&m1)
			if alloc := m1.TotalAlloc - m0.TotalAlloc; alloc > 1<<20 {
				t.Errorf("allocated %d bytes", alloc)
			}
			x.Close()
			b := <-answer
			if tc.code == 0 {
				if err == nil || errors.Is(err, ErrRefused) || len(b) != 0 {
					t.Errorf("Serve: %v, answer %x", err, b)
				}
				return
			}
			if !errors.Is(err, ErrRefused) {
				t.Errorf("Serve: %v, want ErrRefused", err)
			}
			if len(b) < frameHeaderLen || b[0] != frameFail {
				t.Fatalf("answer %x", b)
			}
			code, reason, derr := decodeStatus(b[frameHeaderLen:])
			if derr != nil || code != tc.code {
				t.Errorf("answer %s %q %v, want %s", code, reason, derr, tc.code)
			}
			if f := dirFiles(t, dir); len(f) != 0 {
				t.Errorf("left behind: %v", f)
			}
		})
	}
}
