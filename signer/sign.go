package signer

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
)

// Sign completes and signs env for body: it sets Version (when zero),
// Sender (from k), Nonce (from r, crypto/rand when r is nil, only when the
// nonce is zero), BodyHash = SHA-256(body) and Signature (DER, low-S).
// The caller sets Cell, Type, Recipient, Timestamp (network time) and, for
// a response, InReplyTo. env is unchanged on error.
func Sign(k Key, env *Envelope, body []byte, r io.Reader) error {
	return SignBodyHash(k, env, sha256.Sum256(body), r)
}

// SignBodyHash is Sign for a body the caller has already hashed (for
// example a large body that is streamed with WriteMessage).
func SignBodyHash(k Key, env *Envelope, bodyHash Digest, r io.Reader) error {
	if k == nil || env == nil {
		return fmt.Errorf("%w: sign: nil key or envelope", ErrMalformed)
	}
	e := *env
	e.Signature = nil
	if e.Version == 0 {
		e.Version = Version
	}
	pub := k.PublicKey()
	if _, err := parseSender(pub); err != nil {
		return err
	}
	copy(e.Sender[:], pub)
	if e.Nonce == [NonceLen]byte{} {
		if r == nil {
			r = rand.Reader
		}
		if _, err := io.ReadFull(r, e.Nonce[:]); err != nil {
			return fmt.Errorf("signer: sign: nonce: %w", err)
		}
	}
	e.BodyHash = bodyHash
	if err := e.validate(false); err != nil {
		return err
	}
	der, err := k.Sign(e.digest())
	if err != nil {
		return fmt.Errorf("signer: sign: %w", err)
	}
	if e.Signature, err = lowS(der); err != nil {
		return err
	}
	*env = e
	return nil
}
