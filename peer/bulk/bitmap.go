package bulk

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/bits"
	"os"
)

// bitmap is a set of chunk indexes, bit i%8 of byte i/8 (LSB first).
type bitmap []byte

func bitmapLen(count int) int { return (count + 7) / 8 }

func newBitmap(count int) bitmap { return make(bitmap, bitmapLen(count)) }

func (b bitmap) has(i int) bool { return b[i>>3]&(1<<(i&7)) != 0 }
func (b bitmap) set(i int)      { b[i>>3] |= 1 << (i & 7) }
func (b bitmap) clear(i int)    { b[i>>3] &^= 1 << (i & 7) }

// count returns the number of set bits.
func (b bitmap) count() int {
	n := 0
	for _, x := range b {
		n += bits.OnesCount8(x)
	}
	return n
}

// validFor reports whether no bit at or past count is set.
func (b bitmap) validFor(count int) bool {
	if len(b) != bitmapLen(count) {
		return false
	}
	if r := count & 7; r != 0 && b[len(b)-1]>>r != 0 {
		return false
	}
	return true
}

// The bitmap file, <id>.bitmap next to <id>.part:
//
//	"BLKB" | id [32] | count u32 | bitmap ⌈count/8⌉ | CRC-32C u32 of all before
//
// It is replaced atomically (write <id>.bitmap.tmp, fsync, rename) and only
// after the partial file was fsync'd, so every bit it holds is on disk.
const (
	bitmapMagic   = "BLKB"
	bitmapFileFix = 4 + 32 + 4 + 4
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// appendBitmapFile appends the bitmap file contents.
func appendBitmapFile(b []byte, id [32]byte, count int, bm bitmap) []byte {
	start := len(b)
	b = append(b, bitmapMagic...)
	b = append(b, id[:]...)
	b = binary.BigEndian.AppendUint32(b, uint32(count))
	b = append(b, bm...)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b[start:], castagnoli))
}

// decodeBitmapFile parses a bitmap file strictly for transfer id of count
// chunks. The returned bitmap aliases p.
func decodeBitmapFile(p []byte, id [32]byte, count int) (bitmap, error) {
	if count < 0 || count > MaxChunks || len(p) != bitmapFileFix+bitmapLen(count) {
		return nil, errors.New("bulk: bitmap file has the wrong length")
	}
	body := p[:len(p)-4]
	if crc32.Checksum(body, castagnoli) != binary.BigEndian.Uint32(p[len(p)-4:]) {
		return nil, errors.New("bulk: bitmap file checksum mismatch")
	}
	if string(p[:4]) != bitmapMagic || [32]byte(p[4:36]) != id || binary.BigEndian.Uint32(p[36:40]) != uint32(count) {
		return nil, errors.New("bulk: bitmap file is for another transfer")
	}
	bm := bitmap(body[40:])
	if !bm.validFor(count) {
		return nil, errors.New("bulk: bitmap file has bits past the last chunk")
	}
	return bm, nil
}

// loadBitmapFile reads the bitmap file at path; any problem (missing,
// damaged, another transfer) returns an error and the caller starts over.
func loadBitmapFile(path string, id [32]byte, count int) (bitmap, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	want := bitmapFileFix + bitmapLen(count)
	p := make([]byte, want+1)
	n, err := io.ReadFull(f, p)
	if err != io.ErrUnexpectedEOF || n != want {
		return nil, fmt.Errorf("bulk: bitmap file %s has the wrong length", path)
	}
	return decodeBitmapFile(p[:n], id, count)
}

// writeBitmapFile replaces path atomically with contents: write path.tmp,
// fsync, rename.
func writeBitmapFile(path string, contents []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("bulk: writing bitmap: %w", err)
	}
	_, err = f.Write(contents)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("bulk: writing bitmap: %w", err)
	}
	return nil
}
