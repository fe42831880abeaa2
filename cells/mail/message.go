package mail

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/borgios/borghui/signer"
)

// MessageDomain starts the canonical bytes of a message.
const MessageDomain = "BorgIOS/v1/mail-message\n"

// Message kinds.
const (
	KindMail    = "mail"    // a letter
	KindReceipt = "receipt" // a read receipt: InReplyTo names the letter read
)

// Message limits.
const (
	// MaxMessage bounds a signed message's JSON (subject, body, links and
	// all): 1 MiB.
	MaxMessage = 1 << 20
	// MaxSubject bounds a subject in bytes.
	MaxSubject = 1024
	// MaxAttachments bounds the capability links of one message.
	MaxAttachments = 64
)

// Message is the plaintext of a mail, signed by its sender. Only the
// recipient (and the sender's own Sent copy) ever see it; a cell sees the
// sealed Envelope. See doc.go for the exact signed bytes.
type Message struct {
	ID          MsgID    `json:"id"`          // random; also the envelope id
	Kind        string   `json:"kind"`        // KindMail or KindReceipt
	From        PubKey   `json:"from"`        // the sender's identity key
	FromMUID    string   `json:"frommuid"`    // its address (must match From)
	To          string   `json:"to"`          // the recipient's MUID
	Date        int64    `json:"date"`        // ms since the Unix epoch, sender's clock
	Subject     string   `json:"subject"`     // ≤ MaxSubject bytes
	Body        string   `json:"body"`        // UTF-8 text
	Attachments []string `json:"attachments"` // file capability links, never bytes
	InReplyTo   MsgID    `json:"inreplyto"`   // the message answered, or zero
	Signature   Sig      `json:"sig"`         // DER ECDSA by From over Hash()
}

// appendJSON appends the message as RFC 8785 JSON, with "sig" in its
// sorted place when withSig.
func (m *Message) appendJSON(b []byte, withSig bool) []byte {
	b = append(b, `{"attachments":[`...)
	for i, a := range m.Attachments {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, a)
	}
	b = append(b, `],"body":`...)
	b = appendString(b, m.Body)
	b = append(b, `,"date":`...)
	b = appendInt(b, m.Date)
	b = append(b, `,"from":"`...)
	b = append(b, m.From.String()...)
	b = append(b, `","frommuid":`...)
	b = appendString(b, m.FromMUID)
	b = append(b, `,"id":"`...)
	b = append(b, m.ID.String()...)
	b = append(b, `","inreplyto":"`...)
	b = append(b, m.InReplyTo.String()...)
	b = append(b, `","kind":`...)
	b = appendString(b, m.Kind)
	if withSig {
		b = append(b, `,"sig":"`...)
		b = hex.AppendEncode(b, m.Signature)
		b = append(b, '"')
	}
	b = append(b, `,"subject":`...)
	b = appendString(b, m.Subject)
	b = append(b, `,"to":`...)
	b = appendString(b, m.To)
	return append(b, '}')
}

func (m *Message) sizeHint() int {
	n := 512 + len(m.Subject) + len(m.Body)
	for _, a := range m.Attachments {
		n += len(a) + 3
	}
	return n + n/8
}

// Canonical returns the bytes the sender signs: MessageDomain then the
// message's members but sig as RFC 8785 JSON.
func (m *Message) Canonical() []byte {
	b := make([]byte, 0, len(MessageDomain)+m.sizeHint())
	b = append(b, MessageDomain...)
	return m.appendJSON(b, false)
}

// Hash is SHA-256 of Canonical(): the digest the sender signs.
func (m *Message) Hash() [32]byte { return sha256.Sum256(m.Canonical()) }

// Encode returns the message's wire JSON (canonical, with sig): the
// plaintext that is sealed.
func (m *Message) Encode() ([]byte, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	b := m.appendJSON(make([]byte, 0, m.sizeHint()), true)
	if len(b) > MaxMessage {
		return nil, fmt.Errorf("%w: message of %d bytes, limit %d", ErrTooLarge, len(b), MaxMessage)
	}
	return b, nil
}

// MarshalJSON is Encode.
func (m *Message) MarshalJSON() ([]byte, error) { return m.Encode() }

// DecodeMessage parses a message's JSON strictly and checks its form (not
// its signature: call Verify).
func DecodeMessage(b []byte) (*Message, error) {
	type plain Message
	var p plain
	if err := decodeStrict(b, MaxMessage, &p); err != nil {
		return nil, err
	}
	m := Message(p)
	if err := m.check(); err != nil {
		return nil, err
	}
	return &m, nil
}

func (m *Message) check() error {
	switch {
	case m.ID.IsZero():
		return fmt.Errorf("%w: message has no id", ErrMalformed)
	case m.Kind != KindMail && m.Kind != KindReceipt:
		return fmt.Errorf("%w: unknown message kind", ErrMalformed)
	case m.From[0] != 0x04:
		return fmt.Errorf("%w: sender key is not uncompressed", ErrMalformed)
	case m.Date < 0 || m.Date > MaxInteger:
		return fmt.Errorf("%w: message date out of range", ErrMalformed)
	case len(m.Attachments) > MaxAttachments:
		return fmt.Errorf("%w: %d attachments, limit %d", ErrMalformed, len(m.Attachments), MaxAttachments)
	case m.Attachments == nil:
		return fmt.Errorf("%w: attachments must be a list", ErrMalformed)
	case len(m.Signature) < minSigLen || len(m.Signature) > maxSigLen:
		return fmt.Errorf("%w: message signature length %d", ErrMalformed, len(m.Signature))
	case m.Kind == KindReceipt && (m.InReplyTo.IsZero() || m.Body != "" || len(m.Attachments) > 0):
		return fmt.Errorf("%w: a receipt names the message read and carries nothing else", ErrMalformed)
	}
	if err := CheckMUID(m.FromMUID); err != nil {
		return err
	}
	if err := CheckMUID(m.To); err != nil {
		return err
	}
	if err := text(m.Subject, MaxSubject, "subject"); err != nil {
		return err
	}
	if err := text(m.Body, MaxMessage, "body"); err != nil {
		return err
	}
	for _, a := range m.Attachments {
		if err := CheckLink(a); err != nil {
			return fmt.Errorf("attachment: %w", err)
		}
	}
	return nil
}

// Verify checks the message's form, that FromMUID is the address of From
// (ErrForged otherwise) and the signature by From (ErrBadSignature).
func (m *Message) Verify() error {
	if err := m.check(); err != nil {
		return err
	}
	muid, err := MUIDOf(m.From[:])
	if err != nil {
		return err
	}
	if muid != m.FromMUID {
		return fmt.Errorf("%w: signed by %s, claims to be from %s", ErrForged, muid, m.FromMUID)
	}
	return verifySig(m.From[:], m.Hash(), m.Signature)
}

// Sign sets From and FromMUID from k and signs the message (low-S). Zero
// fields get defaults: a random ID, Kind KindMail, empty Attachments.
func (m *Message) Sign(k signer.Key) error {
	if m.ID.IsZero() {
		id, err := NewMsgID()
		if err != nil {
			return err
		}
		m.ID = id
	}
	if m.Kind == "" {
		m.Kind = KindMail
	}
	if m.Attachments == nil {
		m.Attachments = []string{}
	}
	from, err := PubKeyOf(k.PublicKey())
	if err != nil {
		return err
	}
	m.From = from
	if m.FromMUID, err = MUIDOf(from[:]); err != nil {
		return err
	}
	m.Signature = make(Sig, minSigLen)
	if _, err := m.Encode(); err != nil {
		return err
	}
	if m.Signature, err = signLowS(k, m.Hash()); err != nil {
		return fmt.Errorf("mail: signing message: %w", err)
	}
	return nil
}

// NewMsgID returns a random message id.
func NewMsgID() (MsgID, error) {
	var id MsgID
	for id.IsZero() {
		if _, err := rand.Read(id[:]); err != nil {
			return id, fmt.Errorf("mail: system randomness: %w", err)
		}
	}
	return id, nil
}

// NewReceipt builds the read receipt for read (a message received by me),
// signed by me, addressed to its sender.
func NewReceipt(me signer.Key, read *Message, now time.Time) (*Message, error) {
	r := &Message{Kind: KindReceipt, To: read.FromMUID, Date: now.UnixMilli(), InReplyTo: read.ID, Attachments: []string{}}
	if err := r.Sign(me); err != nil {
		return nil, err
	}
	return r, nil
}

// Padding hides a message's exact size from cells: the sealed plaintext is
// uint32 big-endian length ‖ message JSON ‖ zeros, padded to 1 KiB, then
// the next power of two up to 64 KiB, then the next multiple of 64 KiB.
const padStep = 64 << 10

func paddedLen(n int) int {
	n += 4
	switch {
	case n <= 1024:
		return 1024
	case n <= padStep:
		p := 1024
		for p < n {
			p <<= 1
		}
		return p
	}
	return (n + padStep - 1) / padStep * padStep
}

// maxPadded is the largest padded plaintext.
var maxPadded = paddedLen(MaxMessage)

func pad(msg []byte) []byte {
	out := make([]byte, paddedLen(len(msg)))
	binary.BigEndian.PutUint32(out, uint32(len(msg)))
	copy(out[4:], msg)
	return out
}

func unpad(b []byte) ([]byte, error) {
	if len(b) < 1024 {
		return nil, fmt.Errorf("%w: padded plaintext of %d bytes", ErrMalformed, len(b))
	}
	n := binary.BigEndian.Uint32(b)
	if uint64(n) > uint64(len(b)-4) || paddedLen(int(n)) != len(b) {
		return nil, fmt.Errorf("%w: bad padding", ErrMalformed)
	}
	if !allZero(b[4+n:]) {
		return nil, fmt.Errorf("%w: bad padding", ErrMalformed)
	}
	return b[4 : 4+n], nil
}

func allZero(b []byte) bool {
	return len(bytes.Trim(b, "\x00")) == 0
}
