package mail

import (
	"crypto/hpke"
	"errors"
	"fmt"
	"time"
)

// HPKE context strings.
const (
	// HPKEInfo is the HPKE info of every sealed message.
	HPKEInfo = "BorgIOS/v1/mail"
	// EnvelopeDomain starts the AAD of a sealed message.
	EnvelopeDomain = "BorgIOS/v1/mail-envelope\n"
)

// Sealed sizes: the KEM encapsulation, the padded plaintext, the AEAD tag.
var (
	// MinSealed is the smallest sealed message (1 KiB of padded plaintext).
	MinSealed = EncLen + 1024 + tagLen
	// MaxSealed is the largest sealed message (a MaxMessage message padded).
	MaxSealed = EncLen + maxPadded + tagLen
)

// Envelope is a sealed message as cells store it. Outside the ciphertext
// it carries only what delivery needs; all of it is bound to the
// ciphertext as AAD, so a cell cannot re-address or relabel it.
type Envelope struct {
	ID     MsgID  // the message id (random, chosen by the sender)
	To     string // the mailbox: the recipient's MUID (the sender's own for a Sent copy)
	Key    KeyID  // the recipient key sealed to: LongTerm or a prekey id
	Time   int64  // ms since the Unix epoch, the sender's clock
	Sealed []byte // HPKE encapsulation (EncLen) ‖ AEAD ciphertext
}

// Header is an envelope without its ciphertext: what a listing shows, and
// the JSON header of an envelope's frame.
type Header struct {
	ID   MsgID  `json:"id"`
	Key  KeyID  `json:"key"`
	Size int    `json:"size"` // len(Sealed)
	Time int64  `json:"time"`
	To   string `json:"to"`
}

// Header returns the envelope's header.
func (e *Envelope) Header() Header {
	return Header{ID: e.ID, Key: e.Key, Size: len(e.Sealed), Time: e.Time, To: e.To}
}

func (h *Header) check() error {
	switch {
	case h.ID.IsZero():
		return fmt.Errorf("%w: envelope has no id", ErrMalformed)
	case h.Time < 0 || h.Time > MaxInteger:
		return fmt.Errorf("%w: envelope time out of range", ErrMalformed)
	case h.Size > MaxSealed:
		return fmt.Errorf("%w: sealed message of %d bytes, limit %d", ErrTooLarge, h.Size, MaxSealed)
	case h.Size < MinSealed:
		return fmt.Errorf("%w: sealed message of %d bytes, minimum %d", ErrMalformed, h.Size, MinSealed)
	}
	if err := h.Key.check(); err != nil {
		return err
	}
	return CheckMUID(h.To)
}

func (e *Envelope) check() error {
	h := e.Header()
	return h.check()
}

// AAD returns the additional data the ciphertext is bound to:
// EnvelopeDomain then {"id":…,"key":…,"time":…,"to":…} (RFC 8785).
func (e *Envelope) AAD() []byte {
	b := make([]byte, 0, len(EnvelopeDomain)+128)
	b = append(b, EnvelopeDomain...)
	b = append(b, `{"id":"`...)
	b = append(b, e.ID.String()...)
	b = append(b, `","key":`...)
	b = appendString(b, string(e.Key))
	b = append(b, `,"time":`...)
	b = appendInt(b, e.Time)
	b = append(b, `,"to":`...)
	b = appendString(b, e.To)
	return append(b, '}')
}

// MarshalBinary encodes the envelope as a frame: its Header JSON, then the
// sealed bytes raw.
func (e *Envelope) MarshalBinary() ([]byte, error) {
	if err := e.check(); err != nil {
		return nil, err
	}
	return encodeFrame(mustJSON(e.Header()), e.Sealed), nil
}

// ParseEnvelope decodes MarshalBinary's output strictly.
func ParseEnvelope(b []byte) (*Envelope, error) {
	hb, raw, err := splitFrame(b)
	if err != nil {
		return nil, err
	}
	var h Header
	if err := decodeStrict(hb, MaxHeader, &h); err != nil {
		return nil, err
	}
	if err := h.check(); err != nil {
		return nil, err
	}
	if h.Size != len(raw) {
		return nil, fmt.Errorf("%w: header says %d sealed bytes, frame has %d", ErrMalformed, h.Size, len(raw))
	}
	return &Envelope{ID: h.ID, To: h.To, Key: h.Key, Time: h.Time, Sealed: append([]byte(nil), raw...)}, nil
}

// Seal encrypts the signed message m for mailbox with HPKE to pub, the
// recipient key named key (LongTerm or the prekey's id). The envelope id
// is the message id. mailbox is m.To, or m.FromMUID for the sender's own
// Sent copy.
func Seal(m *Message, mailbox string, pub hpke.PublicKey, key KeyID, now time.Time) (*Envelope, error) {
	if mailbox != m.To && mailbox != m.FromMUID {
		return nil, fmt.Errorf("%w: a message goes to its recipient's or its sender's mailbox", ErrMalformed)
	}
	plain, err := m.Encode()
	if err != nil {
		return nil, err
	}
	padded := pad(plain)
	defer clear(padded)
	e := &Envelope{ID: m.ID, To: mailbox, Key: key, Time: now.UnixMilli()}
	h := e.Header()
	h.Size = MinSealed // checked for form only
	if err := h.check(); err != nil {
		return nil, err
	}
	enc, s, err := hpke.NewSender(pub, kdf, aead, []byte(HPKEInfo))
	if err != nil {
		return nil, fmt.Errorf("mail: sealing: %w", err)
	}
	ct, err := s.Seal(e.AAD(), padded)
	if err != nil {
		return nil, fmt.Errorf("mail: sealing: %w", err)
	}
	e.Sealed = append(enc, ct...)
	return e, e.check()
}

// Keys gives the private key an envelope names.
type Keys interface {
	// PrivateKey returns the private key of id; an error wrapping ErrNoKey
	// when it is not held.
	PrivateKey(id KeyID) (hpke.PrivateKey, error)
}

// Keyring is a person's receiving keys: the long-term key (LongTermKey) and
// the one-time prekeys in a PrekeyStore (nil: none).
type Keyring struct {
	LongTerm hpke.PrivateKey
	Prekeys  *PrekeyStore
}

// PrivateKey implements Keys.
func (k *Keyring) PrivateKey(id KeyID) (hpke.PrivateKey, error) {
	if id == LongTerm {
		if k.LongTerm == nil {
			return nil, fmt.Errorf("%w: no long-term key", ErrNoKey)
		}
		return k.LongTerm, nil
	}
	pid, ok := id.Prekey()
	if !ok {
		return nil, fmt.Errorf("%w: key id %q", ErrMalformed, id)
	}
	if k.Prekeys == nil {
		return nil, fmt.Errorf("%w: prekey %s", ErrNoKey, pid)
	}
	return k.Prekeys.Private(pid)
}

// Opened is a message taken out of its envelope, sender signature checked.
type Opened struct {
	Message *Message
	Header  Header
	// ForwardSecret: the message was sealed to a one-time prekey, whose
	// private half is destroyed once the message is stored.
	ForwardSecret bool
}

// Open decrypts env with the key it names, checks the sender's signature
// inside and that the message belongs to the envelope (same id, addressed
// to or from the mailbox). Tampering anywhere (header or ciphertext) is
// ErrOpen; a message signed by another key than its claimed sender is
// ErrForged or ErrBadSignature; a destroyed or unknown key is ErrNoKey.
func Open(env *Envelope, keys Keys) (*Opened, error) {
	if err := env.check(); err != nil {
		return nil, err
	}
	priv, err := keys.PrivateKey(env.Key)
	if err != nil {
		if !errors.Is(err, ErrNoKey) && !errors.Is(err, ErrMalformed) {
			err = fmt.Errorf("%w: %w", ErrNoKey, err)
		}
		return nil, err
	}
	r, err := hpke.NewRecipient(env.Sealed[:EncLen], priv, kdf, aead, []byte(HPKEInfo))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrOpen, err)
	}
	padded, err := r.Open(env.AAD(), env.Sealed[EncLen:])
	if err != nil {
		return nil, fmt.Errorf("%w: the ciphertext or its header was altered, or it is sealed to another key", ErrOpen)
	}
	defer clear(padded)
	plain, err := unpad(padded)
	if err != nil {
		return nil, err
	}
	m, err := DecodeMessage(plain)
	if err != nil {
		return nil, err
	}
	if err := m.Verify(); err != nil {
		return nil, err
	}
	if m.ID != env.ID {
		return nil, fmt.Errorf("%w: message %s in envelope %s", ErrForged, m.ID, env.ID)
	}
	if env.To != m.To && env.To != m.FromMUID {
		return nil, fmt.Errorf("%w: message for %s in mailbox %s", ErrForged, m.To, env.To)
	}
	return &Opened{Message: m, Header: env.Header(), ForwardSecret: env.Key.ForwardSecret()}, nil
}
