package mail

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/borgios/borghui/internal/dirs"
)

// Folder is a local mailbox folder.
type Folder string

// Folders.
const (
	Inbox Folder = "inbox" // messages received
	Sent  Folder = "sent"  // the sender's own copies
	// Drafts holds letters being written. A draft is not signed (it is
	// signed when sent, as a new Message): the folder keeps only what its
	// author typed, and its To may be any text of at most MaxDraftTo
	// bytes, even "".
	Drafts Folder = "drafts"
)

// folders are every Folder, in the order a mailbox creates them.
var folders = []Folder{Inbox, Sent, Drafts}

// MaxDraftTo bounds a draft's To in bytes: an address, or the start of a
// nickname still being looked up.
const MaxDraftTo = 256

// Stored is a message kept in the local mailbox.
type Stored struct {
	Folder        Folder
	Message       *Message // signature checked when it arrived (Drafts: unsigned)
	Key           KeyID    // the key it was sealed to
	ForwardSecret bool     // sealed to a one-time prekey
	Received      time.Time
	Read          bool
	State         State     // Sent: the delivery state
	Receipt       time.Time // Sent: when the recipient's read receipt came (zero: none)
}

type storedJSON struct {
	Folder   Folder          `json:"folder"`
	Message  json.RawMessage `json:"message"`
	Key      KeyID           `json:"key"`
	FS       bool            `json:"fs"`
	Received int64           `json:"received"`
	Read     bool            `json:"read"`
	State    State           `json:"state,omitempty"`
	Receipt  int64           `json:"receipt,omitempty"`
}

// Mailbox is the local mail store on the stick: one file per message,
// <dir>/<folder>/<id>.msg, each sealed (XChaCha20-Poly1305, magic "BMBX")
// under a key derived from the identity (DeriveKey(LabelStore, "v1")),
// with the folder and id in the AAD, so a file cannot be moved to another
// message's place. Every write is atomic (temp file, fsync, rename, folder
// fsync). It is safe for concurrent use.
type Mailbox struct {
	dir string

	mu     sync.Mutex
	key    []byte
	closed bool
}

const (
	mailboxMagic = "BMBX"
	mailboxLabel = "BorgIOS/v1/mail-store\n"
	msgExt       = ".msg"
)

// OpenMailbox opens (creating if needed) the mailbox in dir for identity d.
func OpenMailbox(dir string, d Deriver) (*Mailbox, error) {
	key := make([]byte, 32)
	if err := d.DeriveKey(LabelStore, []byte("v1"), key); err != nil {
		return nil, fmt.Errorf("mail: mailbox key: %w", err)
	}
	for _, f := range folders {
		p := filepath.Join(dir, string(f))
		if err := dirs.MkdirAll(p, 0o700); err != nil {
			clear(key)
			return nil, fmt.Errorf("mail: mailbox: %w", err)
		}
		removeTemps(p)
	}
	return &Mailbox{dir: dir, key: key}, nil
}

func checkFolder(f Folder) error {
	if !slices.Contains(folders, f) {
		return fmt.Errorf("%w: unknown folder %q", ErrMalformed, f)
	}
	return nil
}

func (mb *Mailbox) path(f Folder, id MsgID) string {
	return filepath.Join(mb.dir, string(f), id.String()+msgExt)
}

func label(f Folder, id MsgID) string { return mailboxLabel + string(f) + "/" + id.String() }

// Put stores s (replacing a stored message of the same folder and id).
func (mb *Mailbox) Put(s *Stored) error {
	plain, err := encodeStored(s)
	if err != nil {
		return err
	}
	defer clear(plain)
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return mb.putLocked(s.Folder, s.Message.ID, plain)
}

func encodeStored(s *Stored) ([]byte, error) {
	if err := checkFolder(s.Folder); err != nil {
		return nil, err
	}
	if s.Message == nil {
		return nil, fmt.Errorf("%w: no message", ErrMalformed)
	}
	encode := (*Message).Encode
	if s.Folder == Drafts {
		encode = encodeDraft
	}
	msg, err := encode(s.Message)
	if err != nil {
		return nil, err
	}
	j := storedJSON{Folder: s.Folder, Message: msg, Key: s.Key, FS: s.ForwardSecret, Received: s.Received.UnixMilli(),
		Read: s.Read, State: s.State}
	if !s.Receipt.IsZero() {
		j.Receipt = s.Receipt.UnixMilli()
	}
	plain, err := json.Marshal(j)
	if err != nil {
		return nil, fmt.Errorf("mail: mailbox: %w", err)
	}
	return plain, nil
}

func (mb *Mailbox) putLocked(f Folder, id MsgID, plain []byte) error {
	if mb.closed {
		return ErrClosed
	}
	b, err := sealFile(mb.key, mailboxMagic, label(f, id), plain)
	if err != nil {
		return fmt.Errorf("mail: mailbox: %w", err)
	}
	if err := writeFileAtomic(mb.path(f, id), b); err != nil {
		return fmt.Errorf("mail: mailbox: %w", err)
	}
	return nil
}

// Get returns the stored message id of folder f; ErrNotFound if none.
func (mb *Mailbox) Get(f Folder, id MsgID) (*Stored, error) {
	if err := checkFolder(f); err != nil {
		return nil, err
	}
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return mb.getLocked(f, id)
}

func (mb *Mailbox) getLocked(f Folder, id MsgID) (*Stored, error) {
	if mb.closed {
		return nil, ErrClosed
	}
	b, err := os.ReadFile(mb.path(f, id))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: no message %s in %s", ErrNotFound, id, f)
	}
	if err != nil {
		return nil, fmt.Errorf("mail: mailbox: %w", err)
	}
	plain, err := openFile(mb.key, mailboxMagic, label(f, id), b)
	if err != nil {
		return nil, err
	}
	var j storedJSON
	if err := json.Unmarshal(plain, &j); err != nil || j.Folder != f {
		return nil, fmt.Errorf("%w: mailbox file %s", ErrMalformed, id)
	}
	decode := DecodeMessage
	if f == Drafts {
		decode = decodeDraft
	}
	m, err := decode(j.Message)
	if err != nil || m.ID != id {
		return nil, fmt.Errorf("%w: mailbox file %s", ErrMalformed, id)
	}
	s := &Stored{Folder: f, Message: m, Key: j.Key, ForwardSecret: j.FS, Received: time.UnixMilli(j.Received),
		Read: j.Read, State: j.State}
	if j.Receipt != 0 {
		s.Receipt = time.UnixMilli(j.Receipt)
	}
	return s, nil
}

// Has reports whether folder f holds message id.
func (mb *Mailbox) Has(f Folder, id MsgID) bool {
	if checkFolder(f) != nil {
		return false
	}
	_, err := os.Stat(mb.path(f, id))
	return err == nil
}

// List returns the messages of folder f, newest first (by date, then id).
// Files that do not open (damaged, or another identity's) are left out.
func (mb *Mailbox) List(f Folder) ([]*Stored, error) {
	if err := checkFolder(f); err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(filepath.Join(mb.dir, string(f)))
	if err != nil {
		return nil, fmt.Errorf("mail: mailbox: %w", err)
	}
	mb.mu.Lock()
	defer mb.mu.Unlock()
	var out []*Stored
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), msgExt)
		if !ok {
			continue
		}
		id, err := ParseMsgID(name)
		if err != nil {
			continue
		}
		s, err := mb.getLocked(f, id)
		if errors.Is(err, ErrClosed) {
			return nil, err
		}
		if err == nil {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b *Stored) int {
		if a.Message.Date != b.Message.Date {
			if a.Message.Date > b.Message.Date {
				return -1
			}
			return 1
		}
		return slices.Compare(b.Message.ID[:], a.Message.ID[:])
	})
	return out, nil
}

// Update applies change to the stored message id of folder f and stores
// it again, atomically (the folder and id stay).
func (mb *Mailbox) Update(f Folder, id MsgID, change func(*Stored)) error {
	if err := checkFolder(f); err != nil {
		return err
	}
	mb.mu.Lock()
	defer mb.mu.Unlock()
	s, err := mb.getLocked(f, id)
	if err != nil {
		return err
	}
	change(s)
	s.Folder, s.Message.ID = f, id
	plain, err := encodeStored(s)
	if err != nil {
		return err
	}
	defer clear(plain)
	return mb.putLocked(f, id, plain)
}

// Delete removes message id from folder f (a missing one is no error).
func (mb *Mailbox) Delete(f Folder, id MsgID) error {
	if err := checkFolder(f); err != nil {
		return err
	}
	mb.mu.Lock()
	defer mb.mu.Unlock()
	if mb.closed {
		return ErrClosed
	}
	if err := os.Remove(mb.path(f, id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("mail: mailbox: %w", err)
	}
	return syncDir(filepath.Join(mb.dir, string(f)))
}

// Close wipes the mailbox key from memory.
func (mb *Mailbox) Close() error {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	if !mb.closed {
		clear(mb.key)
		mb.closed = true
	}
	return nil
}

// draftJSON is a draft as the Drafts folder keeps it: what its author
// typed, without sender, kind or signature (a draft is signed only when it
// is sent, as a new Message).
type draftJSON struct {
	ID          MsgID    `json:"id"`
	To          string   `json:"to"`
	Date        int64    `json:"date"`
	Subject     string   `json:"subject"`
	Body        string   `json:"body"`
	Attachments []string `json:"attachments"`
	InReplyTo   MsgID    `json:"inreplyto"`
}

// encodeDraft encodes the typed fields of m (its From, FromMUID, Kind
// and Signature are dropped), checked as checkDraft does.
func encodeDraft(m *Message) ([]byte, error) {
	d := draftJSON{ID: m.ID, To: m.To, Date: m.Date, Subject: m.Subject, Body: m.Body, Attachments: m.Attachments, InReplyTo: m.InReplyTo}
	if d.Attachments == nil {
		d.Attachments = []string{}
	}
	if err := d.check(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil {
		return nil, fmt.Errorf("mail: draft: %w", err)
	}
	if b.Len() > MaxMessage {
		return nil, fmt.Errorf("%w: draft of %d bytes, limit %d", ErrTooLarge, b.Len(), MaxMessage)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// decodeDraft parses a draft strictly into an unsigned Message of kind
// KindMail.
func decodeDraft(b []byte) (*Message, error) {
	var d draftJSON
	if err := decodeStrict(b, MaxMessage, &d); err != nil {
		return nil, err
	}
	if err := d.check(); err != nil {
		return nil, err
	}
	return &Message{ID: d.ID, Kind: KindMail, To: d.To, Date: d.Date, Subject: d.Subject, Body: d.Body,
		Attachments: d.Attachments, InReplyTo: d.InReplyTo}, nil
}

// check is Message.check for what a draft holds: an id, text fields
// within their limits (To at most MaxDraftTo bytes, any text), well-formed
// links.
func (d *draftJSON) check() error {
	switch {
	case d.ID.IsZero():
		return fmt.Errorf("%w: draft has no id", ErrMalformed)
	case d.Date < 0 || d.Date > MaxInteger:
		return fmt.Errorf("%w: draft date out of range", ErrMalformed)
	case d.Attachments == nil:
		return fmt.Errorf("%w: attachments must be a list", ErrMalformed)
	case len(d.Attachments) > MaxAttachments:
		return fmt.Errorf("%w: %d attachments, limit %d", ErrMalformed, len(d.Attachments), MaxAttachments)
	}
	if err := text(d.To, MaxDraftTo, "to"); err != nil {
		return err
	}
	if err := text(d.Subject, MaxSubject, "subject"); err != nil {
		return err
	}
	if err := text(d.Body, MaxMessage, "body"); err != nil {
		return err
	}
	for _, a := range d.Attachments {
		if err := CheckLink(a); err != nil {
			return fmt.Errorf("attachment: %w", err)
		}
	}
	return nil
}
