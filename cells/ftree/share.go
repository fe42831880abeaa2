package ftree

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"time"

	"github.com/borgios/borghui/signer"
)

// ShareDomain starts the canonical bytes of a share.
const ShareDomain = "BorgIOS/v1/ftree-share\n"

// MaxSealed bounds a share's sealed capability.
const MaxSealed = 1024

// Share is a sealed capability addressed to a recipient's inbox, signed by
// the sharer. Sealed is opaque to the cell (see SealCapability).
type Share struct {
	Sharer    PubKey `json:"sharer"`
	Recipient PubKey `json:"recipient"`
	Sealed    Blob   `json:"sealed"`
	Time      int64  `json:"time"` // ms since the Unix epoch, as the sharer saw it
	Signature Sig    `json:"sig"`  // DER ECDSA by Sharer over ID()
}

// Canonical returns the bytes the sharer signs: ShareDomain then the
// share's members but sig as RFC 8785 JSON.
func (s *Share) Canonical() []byte {
	b := make([]byte, 0, 400+base64.RawURLEncoding.EncodedLen(len(s.Sealed)))
	b = append(b, ShareDomain...)
	b = append(b, `{"recipient":"`...)
	b = append(b, s.Recipient.String()...)
	b = append(b, `","sealed":"`...)
	b = base64.RawURLEncoding.AppendEncode(b, s.Sealed)
	b = append(b, `","sharer":"`...)
	b = append(b, s.Sharer.String()...)
	b = append(b, `","time":`...)
	b = strconv.AppendInt(b, s.Time, 10)
	return append(b, '}')
}

// ID is SHA-256 of Canonical(): the share's id and the digest signed.
func (s *Share) ID() Hash { return sha256.Sum256(s.Canonical()) }

func (s *Share) check() error {
	switch {
	case s.Sharer[0] != 0x04 || s.Recipient[0] != 0x04:
		return fmt.Errorf("%w: share keys must be uncompressed", ErrMalformed)
	case len(s.Sealed) == 0 || len(s.Sealed) > MaxSealed:
		return fmt.Errorf("%w: sealed capability of %d bytes, want 1..%d", ErrMalformed, len(s.Sealed), MaxSealed)
	case s.Time < 0 || s.Time > MaxInteger:
		return fmt.Errorf("%w: share time out of range", ErrMalformed)
	case len(s.Signature) < minSigLen || len(s.Signature) > maxSigLen:
		return fmt.Errorf("%w: share signature length %d", ErrMalformed, len(s.Signature))
	}
	return nil
}

// Verify checks the share's form and its signature by its sharer.
func (s *Share) Verify() error {
	if err := s.check(); err != nil {
		return err
	}
	return verifySig(s.Sharer[:], s.ID(), s.Signature)
}

// NewShare builds a share of sealed (from SealCapability) for recipient,
// signed by sharer.
func NewShare(sharer signer.Key, recipient []byte, sealed []byte, now time.Time) (*Share, error) {
	rk, err := PubKeyOf(recipient)
	if err != nil {
		return nil, err
	}
	sk, err := PubKeyOf(sharer.PublicKey())
	if err != nil {
		return nil, err
	}
	s := &Share{Sharer: sk, Recipient: rk, Sealed: append(Blob(nil), sealed...), Time: now.UnixMilli()}
	if s.Signature, err = signLowS(sharer, s.ID()); err != nil {
		return nil, fmt.Errorf("ftree: signing share: %w", err)
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	return s, nil
}
