package mail

import (
	"context"
	"crypto/hpke"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"
)

// AccountConfig configures an Account. Zero fields take defaults.
type AccountConfig struct {
	// Identity signs and derives the mail keys (required).
	Identity Identity
	// Dir is the account's folder on the stick (required): prekeys.bin,
	// outbox.journal and mailbox/ live there.
	Dir string
	// Net reaches the mail cells with requests signed by Identity (card
	// publication, list, fetch, ack) (required).
	Net *Multi
	// SendNet, when set, carries prekey takes, deliveries and status
	// queries instead of Net: dial it with a throw-away key and cells do
	// not learn who sends to whom from the request signatures.
	SendNet *Multi
	// Nick and Avatar (a capability link, or "") go on the card.
	Nick   string
	Avatar string
	// Prekeys is how many one-time prekeys a card offers (default 10, at
	// most MaxPrekeys); RefillBelow publishes a new card with fresh ones
	// when fewer are left on the cells (default 3).
	Prekeys     int
	RefillBelow int
	// PrekeyGrace is how long a prekey that is no longer on the card (taken
	// by a sender who may still send) is kept before it is destroyed
	// unused; default 30 days.
	PrekeyGrace time.Duration
	// Outbox tunes the outbox; its OnState is still called.
	Outbox OutboxConfig
	// Clock is the time source; default time.Now.
	Clock func() time.Time
}

// Account is one person's mail: their keys, card, local mailbox, outbox
// and prekey store, over the mail cells. It is what the conduit's Mail
// service drives. It is safe for concurrent use.
type Account struct {
	cfg      AccountConfig
	id       Identity
	muid     string
	longTerm hpke.PrivateKey
	prekeys  *PrekeyStore
	mailbox  *Mailbox
	outbox   *Outbox
	keys     *Keyring

	mu         sync.Mutex      // serialises Publish, Replenish and Receive
	unreadable map[MsgID]error // sealed to keys not held: not fetched again
}

// OpenAccount opens the account of cfg.Identity in cfg.Dir: derives the
// long-term key, opens the prekey store, the mailbox and the outbox, and
// puts every outbox message's Sent copy in the Sent folder (after a crash
// between queuing and storing it).
func OpenAccount(cfg AccountConfig) (*Account, error) {
	if cfg.Identity == nil || cfg.Dir == "" || cfg.Net == nil {
		return nil, errors.New("mail: an account needs an identity, a folder and a network")
	}
	if cfg.SendNet == nil {
		cfg.SendNet = cfg.Net
	}
	if cfg.Prekeys <= 0 {
		cfg.Prekeys = 10
	}
	cfg.Prekeys = min(cfg.Prekeys, MaxPrekeys)
	if cfg.RefillBelow <= 0 {
		cfg.RefillBelow = 3
	}
	cfg.RefillBelow = min(cfg.RefillBelow, cfg.Prekeys)
	if cfg.PrekeyGrace <= 0 {
		cfg.PrekeyGrace = 30 * 24 * time.Hour
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Outbox.Clock == nil {
		cfg.Outbox.Clock = cfg.Clock
	}
	muid, err := MUIDOf(cfg.Identity.PublicKey())
	if err != nil {
		return nil, err
	}
	a := &Account{cfg: cfg, id: cfg.Identity, muid: muid, unreadable: map[MsgID]error{}}
	if a.longTerm, err = LongTermKey(cfg.Identity); err != nil {
		return nil, err
	}
	if a.prekeys, err = OpenPrekeyStore(filepath.Join(cfg.Dir, "prekeys.bin"), cfg.Identity); err != nil {
		return nil, err
	}
	if a.mailbox, err = OpenMailbox(filepath.Join(cfg.Dir, "mailbox"), cfg.Identity); err != nil {
		a.prekeys.Close()
		return nil, err
	}
	a.keys = &Keyring{LongTerm: a.longTerm, Prekeys: a.prekeys}
	ocfg := cfg.Outbox
	user := ocfg.OnState
	ocfg.OnState = func(id MsgID, st State) {
		_ = a.mailbox.Update(Sent, id, func(s *Stored) { s.State = st })
		if user != nil {
			user(id, st)
		}
	}
	if a.outbox, err = OpenOutbox(filepath.Join(cfg.Dir, "outbox.journal"), cfg.SendNet, ocfg); err != nil {
		a.mailbox.Close()
		a.prekeys.Close()
		return nil, err
	}
	for _, it := range a.outbox.Items() {
		if it.SentCopy != nil && !a.mailbox.Has(Sent, it.ID) {
			if op, err := Open(it.SentCopy, a.keys); err == nil {
				_ = a.mailbox.Put(&Stored{Folder: Sent, Message: op.Message, Key: it.Envelope.Key,
					ForwardSecret: it.Envelope.Key.ForwardSecret(), Received: it.Queued, State: it.State})
			}
		}
	}
	return a, nil
}

// MUID is the account's address.
func (a *Account) MUID() string { return a.muid }

// Mailbox is the local mailbox.
func (a *Account) Mailbox() *Mailbox { return a.mailbox }

// Outbox is the outbox.
func (a *Account) Outbox() *Outbox { return a.outbox }

// Prekeys is the prekey store.
func (a *Account) Prekeys() *PrekeyStore { return a.prekeys }

// Keys is the account's receiving keyring (for Open).
func (a *Account) Keys() Keys { return a.keys }

// LongTermPublic is the encoded long-term HPKE public key.
func (a *Account) LongTermPublic() []byte { return a.longTerm.PublicKey().Bytes() }

// SetProfile changes the nickname and avatar the next Publish puts on the
// card.
func (a *Account) SetProfile(nick, avatar string) error {
	if err := CheckNick(nick); err != nil {
		return err
	}
	if avatar != "" {
		if err := CheckLink(avatar); err != nil {
			return err
		}
	}
	a.mu.Lock()
	a.cfg.Nick, a.cfg.Avatar = nick, avatar
	a.mu.Unlock()
	return nil
}

// Publish puts a new version of the account's card on its home cells:
// the current profile, the long-term key, the prekeys the cells still hand
// out (and this store still holds) topped up with fresh ones to
// cfg.Prekeys. Prekeys no longer on the card are destroyed after
// PrekeyGrace.
func (a *Account) Publish(ctx context.Context) (*Card, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.publishLocked(ctx)
}

func (a *Account) publishLocked(ctx context.Context) (*Card, error) {
	var version uint64
	var keep []PrekeyID
	info, err := a.cfg.Net.Card(ctx, a.muid)
	switch {
	case err == nil:
		version = info.Card.Version
		for _, id := range info.Left {
			if a.prekeys.Has(id) {
				keep = append(keep, id)
			}
		}
	case !errors.Is(err, ErrNotFound):
		return nil, err
	}
	keep = keep[:min(len(keep), a.cfg.Prekeys)]
	prekeys := make([]Prekey, 0, a.cfg.Prekeys)
	for _, id := range keep {
		p, err := a.prekeys.Public(id)
		if err != nil {
			return nil, err
		}
		prekeys = append(prekeys, p)
	}
	fresh, err := a.prekeys.Generate(a.cfg.Prekeys-len(prekeys), a.cfg.Clock())
	if err != nil {
		return nil, err
	}
	prekeys = append(prekeys, fresh...)
	var card *Card
	for try := 0; ; try++ {
		card, err = NewCard(a.id, a.cfg.Nick, a.cfg.Avatar, a.LongTermPublic(), prekeys, version+1, a.cfg.Clock())
		if err != nil {
			return nil, err
		}
		_, err = a.cfg.Net.PutCard(ctx, card)
		var stale *StaleError
		if try == 0 && errors.As(err, &stale) {
			version = stale.Current.Version
			continue
		}
		if err != nil {
			return nil, err
		}
		break
	}
	cutoff := a.cfg.Clock().Add(-a.cfg.PrekeyGrace)
	_, _ = a.prekeys.Prune(func(id PrekeyID, created time.Time) bool {
		_, listed := card.Prekey(id)
		return !listed && created.Before(cutoff)
	})
	return card, nil
}

// Replenish publishes a new card when the home cells hand out fewer than
// RefillBelow of this store's prekeys (or hold no card, or an outdated
// profile or key). It reports whether it published.
func (a *Account) Replenish(ctx context.Context) (bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.replenishLocked(ctx)
}

func (a *Account) replenishLocked(ctx context.Context) (bool, error) {
	info, err := a.cfg.Net.Card(ctx, a.muid)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return false, err
	}
	if err == nil {
		left := 0
		for _, id := range info.Left {
			if a.prekeys.Has(id) {
				left++
			}
		}
		c := info.Card
		if left >= a.cfg.RefillBelow && c.Nick == a.cfg.Nick && c.Avatar == a.cfg.Avatar && string(c.Key) == string(a.LongTermPublic()) {
			if info.Holders < len(a.cfg.Net.Home(a.muid)) {
				// A home cell missed the card (a failed replica push, a new
				// member): put it again; the cell pushes it to the others.
				_, _ = a.cfg.Net.PutCard(ctx, c)
			}
			return false, nil
		}
	}
	if _, err := a.publishLocked(ctx); err != nil {
		return false, err
	}
	return true, nil
}

// Draft is a letter to send.
type Draft struct {
	To          string   // the recipient's MUID
	Subject     string   // ≤ MaxSubject bytes
	Body        string   // text
	Attachments []string // file capability links (cells/ftree EncodeLink)
	InReplyTo   MsgID    // the message answered, or zero
}

// SendResult says what became of a sent message.
type SendResult struct {
	ID MsgID
	// ForwardSecret: sealed to a one-time prekey of the recipient (false:
	// to its long-term key, because the cells had no prekey left).
	ForwardSecret bool
	// State is queued (stored in the outbox, will be retried by Run),
	// sent, delivered or failed.
	State State
}

// Send signs d, seals it to a prekey of the recipient (taken from its home
// cells; its long-term key when none is left) and to the account's own
// long-term key (the Sent copy), queues both in the outbox (fsync), keeps
// the Sent copy in the mailbox, and delivers. A non-nil error with State
// queued means the message is safe in the outbox and Run will deliver it;
// with State failed it was refused for good. Nothing is queued when the
// recipient's card cannot be had.
func (a *Account) Send(ctx context.Context, d Draft) (*SendResult, error) {
	att := d.Attachments
	if att == nil {
		att = []string{}
	}
	m := &Message{Kind: KindMail, To: d.To, Date: a.cfg.Clock().UnixMilli(), Subject: d.Subject, Body: d.Body,
		Attachments: att, InReplyTo: d.InReplyTo}
	return a.send(ctx, m, true)
}

func (a *Account) send(ctx context.Context, m *Message, keepCopy bool) (*SendResult, error) {
	if err := CheckMUID(m.To); err != nil {
		return nil, err
	}
	if err := m.Sign(a.id); err != nil {
		return nil, err
	}
	card, key, err := a.cfg.SendNet.Take(ctx, m.To)
	if err != nil {
		return nil, err
	}
	keyBytes := []byte(card.Key)
	if id, ok := key.Prekey(); ok {
		p, _ := card.Prekey(id) // present: checked when decoded
		keyBytes = p.Key
	}
	pub, err := ParseHPKEPublicKey(keyBytes)
	if err != nil {
		return nil, err
	}
	now := a.cfg.Clock()
	env, err := Seal(m, m.To, pub, key, now)
	if err != nil {
		return nil, err
	}
	var sent *Envelope
	if keepCopy {
		if sent, err = Seal(m, a.muid, a.longTerm.PublicKey(), LongTerm, now); err != nil {
			return nil, err
		}
	}
	if err := a.outbox.Queue(env, sent); err != nil {
		return nil, err
	}
	if keepCopy {
		if err := a.mailbox.Put(&Stored{Folder: Sent, Message: m, Key: key, ForwardSecret: key.ForwardSecret(),
			Received: now, State: StateQueued}); err != nil {
			return nil, err
		}
	}
	st, err := a.outbox.Deliver(ctx, m.ID)
	return &SendResult{ID: m.ID, ForwardSecret: key.ForwardSecret(), State: st}, err
}

// Rejection is a message that was not taken into the mailbox, and why.
type Rejection struct {
	ID  MsgID
	Err error
}

// ReceiveReport says what a Receive did.
type ReceiveReport struct {
	// New are the messages stored in the Inbox.
	New []*Stored
	// Receipts are Sent messages whose read receipt arrived.
	Receipts []MsgID
	// Rejected were forged, tampered or malformed: acknowledged (deleted
	// from the cells) and dropped.
	Rejected []Rejection
	// Unreadable are sealed to a key this account does not hold (a prekey
	// of a lost stick): left on the cells (another stick with the prekey
	// may still collect them; Discard gives up on them). They are fetched
	// once per Account, then only listed.
	Unreadable []Rejection
	// Acked is how many ids were acknowledged.
	Acked int
	// Replenished: a new card with fresh prekeys was published.
	Replenished bool
}

// Receive collects the account's mail: lists the mailbox on its home
// cells, fetches what is not yet in the local mailbox, opens each message
// (checking the sender's signature), stores it in the Inbox (or records a
// read receipt), acknowledges it to the cells (which then delete every
// copy), destroys the consumed prekeys, and publishes fresh prekeys when
// few are left.
func (a *Account) Receive(ctx context.Context) (*ReceiveReport, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	rep := &ReceiveReport{}
	ls, err := a.cfg.Net.List(ctx, a.muid)
	if err != nil {
		return rep, err
	}
	var ack []MsgID
	var wanted []Listing
	for _, l := range ls {
		id := l.Header.ID
		switch {
		case a.mailbox.Has(Inbox, id):
			ack = append(ack, id) // stored before, the ack was lost
		case a.unreadable[id] != nil:
			rep.Unreadable = append(rep.Unreadable, Rejection{id, a.unreadable[id]})
		default:
			wanted = append(wanted, l)
		}
	}
	envs, err := a.cfg.Net.Fetch(ctx, a.muid, wanted)
	if err != nil {
		return rep, err
	}
	var consumed []PrekeyID
	now := a.cfg.Clock()
	for _, env := range envs {
		op, err := Open(env, a.keys)
		if err == nil && op.Message.To != a.muid {
			err = fmt.Errorf("%w: a message to %s in this mailbox", ErrForged, op.Message.To)
		}
		switch {
		case errors.Is(err, ErrNoKey):
			rep.Unreadable = append(rep.Unreadable, Rejection{env.ID, err})
			a.unreadable[env.ID] = err
			continue
		case err != nil:
			rep.Rejected = append(rep.Rejected, Rejection{env.ID, err})
		case op.Message.Kind == KindReceipt:
			m := op.Message
			uerr := a.mailbox.Update(Sent, m.InReplyTo, func(s *Stored) {
				if s.Message.To == m.FromMUID && s.Receipt.IsZero() {
					s.Receipt = time.UnixMilli(m.Date)
				}
			})
			if uerr == nil {
				rep.Receipts = append(rep.Receipts, m.InReplyTo)
			}
		default:
			s := &Stored{Folder: Inbox, Message: op.Message, Key: env.Key, ForwardSecret: op.ForwardSecret, Received: now}
			if err := a.mailbox.Put(s); err != nil {
				return rep, err // not acknowledged: fetched again next time
			}
			rep.New = append(rep.New, s)
		}
		if id, ok := env.Key.Prekey(); ok && err == nil {
			consumed = append(consumed, id)
		}
		ack = append(ack, env.ID)
	}
	// The messages are stored: their prekeys' private halves go now.
	if len(consumed) > 0 {
		if err := a.prekeys.Destroy(consumed...); err != nil {
			return rep, err
		}
	}
	for len(ack) > 0 {
		batch := ack[:min(len(ack), MaxBatch)]
		ack = ack[len(batch):]
		proof, err := NewAckProof(a.id, batch, now)
		if err != nil {
			return rep, err
		}
		if _, err := a.cfg.Net.Ack(ctx, proof, ls); err != nil {
			return rep, err
		}
		rep.Acked += len(batch)
	}
	rep.Replenished, err = a.replenishLocked(ctx)
	return rep, err
}

// Discard acknowledges messages of the account's mailbox without reading
// them (Unreadable ones the person gives up on): the cells delete them.
func (a *Account) Discard(ctx context.Context, ids []MsgID) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for len(ids) > 0 {
		batch := ids[:min(len(ids), MaxBatch)]
		ids = ids[len(batch):]
		proof, err := NewAckProof(a.id, batch, a.cfg.Clock())
		if err != nil {
			return err
		}
		if _, err := a.cfg.Net.Ack(ctx, proof, nil); err != nil {
			return err
		}
		for _, id := range batch {
			delete(a.unreadable, id)
		}
	}
	return nil
}

// MarkRead marks Inbox message id read and, when receipt is set, sends
// its sender a signed read receipt (not kept in Sent).
func (a *Account) MarkRead(ctx context.Context, id MsgID, receipt bool) error {
	var msg *Message
	err := a.mailbox.Update(Inbox, id, func(s *Stored) {
		s.Read = true
		msg = s.Message
	})
	if err != nil || !receipt || msg.Kind != KindMail {
		return err
	}
	r := &Message{Kind: KindReceipt, To: msg.FromMUID, Date: a.cfg.Clock().UnixMilli(), InReplyTo: msg.ID, Attachments: []string{}}
	res, err := a.send(ctx, r, false)
	if err != nil && (res == nil || res.State != StateQueued) {
		return err
	}
	return nil
}

// Run delivers queued messages and follows sent ones until ctx ends (see
// Outbox.Run).
func (a *Account) Run(ctx context.Context) { a.outbox.Run(ctx) }

// Close closes the outbox and wipes the account's keys from memory.
func (a *Account) Close() error {
	err := a.outbox.Close()
	a.mailbox.Close()
	a.prekeys.Close()
	return err
}
