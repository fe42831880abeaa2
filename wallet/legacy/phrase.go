package legacy

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"

	"github.com/borgios/borghui/wallet/bip39"
	"github.com/borgios/borghui/wallet/internal/bits11"
)

// phraseWords is the length of a borgHUI phrase: 288 bits (key and 4-byte
// checksum) in 11-bit words, the last one padded with 9 zero bits.
const phraseWords = 27

// phraseBuf holds the 297 bits of 27 words plus slack for bits11.Get/Put.
type phraseBuf [39]byte

// DecodePhrase decodes a 27-word borgHUI phrase into the private key it
// encodes. Words are read as bip39.ParseWords reads them; the 9 padding bits
// of the last word are ignored. Errors: *bip39.WordCountError,
// *bip39.UnknownWordError (both wrapped), ErrChecksum, ErrInvalidKey. dst is
// written only on success.
func DecodePhrase(input []byte, dst *[32]byte) error {
	indices, err := bip39.ParseWords(input, phraseWords)
	if err != nil {
		return fmt.Errorf("legacy: phrase: %w", err)
	}
	var buf phraseBuf
	for i, x := range indices {
		bits11.Put(buf[:], i, x)
	}
	clear(indices)
	defer clear(buf[:])

	var key [32]byte
	defer clear(key[:])
	copy(key[:], buf[:32])
	sum := sha256.Sum256(key[:])
	ok := subtle.ConstantTimeCompare(sum[:4], buf[32:36]) == 1
	clear(sum[:])
	if !ok {
		return ErrChecksum
	}
	if !validKey(&key) {
		return ErrInvalidKey
	}
	*dst = key
	return nil
}

// EncodePhrase returns the canonical 27-word phrase of key (padding bits
// zero), words separated by single spaces. The caller wipes the result.
func EncodePhrase(key *[32]byte) []byte {
	var buf phraseBuf
	defer clear(buf[:])
	copy(buf[:], key[:])
	sum := sha256.Sum256(key[:])
	copy(buf[32:36], sum[:4])
	clear(sum[:])

	var indices [phraseWords]uint16
	defer clear(indices[:])
	for i := range indices {
		indices[i] = bits11.Get(buf[:], i)
	}
	return bip39.AppendMnemonic(nil, indices[:])
}
