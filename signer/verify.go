package signer

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"slices"
	"sync/atomic"
	"time"
)

// Defaults of a Verifier.
const (
	DefaultWindow           = 60 * time.Second
	DefaultMaxReplayEntries = 1 << 16
)

// VerifierConfig configures a Verifier. Zero fields take the defaults.
type VerifierConfig struct {
	// Clock returns network time (the cronoTree-corrected clock). Nil means
	// time.Now.
	Clock func() time.Time
	// Window is the freshness window: a timestamp is accepted within
	// ±Window of Clock. Default DefaultWindow (60 s).
	Window time.Duration
	// MaxReplayEntries caps the replay cache. When it is full of live
	// entries, Verify fails with ErrReplayCacheFull. Default
	// DefaultMaxReplayEntries; each entry costs about 125 bytes (8 MiB at the default).
	MaxReplayEntries int
}

// Verifier is the one verification function of the protocol, with its
// freshness window and replay cache. It is safe for concurrent use. Use one
// Verifier per node (or per client) so every message shares one replay
// cache.
type Verifier struct {
	clock    func() time.Time
	windowMS int64
	high     atomic.Int64 // highest clock reading seen, ms
	replay   *replayCache
}

// NewVerifier returns a Verifier configured by c.
func NewVerifier(c VerifierConfig) *Verifier {
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Window <= 0 {
		c.Window = DefaultWindow
	}
	if c.MaxReplayEntries <= 0 {
		c.MaxReplayEntries = DefaultMaxReplayEntries
	}
	return &Verifier{
		clock:    c.Clock,
		windowMS: max(c.Window.Milliseconds(), 1),
		replay:   newReplayCache(c.MaxReplayEntries),
	}
}

// Expect is what the caller requires of a message besides authenticity.
// Empty fields are not checked, except InReplyTo.
type Expect struct {
	Cell string // the envelope's cell must equal it
	Type string // the envelope's type must equal it
	// Recipients: the envelope's recipient must be one of them (for a node,
	// typically its own key hex and its tree id).
	Recipients []string
	// Sender: the envelope's sender must be exactly this 65-byte key. A
	// client verifying a response sets it to the endpoint's key.
	Sender []byte
	// InReplyTo: zero means the message must be a request (no inReplyTo);
	// otherwise it must be a response to exactly this request digest.
	InReplyTo Digest
}

// Verify checks env and its body and, on success, records (sender, nonce)
// in the replay cache. The checks run in this order and the first failure
// is returned:
//
//  1. structure     (ErrMalformed)
//  2. expectations  (ErrUnexpected)
//  3. freshness     (ErrStale)
//  4. signature     (ErrBadSignature; high-S accepted, strict DER)
//  5. body hash     (ErrBodyHash)
//  6. replay        (ErrReplay, ErrReplayCacheFull, or ErrStale if the
//     window moved on meanwhile)
//
// The nonce is recorded only after the signature and body verified, so
// forged messages cannot fill or poison the cache.
func (v *Verifier) Verify(env *Envelope, body []byte, want Expect) error {
	return v.VerifyBodyHash(env, sha256.Sum256(body), want)
}

// VerifyBodyHash is Verify for a body the caller hashed itself, typically
// BodyReader.Sum after streaming it. It is the same function: Verify calls it.
func (v *Verifier) VerifyBodyHash(env *Envelope, bodyHash Digest, want Expect) error {
	// 1. Structure.
	if err := env.validate(true); err != nil {
		return err
	}
	pub, err := parseSender(env.Sender[:])
	if err != nil {
		return err
	}
	// 2. Expectations.
	if err := want.check(env); err != nil {
		return err
	}
	// 3. Freshness.
	now := v.clock().UnixMilli()
	if err := v.fresh(env.Timestamp, now); err != nil {
		return err
	}
	// 4. Signature.
	d := env.digest()
	if err := verifyDER(pub, d[:], env.Signature); err != nil {
		return err
	}
	// 5. Body hash.
	if env.BodyHash != bodyHash {
		return ErrBodyHash
	}
	// 6. Replay.
	return v.replay.add(replayKey(env), env.Timestamp, v.high.Load()-v.windowMS)
}

func (w *Expect) check(env *Envelope) error {
	switch {
	case w.Cell != "" && env.Cell != w.Cell:
		return fmt.Errorf("%w: cell %q, want %q", ErrUnexpected, env.Cell, w.Cell)
	case w.Type != "" && env.Type != w.Type:
		return fmt.Errorf("%w: type %q, want %q", ErrUnexpected, env.Type, w.Type)
	case len(w.Recipients) > 0 && !slices.Contains(w.Recipients, env.Recipient):
		return fmt.Errorf("%w: recipient %q is not this node", ErrUnexpected, env.Recipient)
	case len(w.Sender) > 0 && !bytes.Equal(env.Sender[:], w.Sender):
		return fmt.Errorf("%w: sender is not the expected key", ErrUnexpected)
	case env.InReplyTo != w.InReplyTo && w.InReplyTo.IsZero():
		return fmt.Errorf("%w: a response where a request was expected", ErrUnexpected)
	case env.InReplyTo != w.InReplyTo:
		return fmt.Errorf("%w: inReplyTo is not the expected request", ErrUnexpected)
	}
	return nil
}

// fresh checks ts against [max(now, high)-window, now+window] and raises the
// high-water mark. Using the highest clock reading for the lower bound
// means a clock that steps back can never revive a message whose replay
// entry was already evicted.
func (v *Verifier) fresh(ts, now int64) error {
	high := v.high.Load()
	for now > high && !v.high.CompareAndSwap(high, now) {
		high = v.high.Load()
	}
	high = max(high, now)
	switch {
	case ts < high-v.windowMS:
		return fmt.Errorf("%w: timestamp %d ms is %d ms behind network time (window %d ms)", ErrStale, ts, high-ts, v.windowMS)
	case ts > now+v.windowMS:
		return fmt.Errorf("%w: timestamp %d ms is %d ms ahead of network time (window %d ms)", ErrStale, ts, ts-now, v.windowMS)
	}
	return nil
}
