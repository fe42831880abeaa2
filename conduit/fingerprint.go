package conduit

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/borgios/borghui/cells/mail"
	"github.com/borgios/borghui/wallet/bip39"
)

// FingerprintDomain starts the bytes a key fingerprint hashes.
const FingerprintDomain = "BorgIOS/v1/fingerprint\n"

// FingerprintWords is how many words a fingerprint shows: 8 words of 11
// bits, the first 88 bits of the digest.
const FingerprintWords = 8

// FingerprintDigest returns SHA-256(FingerprintDomain ‖ identity public key
// ‖ long-term HPKE public key) of a mail card: what two people compare to
// know that a card is really the other's. Only the card's Owner and Key
// count (not its nickname, prekeys or version), so the fingerprint stays
// the same for the life of an identity.
func FingerprintDigest(card *mail.Card) ([32]byte, error) {
	if card == nil {
		return [32]byte{}, errors.New("conduit: fingerprint of no card")
	}
	if _, err := mail.PubKeyOf(card.Owner[:]); err != nil {
		return [32]byte{}, fmt.Errorf("conduit: fingerprint: identity key: %w", err)
	}
	if _, err := mail.ParseHPKEPublicKey(card.Key); err != nil {
		return [32]byte{}, fmt.Errorf("conduit: fingerprint: long-term key: %w", err)
	}
	h := sha256.New()
	h.Write([]byte(FingerprintDomain))
	h.Write(card.Owner[:])
	h.Write(card.Key)
	return [32]byte(h.Sum(nil)), nil
}

// Fingerprint returns the card's key fingerprint (see FingerprintDigest)
// as FingerprintWords BIP39 English words: the digest's first 88 bits,
// 11 bits per word, most significant first.
func Fingerprint(card *mail.Card) ([]string, error) {
	d, err := FingerprintDigest(card)
	if err != nil {
		return nil, err
	}
	// 88 bits: the first 8 bytes, then 3 more, as one 96-bit big-endian
	// number read 11 bits at a time from the top.
	hi := binary.BigEndian.Uint64(d[:8])
	lo := uint64(d[8])<<56 | uint64(d[9])<<48 | uint64(d[10])<<40
	words := make([]string, FingerprintWords)
	for i := range words {
		words[i] = bip39.Word(int(hi >> 53))
		hi = hi<<11 | lo>>53
		lo <<= 11
	}
	return words, nil
}
