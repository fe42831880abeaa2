package signer

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// Domain is the domain-separation line that starts the signed bytes.
const Domain = "BorgIOS/v1"

// appendJSON appends the envelope as RFC 8785 (JCS) JSON: members sorted by
// key, no whitespace, integers as plain decimals, binary fields as lowercase
// hex. The text fields need no escaping (their charset excludes '"', '\'
// and control characters), so JCS reduces to this fixed template. The wire
// form adds "sig" in its sorted place; the signed form leaves it out.
func (e *Envelope) appendJSON(b []byte, withSig bool) []byte {
	b = append(b, `{"bodyHash":"`...)
	b = hex.AppendEncode(b, e.BodyHash[:])
	b = append(b, `","cell":"`...)
	b = append(b, e.Cell...)
	b = append(b, `","inReplyTo":"`...)
	if !e.InReplyTo.IsZero() {
		b = hex.AppendEncode(b, e.InReplyTo[:])
	}
	b = append(b, `","nonce":"`...)
	b = hex.AppendEncode(b, e.Nonce[:])
	b = append(b, `","recipient":"`...)
	b = append(b, e.Recipient...)
	b = append(b, `","sender":"`...)
	b = hex.AppendEncode(b, e.Sender[:])
	if withSig {
		b = append(b, `","sig":"`...)
		b = hex.AppendEncode(b, e.Signature)
	}
	b = append(b, `","timestamp":`...)
	b = strconv.AppendInt(b, e.Timestamp, 10)
	b = append(b, `,"type":"`...)
	b = append(b, e.Type...)
	b = append(b, `","version":`...)
	b = strconv.AppendInt(b, int64(e.Version), 10)
	b = append(b, '}')
	return b
}

// appendCanonical appends the signed bytes: Domain, "\n", then the JCS
// JSON of every field except the signature.
func (e *Envelope) appendCanonical(b []byte) []byte {
	b = append(b, Domain...)
	b = append(b, '\n')
	return e.appendJSON(b, false)
}

// Canonical returns the exact bytes that are hashed and signed. The
// signature is not part of them.
func (e *Envelope) Canonical() ([]byte, error) {
	if err := e.validate(false); err != nil {
		return nil, err
	}
	return e.appendCanonical(make([]byte, 0, 512)), nil
}

// Digest returns SHA-256 of the canonical bytes: the value that is signed,
// the message id of a broadcast (each node forwards a given id at most
// once) and the InReplyTo of a response to this envelope.
func (e *Envelope) Digest() (Digest, error) {
	if err := e.validate(false); err != nil {
		return Digest{}, err
	}
	return e.digest(), nil
}

// digest is Digest without validation.
func (e *Envelope) digest() Digest {
	var buf [1024]byte
	return sha256.Sum256(e.appendCanonical(buf[:0]))
}
