package mail

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
	"time"
	"unicode"

	"github.com/borgios/borghui/signer"
)

// CardDomain starts the canonical bytes of a mail card.
const CardDomain = "BorgIOS/v1/mail-card\n"

// Card limits.
const (
	// MaxNick bounds a nickname in bytes of UTF-8.
	MaxNick = 64
	// MaxPrekeys bounds the one-time prekeys one card lists.
	MaxPrekeys = 32
	// MaxCard bounds a card's JSON.
	MaxCard = 80 << 10
)

// Prekey is a one-time public key of a card: id and encoded HPKE public
// key. Its private half lives only in its owner's PrekeyStore.
type Prekey struct {
	ID  PrekeyID `json:"id"`
	Key Blob     `json:"key"`
}

// Card is an identity's mail card: who it is, how to seal to it. It is
// signed by the identity key; see doc.go for the exact signed bytes. Cells
// keep the highest version; a newer version replaces the prekeys a cell
// hands out.
type Card struct {
	Owner     PubKey   `json:"owner"`   // the identity key
	MUID      string   `json:"muid"`    // its address (must match Owner)
	Nick      string   `json:"nick"`    // 1..MaxNick bytes, no control characters
	Avatar    string   `json:"avatar"`  // "" or a file capability link
	Key       Blob     `json:"key"`     // long-term HPKE public key
	Prekeys   []Prekey `json:"prekeys"` // one-time HPKE public keys
	Version   uint64   `json:"version"` // 1, 2, ...: higher wins
	Time      int64    `json:"time"`    // ms since the Unix epoch, as the owner saw it
	Signature Sig      `json:"sig"`     // DER ECDSA by Owner over Hash()
}

// appendJSON appends the card as RFC 8785 JSON, with "sig" in its sorted
// place when withSig (the wire form) or without it (the signed form).
func (c *Card) appendJSON(b []byte, withSig bool) []byte {
	b = append(b, `{"avatar":`...)
	b = appendString(b, c.Avatar)
	b = append(b, `,"key":"`...)
	b = base64.RawURLEncoding.AppendEncode(b, c.Key)
	b = append(b, `","muid":`...)
	b = appendString(b, c.MUID)
	b = append(b, `,"nick":`...)
	b = appendString(b, c.Nick)
	b = append(b, `,"owner":"`...)
	b = append(b, c.Owner.String()...)
	b = append(b, `","prekeys":[`...)
	for i, p := range c.Prekeys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":"`...)
		b = append(b, p.ID.String()...)
		b = append(b, `","key":"`...)
		b = base64.RawURLEncoding.AppendEncode(b, p.Key)
		b = append(b, `"}`...)
	}
	b = append(b, ']')
	if withSig {
		b = append(b, `,"sig":"`...)
		b = hex.AppendEncode(b, c.Signature)
		b = append(b, '"')
	}
	b = append(b, `,"time":`...)
	b = appendInt(b, c.Time)
	b = append(b, `,"version":`...)
	b = appendUint(b, c.Version)
	return append(b, '}')
}

// Canonical returns the bytes the owner signs: CardDomain then the card's
// members but sig as RFC 8785 JSON.
func (c *Card) Canonical() []byte {
	b := make([]byte, 0, len(CardDomain)+512+2*len(c.Key)*(1+len(c.Prekeys)))
	b = append(b, CardDomain...)
	return c.appendJSON(b, false)
}

// Hash is SHA-256 of Canonical(): the digest the owner signs.
func (c *Card) Hash() [32]byte { return sha256.Sum256(c.Canonical()) }

// MarshalJSON encodes the card in its canonical member order with sig.
func (c *Card) MarshalJSON() ([]byte, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	return c.appendJSON(nil, true), nil
}

// UnmarshalJSON decodes a card's members (strictness is the enclosing
// decoder's: decodeStrict refuses unknown and repeated members).
func (c *Card) UnmarshalJSON(b []byte) error {
	type plain Card
	var p plain
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return fmt.Errorf("%w: card: %w", ErrMalformed, err)
	}
	*c = Card(p)
	return c.check()
}

// DecodeCard parses one card's JSON strictly and checks its form (not its
// signature: call Verify).
func DecodeCard(b []byte) (*Card, error) {
	var c Card
	if err := decodeStrict(b, MaxCard, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// CheckNick reports whether s is an acceptable nickname: 1..MaxNick bytes
// of UTF-8 without control characters.
func CheckNick(s string) error {
	if s == "" {
		return fmt.Errorf("%w: nickname is empty", ErrMalformed)
	}
	if err := text(s, MaxNick, "nickname"); err != nil {
		return err
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Errorf("%w: nickname has a control character", ErrMalformed)
		}
	}
	return nil
}

// check validates the form of the card (no curve arithmetic).
func (c *Card) check() error {
	switch {
	case c.Owner[0] != 0x04:
		return fmt.Errorf("%w: card owner is not an uncompressed key", ErrMalformed)
	case c.Version < 1 || c.Version > MaxInteger:
		return fmt.Errorf("%w: card version %d not in 1..2^53-1", ErrMalformed, c.Version)
	case c.Time < 0 || c.Time > MaxInteger:
		return fmt.Errorf("%w: card time out of range", ErrMalformed)
	case len(c.Key) != HPKEPublicKeyLen:
		return fmt.Errorf("%w: card key of %d bytes, want %d", ErrMalformed, len(c.Key), HPKEPublicKeyLen)
	case len(c.Prekeys) > MaxPrekeys:
		return fmt.Errorf("%w: %d prekeys, limit %d", ErrMalformed, len(c.Prekeys), MaxPrekeys)
	case len(c.Signature) < minSigLen || len(c.Signature) > maxSigLen:
		return fmt.Errorf("%w: card signature length %d", ErrMalformed, len(c.Signature))
	}
	if err := CheckMUID(c.MUID); err != nil {
		return err
	}
	if err := CheckNick(c.Nick); err != nil {
		return err
	}
	if c.Avatar != "" {
		if err := CheckLink(c.Avatar); err != nil {
			return fmt.Errorf("avatar: %w", err)
		}
	}
	seen := make(map[PrekeyID]bool, len(c.Prekeys))
	for _, p := range c.Prekeys {
		if seen[p.ID] {
			return fmt.Errorf("%w: prekey %s listed twice", ErrMalformed, p.ID)
		}
		seen[p.ID] = true
		if len(p.Key) != HPKEPublicKeyLen {
			return fmt.Errorf("%w: prekey of %d bytes, want %d", ErrMalformed, len(p.Key), HPKEPublicKeyLen)
		}
	}
	return nil
}

// Verify checks the card's form, that MUID is the owner's address, that
// every key parses, and the owner's signature (high-S accepted).
func (c *Card) Verify() error {
	if err := c.check(); err != nil {
		return err
	}
	// A card is verified once per content: senders read the same card from
	// R cells for every letter, and parsing its ML-KEM keys is the costly
	// part (more than half a sender's CPU before this cache).
	done := cardVerified(c)
	if done.seen() {
		return nil
	}
	m, err := MUIDOf(c.Owner[:])
	if err != nil {
		return err
	}
	if m != c.MUID {
		return fmt.Errorf("%w: card address %s is not its owner's (%s)", ErrForged, c.MUID, m)
	}
	if _, err := ParseHPKEPublicKey(c.Key); err != nil {
		return err
	}
	for _, p := range c.Prekeys {
		if _, err := ParseHPKEPublicKey(p.Key); err != nil {
			return err
		}
	}
	if err := verifySig(c.Owner[:], c.Hash(), c.Signature); err != nil {
		return err
	}
	done.remember()
	return nil
}

// verifiedCards remembers the cards whose full verification passed, by
// the SHA-256 of their signed bytes and their signature, so the same bytes
// are not verified again. Bounded: emptied when it grows past its limit.
var verifiedCards = struct {
	sync.Mutex
	m map[[32]byte]struct{}
}{m: map[[32]byte]struct{}{}}

const maxVerifiedCards = 4096

type cardKey [32]byte

func cardVerified(c *Card) cardKey {
	h := sha256.New()
	sum := c.Hash()
	h.Write(sum[:])
	h.Write(c.Signature)
	var k cardKey
	h.Sum(k[:0])
	return k
}

func (k cardKey) seen() bool {
	verifiedCards.Lock()
	defer verifiedCards.Unlock()
	_, ok := verifiedCards.m[k]
	return ok
}

func (k cardKey) remember() {
	verifiedCards.Lock()
	defer verifiedCards.Unlock()
	if len(verifiedCards.m) >= maxVerifiedCards {
		clear(verifiedCards.m)
	}
	verifiedCards.m[k] = struct{}{}
}

// Sign sets Owner and MUID from k and signs the card (low-S).
func (c *Card) Sign(k signer.Key) error {
	owner, err := PubKeyOf(k.PublicKey())
	if err != nil {
		return err
	}
	if c.MUID, err = MUIDOf(owner[:]); err != nil {
		return err
	}
	c.Owner = owner
	c.Signature = make(Sig, minSigLen) // placeholder for check
	if err := c.check(); err != nil {
		return err
	}
	if c.Signature, err = signLowS(k, c.Hash()); err != nil {
		return fmt.Errorf("mail: signing card: %w", err)
	}
	return nil
}

// NewCard builds and signs a card of id at version with its long-term
// public key and prekeys.
func NewCard(id signer.Key, nick, avatar string, longTerm []byte, prekeys []Prekey, version uint64, now time.Time) (*Card, error) {
	c := &Card{Nick: nick, Avatar: avatar, Key: append(Blob(nil), longTerm...), Prekeys: prekeys,
		Version: version, Time: now.UnixMilli()}
	if c.Prekeys == nil {
		c.Prekeys = []Prekey{}
	}
	if err := c.Sign(id); err != nil {
		return nil, err
	}
	return c, nil
}

// Prekey returns the card's prekey with id.
func (c *Card) Prekey(id PrekeyID) (Prekey, bool) {
	for _, p := range c.Prekeys {
		if p.ID == id {
			return p, true
		}
	}
	return Prekey{}, false
}

// Newer reports whether a should replace b: a higher version, or (a fork
// no honest owner makes) the same version with the lower hash, so every
// reader picks the same.
func Newer(a, b *Card) bool {
	if b == nil {
		return a != nil
	}
	if a == nil || a.Version != b.Version {
		return a != nil && a.Version > b.Version
	}
	ha, hb := a.Hash(), b.Hash()
	return bytes.Compare(ha[:], hb[:]) < 0
}
