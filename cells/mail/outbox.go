package mail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"time"

	"github.com/borgios/borghui/internal/dirs"
	"github.com/borgios/borghui/internal/seglog"
)

// State is where a sent message is, as its sender sees it.
type State string

// Delivery states.
const (
	// StateQueued: durably in the outbox journal, not yet stored by a cell.
	StateQueued State = "queued"
	// StateSent: stored by the recipient's mail cells.
	StateSent State = "sent"
	// StateDelivered: the recipient fetched and acknowledged it.
	StateDelivered State = "delivered"
	// StateFailed: refused for good (malformed, too large, id conflict) or
	// expired unread on the cells. Err says why.
	StateFailed State = "failed"
)

// Deliverer stores envelopes on cells and reports their state; Multi
// implements it.
type Deliverer interface {
	// Deliver stores env; delivering the same envelope again is a no-op.
	Deliver(ctx context.Context, env *Envelope) (*DeliverResponse, error)
	// Status returns the cells' state (CellStored, CellDelivered, …) of
	// ids in mailbox.
	Status(ctx context.Context, mailbox string, ids []MsgID) (map[MsgID]string, error)
}

// OutboxConfig tunes an Outbox. Zero fields take defaults.
type OutboxConfig struct {
	// BackoffMin is the wait after the first failed delivery (default
	// 500 ms); it doubles with each failure up to BackoffMax (default 5
	// minutes), with ±20 % jitter.
	BackoffMin time.Duration
	BackoffMax time.Duration
	// StatusEvery is how often Run asks the cells whether sent messages
	// were delivered (default 30 s).
	StatusEvery time.Duration
	// OnState, when set, is called (outside the outbox's lock) whenever a
	// message changes state.
	OnState func(id MsgID, st State)
	// Clock is the time source; default time.Now.
	Clock func() time.Time
}

// OutboxItem is one message in the outbox.
type OutboxItem struct {
	ID       MsgID
	To       string    // the recipient's mailbox
	State    State     // queued, sent, delivered or failed
	Envelope *Envelope // sealed to the recipient
	SentCopy *Envelope // sealed to the sender's own long-term key (nil if none)
	Queued   time.Time
	Copies   int    // copies the cells confirmed (sent)
	Err      string // why it failed, or the last delivery error while queued
	Attempts int    // delivery attempts since the outbox was opened

	next time.Time // no attempt before
	busy bool      // an attempt is under way
}

// Outbox is the sender's outbox on the stick: an append-only journal of
// sealed messages and their states, so a message is sent exactly once even
// when the conduit is killed mid-send. Every line is
//
//	JSON ‖ ' ' ‖ CRC-32C of the JSON (8 lowercase hex) ‖ '\n'
//
// and is fsynced before the step it records counts as done; a torn or
// damaged tail (a crash cut a write) is dropped on open. Send writes
// "queued" (with both sealed copies) first, then delivers, then writes
// "sent": a crash between delivery and "sent" re-delivers on restart, and
// cells treat a second delivery of the same id as a no-op. The journal
// holds only sealed messages, never plaintext. Delivered and failed
// messages are compacted away (the Mailbox keeps the history). It is safe
// for concurrent use.
type Outbox struct {
	path string
	d    Deliverer
	cfg  OutboxConfig

	mu     sync.Mutex
	log    *seglog.Log
	items  map[MsgID]*OutboxItem
	order  []MsgID
	final  int // delivered or failed items (compacted away in time)
	closed bool
}

type journalLine struct {
	Op     string `json:"op"` // queued, sent, delivered, failed, requeued
	ID     MsgID  `json:"id"`
	Env    []byte `json:"env,omitempty"`  // Envelope.MarshalBinary (queued)
	Sent   []byte `json:"sent,omitempty"` // the Sent copy (queued)
	Copies int    `json:"copies,omitempty"`
	Err    string `json:"err,omitempty"`
	Time   int64  `json:"time"`
}

// maxJournalLine bounds one line (two sealed messages in base64).
var maxJournalLine = 4*MaxSealed + 4096

// OpenOutbox opens (or creates) the outbox journal at path, delivering
// through d.
func OpenOutbox(path string, d Deliverer, cfg OutboxConfig) (*Outbox, error) {
	if cfg.BackoffMin <= 0 {
		cfg.BackoffMin = 500 * time.Millisecond
	}
	if cfg.BackoffMax <= 0 {
		cfg.BackoffMax = 5 * time.Minute
	}
	if cfg.StatusEvery <= 0 {
		cfg.StatusEvery = 30 * time.Second
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if err := dirs.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("mail: outbox: %w", err)
	}
	removeTemps(filepath.Dir(path))
	o := &Outbox{path: path, d: d, cfg: cfg, items: map[MsgID]*OutboxItem{}}
	log, recs, err := seglog.Open(path)
	if err != nil {
		return nil, fmt.Errorf("mail: outbox: %w", err)
	}
	o.log = log
	lines := 0
	for _, body := range recs {
		if o.apply(body) != nil {
			break
		}
		lines++
	}
	// Rewrite the journal without damaged, superseded and finished lines.
	if lines < len(recs) || lines > 2*len(o.items) || o.final > 0 || log.Segments() > 8 {
		if err := o.compactLocked(); err != nil {
			log.Close()
			return nil, err
		}
	}
	return o, nil
}

func encodeLine(v any) ([]byte, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if len(body) > maxJournalLine-16 {
		return nil, fmt.Errorf("%w: outbox line too long", ErrTooLarge)
	}
	return body, nil
}

// apply replays one journal line.
func (o *Outbox) apply(body []byte) error {
	var l journalLine
	if err := json.Unmarshal(body, &l); err != nil || l.ID.IsZero() {
		return fmt.Errorf("%w: outbox line", ErrMalformed)
	}
	it := o.items[l.ID]
	if l.Op == "queued" {
		if it != nil {
			return nil
		}
		env, err := ParseEnvelope(l.Env)
		if err != nil || env.ID != l.ID {
			return fmt.Errorf("%w: outbox envelope", ErrMalformed)
		}
		it = &OutboxItem{ID: l.ID, To: env.To, State: StateQueued, Envelope: env, Queued: time.UnixMilli(l.Time)}
		if len(l.Sent) > 0 {
			if it.SentCopy, err = ParseEnvelope(l.Sent); err != nil || it.SentCopy.ID != l.ID {
				return fmt.Errorf("%w: outbox sent copy", ErrMalformed)
			}
		}
		o.items[l.ID] = it
		o.order = append(o.order, l.ID)
		return nil
	}
	if it == nil {
		return fmt.Errorf("%w: outbox state for an unknown message", ErrMalformed)
	}
	switch l.Op {
	case "sent":
		it.State, it.Copies = StateSent, l.Copies
	case "requeued":
		it.State, it.Copies = StateQueued, 0
	case "delivered":
		it.State = StateDelivered
		o.final++
	case "failed":
		it.State, it.Err = StateFailed, l.Err
		o.final++
	default:
		return fmt.Errorf("%w: outbox op %q", ErrMalformed, l.Op)
	}
	return nil
}

// queuedLine is the journal line that queues it.
func queuedLine(it *OutboxItem) (journalLine, error) {
	env, err := it.Envelope.MarshalBinary()
	if err != nil {
		return journalLine{}, err
	}
	l := journalLine{Op: "queued", ID: it.ID, Env: env, Time: it.Queued.UnixMilli()}
	if it.SentCopy != nil {
		if l.Sent, err = it.SentCopy.MarshalBinary(); err != nil {
			return journalLine{}, err
		}
	}
	return l, nil
}

// compactLocked rewrites the journal atomically with the unfinished
// messages only (a queued line, and a sent line when sent).
func (o *Outbox) compactLocked() error {
	var bodies [][]byte
	var order []MsgID
	for _, id := range o.order {
		it := o.items[id]
		if it.State == StateDelivered || it.State == StateFailed {
			delete(o.items, id)
			continue
		}
		order = append(order, id)
		l, err := queuedLine(it)
		if err != nil {
			return err
		}
		b, err := encodeLine(l)
		if err != nil {
			return err
		}
		bodies = append(bodies, b)
		if it.State == StateSent {
			b, _ := encodeLine(journalLine{Op: "sent", ID: id, Copies: it.Copies, Time: o.cfg.Clock().UnixMilli()})
			bodies = append(bodies, b)
		}
	}
	if err := o.log.Compact(bodies); err != nil {
		return fmt.Errorf("mail: outbox: %w", err)
	}
	o.order, o.final = order, 0
	return nil
}

// appendLocked writes one line and fsyncs it.
func (o *Outbox) appendLocked(l journalLine) error {
	if o.closed {
		return ErrClosed
	}
	b, err := encodeLine(l)
	if err != nil {
		return err
	}
	if err := o.log.Append(b); err != nil {
		return fmt.Errorf("mail: outbox: %w", err)
	}
	return nil
}

// Queue records env (sealed to the recipient) and sent (the sender's own
// copy, may be nil) durably as queued. Queuing an id already in the
// outbox is a no-op.
func (o *Outbox) Queue(env, sent *Envelope) error {
	if err := env.check(); err != nil {
		return err
	}
	if sent != nil && sent.ID != env.ID {
		return fmt.Errorf("%w: the sent copy is of another message", ErrMalformed)
	}
	o.mu.Lock()
	if o.items[env.ID] != nil {
		o.mu.Unlock()
		return nil
	}
	it := &OutboxItem{ID: env.ID, To: env.To, State: StateQueued, Envelope: env, SentCopy: sent, Queued: o.cfg.Clock()}
	l, err := queuedLine(it)
	if err == nil {
		err = o.appendLocked(l)
	}
	if err == nil {
		o.items[env.ID] = it
		o.order = append(o.order, env.ID)
	}
	o.mu.Unlock()
	if err == nil {
		o.notify(env.ID, StateQueued)
	}
	return err
}

// Send queues env and sent, then delivers env (Deliver). See Deliver for
// what the result means.
func (o *Outbox) Send(ctx context.Context, env, sent *Envelope) (State, error) {
	if err := o.Queue(env, sent); err != nil {
		return "", err
	}
	return o.Deliver(ctx, env.ID)
}

// Deliver tries to deliver a queued message until it is stored, refused
// for good, or ctx ends, waiting with exponential backoff between tries.
// It returns the message's state: StateSent (or StateDelivered) on
// success; StateFailed with the refusal; StateQueued with the last error
// when ctx ended first — the message stays in the journal and Run (or the
// next Deliver or Flush) tries again.
func (o *Outbox) Deliver(ctx context.Context, id MsgID) (State, error) {
	for {
		st, retry, err := o.attempt(ctx, id, true)
		if !retry {
			return st, err
		}
		o.mu.Lock()
		wait := time.Until(o.items[id].next)
		o.mu.Unlock()
		t := time.NewTimer(max(wait, 20*time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			if err == nil {
				err = ctx.Err()
			}
			return StateQueued, err
		case <-t.C:
		}
	}
}

// attempt makes one delivery attempt of id if it is queued (and, unless
// force, due). retry reports a transient failure.
func (o *Outbox) attempt(ctx context.Context, id MsgID, force bool) (State, bool, error) {
	o.mu.Lock()
	it := o.items[id]
	switch {
	case it == nil:
		o.mu.Unlock()
		return "", false, fmt.Errorf("%w: message %s is not in the outbox", ErrNotFound, id)
	case it.State != StateQueued:
		st, e := it.State, it.Err
		o.mu.Unlock()
		if st == StateFailed {
			return st, false, errors.New(e)
		}
		return st, false, nil
	case it.busy || !force && o.cfg.Clock().Before(it.next):
		o.mu.Unlock()
		return StateQueued, true, nil
	}
	it.busy = true
	env := it.Envelope
	o.mu.Unlock()

	resp, err := o.d.Deliver(ctx, env)

	o.mu.Lock()
	it.busy = false
	it.Attempts++
	var l journalLine
	switch {
	case err == nil && resp.State == CellStored:
		l = journalLine{Op: "sent", ID: id, Copies: resp.Copies}
	case err == nil && resp.State == CellDelivered:
		l = journalLine{Op: "delivered", ID: id}
	case err == nil:
		l = journalLine{Op: "failed", ID: id, Err: "expired unread on the mail cells"}
	case permanent(err):
		l = journalLine{Op: "failed", ID: id, Err: err.Error()}
	default:
		it.Err = err.Error()
		it.next = o.cfg.Clock().Add(o.backoff(it.Attempts))
		o.mu.Unlock()
		return StateQueued, true, err
	}
	st, werr := o.recordLocked(it, l)
	o.mu.Unlock()
	if werr != nil {
		return StateQueued, true, werr
	}
	o.notify(id, st)
	if st == StateFailed {
		if err == nil {
			err = errors.New(l.Err)
		}
		return st, false, err
	}
	return st, false, nil
}

// recordLocked journals a state change of it and applies it.
func (o *Outbox) recordLocked(it *OutboxItem, l journalLine) (State, error) {
	l.Time = o.cfg.Clock().UnixMilli()
	if err := o.appendLocked(l); err != nil {
		return it.State, err
	}
	switch l.Op {
	case "sent":
		it.State, it.Copies, it.Err = StateSent, l.Copies, ""
	case "delivered":
		it.State, it.Err = StateDelivered, ""
		o.final++
	case "failed":
		it.State, it.Err = StateFailed, l.Err
		o.final++
	}
	return it.State, nil
}

// Redeliver puts every message the cells stored but the recipient has
// not fetched back in the queue, so Run (or Flush) delivers it again
// through the outbox's Deliverer, and returns how many. The conduit calls
// it when it leaves its own solo network for a real one: the copies the
// solo cells hold reach nobody, and a second delivery of a message cells
// already hold is a no-op.
func (o *Outbox) Redeliver() (int, error) {
	o.mu.Lock()
	n := 0
	var err error
	for _, id := range o.order {
		it := o.items[id]
		if it.State != StateSent || it.busy {
			continue
		}
		if err = o.appendLocked(journalLine{Op: "requeued", ID: id, Time: o.cfg.Clock().UnixMilli()}); err != nil {
			break
		}
		it.State, it.Copies, it.Err, it.next = StateQueued, 0, "", time.Time{}
		n++
	}
	o.mu.Unlock()
	return n, err
}

func (o *Outbox) backoff(attempts int) time.Duration {
	d := o.cfg.BackoffMin
	for i := 1; i < attempts && d < o.cfg.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, o.cfg.BackoffMax)
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

func (o *Outbox) notify(id MsgID, st State) {
	if o.cfg.OnState != nil {
		o.cfg.OnState(id, st)
	}
}

// Flush makes one delivery attempt of every queued message that is due,
// and returns how many were stored.
func (o *Outbox) Flush(ctx context.Context) int {
	o.mu.Lock()
	var due []MsgID
	now := o.cfg.Clock()
	for _, id := range o.order {
		if it := o.items[id]; it.State == StateQueued && !it.busy && !now.Before(it.next) {
			due = append(due, id)
		}
	}
	o.mu.Unlock()
	n := 0
	for _, id := range due {
		if st, _, _ := o.attempt(ctx, id, false); st == StateSent || st == StateDelivered {
			n++
		}
	}
	return n
}

// Refresh asks the cells about every sent message and records the ones
// delivered (or expired unread). It returns how many changed.
func (o *Outbox) Refresh(ctx context.Context) (int, error) {
	o.mu.Lock()
	byTo := map[string][]MsgID{}
	for _, id := range o.order {
		if it := o.items[id]; it.State == StateSent {
			byTo[it.To] = append(byTo[it.To], id)
		}
	}
	o.mu.Unlock()
	changed := 0
	var firstErr error
	for to, ids := range byTo {
		for len(ids) > 0 {
			batch := ids[:min(len(ids), MaxBatch)]
			ids = ids[len(batch):]
			states, err := o.d.Status(ctx, to, batch)
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			for _, id := range batch {
				var l journalLine
				switch states[id] {
				case CellDelivered:
					l = journalLine{Op: "delivered", ID: id}
				case CellExpired:
					l = journalLine{Op: "failed", ID: id, Err: "expired unread on the mail cells"}
				default:
					continue
				}
				o.mu.Lock()
				it := o.items[id]
				var st State
				if it != nil && it.State == StateSent {
					st, err = o.recordLocked(it, l)
				}
				o.mu.Unlock()
				if err != nil {
					return changed, err
				}
				if st != "" {
					changed++
					o.notify(id, st)
				}
			}
		}
	}
	o.mu.Lock()
	var err error
	if o.final >= 32 && !o.closed {
		err = o.compactLocked()
	}
	o.mu.Unlock()
	if err != nil {
		return changed, err
	}
	return changed, firstErr
}

// Run retries queued messages when due and asks for the delivery state of
// sent ones every StatusEvery, until ctx ends.
func (o *Outbox) Run(ctx context.Context) {
	tick := time.NewTicker(min(o.cfg.BackoffMin, time.Second))
	defer tick.Stop()
	lastStatus := o.cfg.Clock()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		o.Flush(ctx)
		if o.cfg.Clock().Sub(lastStatus) >= o.cfg.StatusEvery {
			o.Refresh(ctx)
			lastStatus = o.cfg.Clock()
		}
	}
}

// Item returns a copy of the outbox entry of id.
func (o *Outbox) Item(id MsgID) (OutboxItem, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	it := o.items[id]
	if it == nil {
		return OutboxItem{}, false
	}
	return *it, true
}

// Items returns copies of the entries in the order they were queued.
func (o *Outbox) Items() []OutboxItem {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]OutboxItem, 0, len(o.order))
	for _, id := range o.order {
		if it := o.items[id]; it != nil {
			out = append(out, *it)
		}
	}
	return out
}

// Close closes the journal (kept for the next open).
func (o *Outbox) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return nil
	}
	o.closed = true
	return o.log.Close()
}
