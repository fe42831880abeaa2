package bip39

import (
	"crypto/sha256"
	"fmt"

	"github.com/borgios/borghui/wallet/internal/bits11"
)

// Sizes of the mnemonics BorgIOS creates: 24 words from 32 bytes of entropy.
const (
	Words24   = 24
	Entropy24 = 32
)

// wordCounts are the BIP39 mnemonic lengths.
var wordCounts = []int{12, 15, 18, 21, 24}

// bitBuf holds up to 32 bytes of entropy, the checksum byte and two bytes of
// slack for the three-byte window bits11.Get/Put use.
type bitBuf [Entropy24 + 3]byte

// EntropyToIndices returns the word indices of the mnemonic for entropy
// (16..32 bytes, a multiple of 4): the entropy followed by the first
// len(entropy)/4 bits of its SHA-256, in 11-bit groups. The caller wipes the
// result with clear().
func EntropyToIndices(entropy []byte) ([]uint16, error) {
	n := len(entropy)
	if n < 16 || n > Entropy24 || n%4 != 0 {
		return nil, fmt.Errorf("%w: got %d", ErrEntropyLength, n)
	}
	var buf bitBuf
	copy(buf[:], entropy)
	sum := sha256.Sum256(entropy)
	buf[n] = sum[0] // only its top n/4 bits are read
	out := make([]uint16, n*3/4)
	for i := range out {
		out[i] = bits11.Get(buf[:], i)
	}
	clear(buf[:])
	clear(sum[:])
	return out, nil
}

// IndicesToEntropy checks the checksum of a 12..24-word mnemonic and appends
// its entropy to dst[:0] (reusing dst when it has room, else allocating
// exactly once). Errors: *WordCountError, ErrInvalidIndex (wrapped) or
// ErrChecksum. Nothing is written to dst on error.
func IndicesToEntropy(indices []uint16, dst []byte) ([]byte, error) {
	w := len(indices)
	if w < 12 || w > Words24 || w%3 != 0 {
		return nil, &WordCountError{Got: w, Want: wordCounts}
	}
	var buf bitBuf
	defer clear(buf[:])
	for i, x := range indices {
		if x >= listSize {
			return nil, fmt.Errorf("%w (word %d)", ErrInvalidIndex, i+1)
		}
		bits11.Put(buf[:], i, x)
	}
	n := w * 4 / 3   // entropy bytes
	shift := 8 - n/4 // the checksum is the top n/4 bits of buf[n]
	sum := sha256.Sum256(buf[:n])
	ok := sum[0]>>shift == buf[n]>>shift
	clear(sum[:])
	if !ok {
		return nil, ErrChecksum
	}
	if cap(dst) < n {
		dst = make([]byte, n)
	}
	dst = dst[:n]
	copy(dst, buf[:n])
	return dst, nil
}
