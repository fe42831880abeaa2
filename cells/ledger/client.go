package ledger

import (
	"context"
	"fmt"

	"github.com/borgios/borghui/peer/transport"
)

// Caller makes one request of the ledger cell on one node and returns the
// verified response body (every response is signed by the node and checked
// by the transport). A failover layer can stand in for it.
type Caller interface {
	Call(ctx context.Context, typ string, body []byte) ([]byte, error)
}

// ReceptorCaller calls a node's receptor over a transport.Client.
type ReceptorCaller struct{ C *transport.Client }

// Call sends a signed request of type typ to the ledger cell.
func (r ReceptorCaller) Call(ctx context.Context, typ string, body []byte) ([]byte, error) {
	return r.C.Request(ctx, CellName, typ, body)
}

// Client is the typed client of one ledger node. It checks what it gets
// back: answers about the transfer, account or cursor asked for, and
// history entries whose transfers carry valid signatures.
type Client struct{ c Caller }

// NewClient returns a client calling through c.
func NewClient(c Caller) *Client { return &Client{c: c} }

func call[T any](ctx context.Context, c *Client, typ string, req message, dec func([]byte) (*T, error)) (*T, error) {
	body, err := Encode(req)
	if err != nil {
		return nil, err
	}
	resp, err := c.c.Call(ctx, typ, body)
	if err != nil {
		return nil, fromRemote(typ, err)
	}
	out, err := dec(resp)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadResponse, typ, err)
	}
	return out, nil
}

// Submit hands t to the node. The answer is its status there: pending
// (queued; poll Status), applied (already in the chain) or rejected with a
// reason (final: sign a new transfer). ErrBusy means try again later (the
// same transfer may be submitted again any time: its id dedups it). A
// transfer that later turns unknown everywhere was lost with a failed
// root before any block held it: submit it again.
func (c *Client) Submit(ctx context.Context, t *Transfer) (*StatusResponse, error) {
	r, err := call(ctx, c, TypeSubmit, &SubmitRequest{Transfer: t}, DecodeStatusResponse)
	if err != nil {
		return nil, err
	}
	if r.ID != t.ID() {
		return nil, fmt.Errorf("%w: the node answered about another transfer", ErrBadResponse)
	}
	return r, nil
}

// Status asks for the status of transfer id.
func (c *Client) Status(ctx context.Context, id Hash) (*StatusResponse, error) {
	r, err := call(ctx, c, TypeStatus, &StatusRequest{ID: id}, DecodeStatusResponse)
	if err != nil {
		return nil, err
	}
	if r.ID != id {
		return nil, fmt.Errorf("%w: the node answered about another transfer", ErrBadResponse)
	}
	return r, nil
}

// Balance asks for the account muid: balance, last applied seq (the next
// transfer from it carries seq+1) and the node's chain height.
func (c *Client) Balance(ctx context.Context, muid string) (*BalanceResponse, error) {
	r, err := call(ctx, c, TypeBalance, &BalanceRequest{MUID: muid}, DecodeBalanceResponse)
	if err != nil {
		return nil, err
	}
	if r.MUID != muid {
		return nil, fmt.Errorf("%w: the node answered about another account", ErrBadResponse)
	}
	return r, nil
}

// History asks for one page of the account's transfers, newest first,
// strictly before before (nil: from the newest), at most limit (0: the
// maximum). Ask again with the last entry's place while More is set.
func (c *Client) History(ctx context.Context, muid string, before *Cursor, limit int) (*HistoryResponse, error) {
	r, err := call(ctx, c, TypeHistory, &HistoryRequest{MUID: muid, Before: before, Limit: limit}, DecodeHistoryResponse)
	if err != nil {
		return nil, err
	}
	if r.MUID != muid {
		return nil, fmt.Errorf("%w: the node answered about another account", ErrBadResponse)
	}
	max := limit
	if max == 0 {
		max = MaxHistoryPage
	}
	if len(r.Entries) > max {
		return nil, fmt.Errorf("%w: %d entries for a limit of %d", ErrBadResponse, len(r.Entries), max)
	}
	for _, e := range r.Entries {
		if before != nil && (e.Height > before.Height || e.Height == before.Height && e.Index >= before.Index) {
			return nil, fmt.Errorf("%w: an entry not before the cursor", ErrBadResponse)
		}
		if err := e.Transfer.Verify(); err != nil {
			return nil, fmt.Errorf("%w: history entry: %w", ErrBadResponse, err)
		}
	}
	return r, nil
}

// Next returns the cursor after the page's last entry (nil when empty).
func (r *HistoryResponse) Next() *Cursor {
	if len(r.Entries) == 0 {
		return nil
	}
	e := r.Entries[len(r.Entries)-1]
	return &Cursor{Height: e.Height, Index: e.Index}
}

// State asks for the node's chain tip: height, block hash, state hash,
// supply and account count.
func (c *Client) State(ctx context.Context) (*StateResponse, error) {
	return call(ctx, c, TypeState, &StateRequest{}, DecodeStateResponse)
}
