package conduit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/borgios/borghui/cells/ledger"
	"github.com/borgios/borghui/failover"
	"github.com/borgios/borghui/peer/transport"
	"github.com/borgios/borghui/signer"
	"github.com/borgios/borghui/wallet/address"
)

// Wallet is the person's Borg Shells account: balance, history and
// sending, through the ledger cells with failover (reads hedged, a submit
// retried elsewhere: a transfer's ID makes a repeat harmless).
type Wallet struct {
	key  signer.Key
	muid string
	list *failover.List
	now  func() time.Time

	mu      sync.Mutex
	conns   map[string]*transport.Client // by endpoint address
	lastSeq uint64                       // highest sequence this wallet signed
}

// WalletOptions configures a Wallet.
type WalletOptions struct {
	// OnSwitch is told when a call moves to another ledger endpoint.
	OnSwitch func(from, to failover.Endpoint, why error)
	// Clock is network time (nil: time.Now).
	Clock func() time.Time
}

// NewWallet returns the wallet of key over the ledger endpoints.
func NewWallet(key signer.Key, endpoints []failover.Endpoint, o WalletOptions) (*Wallet, error) {
	muid, err := ledger.MUIDOf(key.PublicKey())
	if err != nil {
		return nil, err
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	w := &Wallet{key: key, muid: muid, now: o.Clock, conns: map[string]*transport.Client{}}
	w.list = failover.New(failover.Config{Cell: ledger.CellName, Classify: endpointFailure, OnSwitch: o.OnSwitch, Now: o.Clock}, endpoints)
	return w, nil
}

// endpointFailure tells an endpoint's failure (unreachable, closed, an
// answer that does not verify) from the cell's own answer.
func endpointFailure(err error) bool {
	return errors.Is(err, transport.ErrUnreachable) || errors.Is(err, transport.ErrClosed) ||
		errors.Is(err, transport.ErrBadResponse) || errors.Is(err, ledger.ErrBadResponse) ||
		errors.Is(err, context.DeadlineExceeded)
}

// MUID is the wallet's account.
func (w *Wallet) MUID() string { return w.muid }

// Health lists the ledger endpoints, best first.
func (w *Wallet) Health() []failover.Health { return w.list.Health() }

// Close closes the connections.
func (w *Wallet) Close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for a, c := range w.conns {
		c.Close()
		delete(w.conns, a)
	}
}

// client returns a connection to ep, dialling it when needed.
func (w *Wallet) client(ctx context.Context, ep failover.Endpoint) (*ledger.Client, error) {
	w.mu.Lock()
	c := w.conns[ep.Addr]
	w.mu.Unlock()
	if c == nil {
		var err error
		if c, err = transport.Dial(ctx, ep.Addr, transport.ClientConfig{Key: w.key, Expect: transport.NodeID(ep.ID), Clock: w.now}); err != nil {
			return nil, err
		}
		w.mu.Lock()
		if old := w.conns[ep.Addr]; old != nil {
			c.Close()
			c = old
		} else {
			w.conns[ep.Addr] = c
		}
		w.mu.Unlock()
	}
	return ledger.NewClient(ledger.ReceptorCaller{C: c}), nil
}

// do runs f on a ledger endpoint; a connection that failed is dropped so
// the next call dials afresh.
func (w *Wallet) do(ctx context.Context, mode failover.Mode, f func(*ledger.Client) error) error {
	_, err := w.list.Do(ctx, mode, func(ctx context.Context, ep failover.Endpoint) error {
		c, err := w.client(ctx, ep)
		if err == nil {
			err = f(c)
		}
		if err != nil && endpointFailure(err) {
			w.mu.Lock()
			if tc := w.conns[ep.Addr]; tc != nil {
				tc.Close()
				delete(w.conns, ep.Addr)
			}
			w.mu.Unlock()
		}
		return err
	})
	return err
}

// read runs f as a hedged read: f may run on several endpoints at once,
// and still be running when the read returns (it answered already, or ctx
// ended), so the first answer is kept under a lock, never written by two.
func read[T any](ctx context.Context, w *Wallet, f func(*ledger.Client) (T, error)) (T, error) {
	var (
		mu  sync.Mutex
		out T
		got bool
	)
	err := w.do(ctx, failover.Read, func(c *ledger.Client) error {
		v, err := f(c)
		if err == nil {
			mu.Lock()
			if !got {
				out, got = v, true
			}
			mu.Unlock()
		}
		return err
	})
	mu.Lock()
	defer mu.Unlock()
	if err != nil {
		var zero T
		return zero, err
	}
	return out, nil
}

// Balance is the account's balance and applied sequence.
func (w *Wallet) Balance(ctx context.Context) (*ledger.BalanceResponse, error) {
	return read(ctx, w, func(c *ledger.Client) (*ledger.BalanceResponse, error) { return c.Balance(ctx, w.muid) })
}

// History is one page of the account's transfers, newest first; before
// (nil: the newest) continues from a previous page's last entry.
func (w *Wallet) History(ctx context.Context, before *ledger.Cursor, limit int) (*ledger.HistoryResponse, error) {
	return read(ctx, w, func(c *ledger.Client) (*ledger.HistoryResponse, error) { return c.History(ctx, w.muid, before, limit) })
}

// Draft is a transfer checked and ready to sign: what the confirm step
// shows, exactly.
type Draft struct {
	To     string        // the recipient's MUID
	Amount ledger.Amount // nano-shells
	Fee    ledger.Amount
	Memo   string
	// Balance is the balance it was checked against.
	Balance ledger.Amount
}

// User-facing refusals of a draft.
var (
	ErrBadAmount    = errors.New("enter an amount above zero, with at most 9 decimals")
	ErrBadRecipient = errors.New("that is not a BorgIOS address (MUID)")
	ErrToSelf       = errors.New("that is your own address")
	ErrTooPoor      = errors.New("the amount and fee are more than your balance")
)

// Prepare checks a transfer the person typed: amount and fee as decimal
// shells ("12.5"), the recipient's MUID, the balance now.
func (w *Wallet) Prepare(ctx context.Context, to, amount, fee, memo string) (*Draft, error) {
	to = strings.TrimSpace(to)
	if _, err := address.ParseMUID(to); err != nil {
		return nil, ErrBadRecipient
	}
	if to == w.muid {
		return nil, ErrToSelf
	}
	amt, err := ledger.ParseAmount(strings.TrimSpace(amount))
	if err != nil || amt == 0 {
		return nil, ErrBadAmount
	}
	var f ledger.Amount
	if strings.TrimSpace(fee) != "" {
		if f, err = ledger.ParseAmount(strings.TrimSpace(fee)); err != nil {
			return nil, ErrBadAmount
		}
	}
	bal, err := w.Balance(ctx)
	if err != nil {
		return nil, err
	}
	if amt+f < amt || amt+f > bal.Balance {
		return nil, ErrTooPoor
	}
	return &Draft{To: to, Amount: amt, Fee: f, Memo: memo, Balance: bal.Balance}, nil
}

// Send signs d with the account's next sequence number and submits it
// (retried on another endpoint if one fails: the same signed transfer).
// The answer is its status: pending, applied or rejected with a reason.
func (w *Wallet) Send(ctx context.Context, d *Draft) (*ledger.StatusResponse, error) {
	bal, err := w.Balance(ctx)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	seq := max(bal.Seq, w.lastSeq) + 1
	w.lastSeq = seq
	w.mu.Unlock()
	t, err := ledger.NewTransfer(w.key, d.To, uint64(d.Amount), uint64(d.Fee), seq, w.now(), d.Memo)
	if err != nil {
		return nil, fmt.Errorf("conduit: signing the transfer: %w", err)
	}
	var st *ledger.StatusResponse
	err = w.do(ctx, failover.Retry, func(c *ledger.Client) (err error) {
		st, err = c.Submit(ctx, t)
		return err
	})
	if err != nil {
		// Not taken anywhere (as far as we know): free the number, or the
		// next transfer would wait on a gap. Had a node taken it after
		// all, the reuse is a duplicate sequence and only one applies.
		w.mu.Lock()
		if w.lastSeq == seq {
			w.lastSeq = seq - 1
		}
		w.mu.Unlock()
	}
	return st, err
}

// Status asks where a sent transfer stands.
func (w *Wallet) Status(ctx context.Context, id ledger.Hash) (*ledger.StatusResponse, error) {
	return read(ctx, w, func(c *ledger.Client) (*ledger.StatusResponse, error) { return c.Status(ctx, id) })
}
