package mail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/borgios/borghui/peer/transport"
	"github.com/borgios/borghui/signer"
)

// Caller sends one signed request of this cell to one node and returns the
// verified response body. TransportCaller implements it over a receptor
// connection; the conduit may implement it over its failover endpoints.
type Caller interface {
	Call(ctx context.Context, typ string, body []byte) ([]byte, error)
}

// TransportCaller is a Caller over one *transport.Client.
type TransportCaller struct {
	C *transport.Client
}

// Call implements Caller.
func (t TransportCaller) Call(ctx context.Context, typ string, body []byte) ([]byte, error) {
	return t.C.Request(ctx, CellName, typ, body)
}

// Client makes typed calls to one mail cell. It checks what it gets: cards
// must verify and be the address asked for, listings and envelopes must be
// of the mailbox asked for and the ids asked for.
type Client struct {
	c Caller
}

// NewClient returns a Client over c.
func NewClient(c Caller) *Client { return &Client{c: c} }

func (c *Client) call(ctx context.Context, typ string, body []byte) ([]byte, error) {
	b, err := c.c.Call(ctx, typ, body)
	if err != nil {
		return nil, fromRemote(typ, err)
	}
	return b, nil
}

// request encodes req, calls typ and decodes the answer with dec.
func request[T any](ctx context.Context, c *Client, typ string, req message, dec func([]byte) (*T, error)) (*T, error) {
	body, err := Encode(req)
	if err != nil {
		return nil, err
	}
	b, err := c.call(ctx, typ, body)
	if err != nil {
		return nil, err
	}
	out, err := dec(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadResponse, typ, err)
	}
	return out, nil
}

func checkCard(c *Card, muid string) error {
	if c.MUID != muid {
		return fmt.Errorf("%w: card of %s, asked for %s", ErrBadResponse, c.MUID, muid)
	}
	if err := c.Verify(); err != nil {
		return fmt.Errorf("%w: %w", ErrBadResponse, err)
	}
	return nil
}

// PutCard publishes card (signed by the key that signs the requests). It
// returns the copies the cell confirmed on the owner's home cells; a card
// not newer than the cell's is a *StaleError with the (verified) current
// card.
func (c *Client) PutCard(ctx context.Context, card *Card) (int, error) {
	r, err := request(ctx, c, TypeCardPut, &CardPutRequest{Card: card}, DecodeCardPutResponse)
	if err != nil {
		return 0, err
	}
	if r.Status == StatusStale {
		if err := checkCard(r.Current, card.MUID); err != nil {
			return 0, err
		}
		return 0, &StaleError{Current: r.Current}
	}
	return r.Copies, nil
}

// Card returns the card of muid and the ids of its prekeys the cell still
// hands out; ErrNotFound if the cell holds none.
func (c *Client) Card(ctx context.Context, muid string) (*Card, []PrekeyID, error) {
	r, err := request(ctx, c, TypeCardGet, &CardGetRequest{MUID: muid}, DecodeCardGetResponse)
	if err != nil {
		return nil, nil, err
	}
	if r.Card == nil {
		return nil, nil, fmt.Errorf("%w: no mail card for %s", ErrNotFound, muid)
	}
	if err := checkCard(r.Card, muid); err != nil {
		return nil, nil, err
	}
	return r.Card, r.Left, nil
}

// Search finds cards by exact MUID or nickname prefix (case-insensitive),
// at most limit (0: MaxSearch). Every card is verified.
func (c *Client) Search(ctx context.Context, query string, limit int) ([]*Card, error) {
	r, err := request(ctx, c, TypeCardSearch, &SearchRequest{Query: query, Limit: limit}, DecodeSearchResponse)
	if err != nil {
		return nil, err
	}
	for _, card := range r.Cards {
		if err := checkCard(card, card.MUID); err != nil {
			return nil, err
		}
		if CheckMUID(query) == nil && card.MUID != query {
			return nil, fmt.Errorf("%w: search for %s answered %s", ErrBadResponse, query, card.MUID)
		}
	}
	return r.Cards, nil
}

// Take asks for one prekey of muid's card: it returns the (verified) card
// and the key to seal to, a prekey of that card or LongTerm when the cell
// has none left.
func (c *Client) Take(ctx context.Context, muid string) (*Card, KeyID, error) {
	r, err := request(ctx, c, TypePrekeyTake, &TakeRequest{MUID: muid}, DecodeTakeResponse)
	if err != nil {
		return nil, "", err
	}
	if err := checkCard(r.Card, muid); err != nil {
		return nil, "", err
	}
	return r.Card, r.Key, nil
}

// Deliver stores env on the cell, which places copies on the mailbox's
// home cells. Delivering the same envelope again is a no-op.
func (c *Client) Deliver(ctx context.Context, env *Envelope) (*DeliverResponse, error) {
	body, err := env.MarshalBinary()
	if err != nil {
		return nil, err
	}
	b, err := c.call(ctx, TypeDeliver, body)
	if err != nil {
		return nil, err
	}
	r, err := DecodeDeliverResponse(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadResponse, TypeDeliver, err)
	}
	if r.ID != env.ID {
		return nil, fmt.Errorf("%w: delivery answered for another id", ErrBadResponse)
	}
	return r, nil
}

// List returns one page of headers of mailbox muid (the requests' key must
// own it) after after, at most limit (0: MaxList), and whether more follow.
func (c *Client) List(ctx context.Context, muid string, after MsgID, limit int) ([]Header, bool, error) {
	r, err := request(ctx, c, TypeList, &ListRequest{MUID: muid, After: after, Limit: limit}, DecodeListResponse)
	if err != nil {
		return nil, false, err
	}
	prev := after
	for _, h := range r.Items {
		if h.To != muid {
			return nil, false, fmt.Errorf("%w: listing of another mailbox", ErrBadResponse)
		}
		if bytes.Compare(h.ID[:], prev[:]) <= 0 {
			return nil, false, fmt.Errorf("%w: listing out of order", ErrBadResponse)
		}
		prev = h.ID
	}
	return r.Items, r.More && len(r.Items) > 0, nil
}

// Fetch returns the sealed messages of ids held by the cell in mailbox
// muid (the requests' key must own it). Ids the cell does not hold are
// left out; a large answer may stop early (ask again for the rest).
func (c *Client) Fetch(ctx context.Context, muid string, ids []MsgID) ([]*Envelope, error) {
	body, err := Encode(&FetchRequest{MUID: muid, IDs: ids})
	if err != nil {
		return nil, err
	}
	b, err := c.call(ctx, TypeFetch, body)
	if err != nil {
		return nil, err
	}
	envs, err := DecodeFetchResponse(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadResponse, TypeFetch, err)
	}
	asked := make(map[MsgID]bool, len(ids))
	for _, id := range ids {
		asked[id] = true
	}
	for _, e := range envs {
		if !asked[e.ID] || e.To != muid {
			return nil, fmt.Errorf("%w: fetch answered a message not asked for", ErrBadResponse)
		}
		delete(asked, e.ID)
	}
	return envs, nil
}

// Ack sends the owner's proof: the cell deletes the messages (and has the
// other holders delete them). It returns how many the cell held.
func (c *Client) Ack(ctx context.Context, proof *AckProof) (int, error) {
	r, err := request(ctx, c, TypeAck, &AckRequest{Proof: proof}, DecodeAckResponse)
	if err != nil {
		return 0, err
	}
	return r.Acked, nil
}

// Status returns the cell's state of each id, in order.
func (c *Client) Status(ctx context.Context, ids []MsgID) ([]IDState, error) {
	r, err := request(ctx, c, TypeStatus, &StatusRequest{IDs: ids}, DecodeStatusResponse)
	if err != nil {
		return nil, err
	}
	if len(r.States) != len(ids) {
		return nil, fmt.Errorf("%w: %d states for %d ids", ErrBadResponse, len(r.States), len(ids))
	}
	for i, s := range r.States {
		if s.ID != ids[i] {
			return nil, fmt.Errorf("%w: states out of order", ErrBadResponse)
		}
	}
	return r.States, nil
}

// Members asks the cell for the members it knows and the replica count.
func (c *Client) Members(ctx context.Context) (*MembersResponse, error) {
	b, err := c.call(ctx, TypeMembers, nil)
	if err != nil {
		return nil, err
	}
	r, err := DecodeMembersResponse(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadResponse, TypeMembers, err)
	}
	return r, nil
}

// Pool dials receptors with one key and keeps one connection per node. Its
// Dial is a Dialer for Multi.
type Pool struct {
	key   signer.Key
	mu    sync.Mutex
	conns map[string]*transport.Client
}

// NewPool returns a pool whose requests key signs. The key is what cells
// see as the requester: the identity for card, list, fetch and ack; a
// throw-away key (signer.GenerateMemKey) hides the sender of deliveries,
// takes and status queries.
func NewPool(key signer.Key) *Pool {
	return &Pool{key: key, conns: make(map[string]*transport.Client)}
}

// Dial is a Dialer: it connects to m's receptor, expecting m's node key,
// and reuses the connection while it lives.
func (p *Pool) Dial(ctx context.Context, m Member) (Caller, error) {
	p.mu.Lock()
	c := p.conns[m.ID]
	p.mu.Unlock()
	if c != nil {
		return pooled{p, m, c, false}, nil
	}
	c, err := p.connect(ctx, m)
	if err != nil {
		return nil, err
	}
	return pooled{p, m, c, true}, nil
}

// connect dials m and keeps the connection (or one dialled meanwhile).
func (p *Pool) connect(ctx context.Context, m Member) (*transport.Client, error) {
	c, err := transport.Dial(ctx, m.Addr, transport.ClientConfig{Key: p.key, Expect: transport.NodeID(m.ID)})
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if old := p.conns[m.ID]; old != nil {
		c.Close()
		return old, nil
	}
	p.conns[m.ID] = c
	return c, nil
}

// drop forgets and closes c if it is still m's connection.
func (p *Pool) drop(id string, c *transport.Client) {
	p.mu.Lock()
	if p.conns[id] == c {
		delete(p.conns, id)
	}
	p.mu.Unlock()
	c.Close()
}

type pooled struct {
	p     *Pool
	m     Member
	c     *transport.Client
	fresh bool // dialled for this call
}

// Call implements Caller. A kept connection found broken (the node closes
// connections idle for minutes) is dropped and the call made once more on
// a new one; every mail request may be repeated (a repeated take costs a
// prekey, nothing else).
func (pc pooled) Call(ctx context.Context, typ string, body []byte) ([]byte, error) {
	b, err := TransportCaller{C: pc.c}.Call(ctx, typ, body)
	if !errors.Is(err, transport.ErrUnreachable) && !errors.Is(err, transport.ErrClosed) {
		return b, err
	}
	pc.p.drop(pc.m.ID, pc.c)
	if pc.fresh || ctx.Err() != nil {
		return b, err
	}
	c, derr := pc.p.connect(ctx, pc.m)
	if derr != nil {
		return b, err
	}
	b, err = TransportCaller{C: c}.Call(ctx, typ, body)
	if errors.Is(err, transport.ErrUnreachable) || errors.Is(err, transport.ErrClosed) {
		pc.p.drop(pc.m.ID, c)
	}
	return b, err
}

// Close closes every connection.
func (p *Pool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, c := range p.conns {
		c.Close()
		delete(p.conns, id)
	}
}

// Discover asks the receptor at addr, whoever it is (its card is checked),
// for the mail tree's members and replica count: how a client with only an
// address (a portal list, a devnet) finds the network.
func Discover(ctx context.Context, key signer.Key, addr string) ([]Member, int, error) {
	c, err := transport.Dial(ctx, addr, transport.ClientConfig{Key: key})
	if err != nil {
		return nil, 0, fmt.Errorf("mail: discovering members at %s: %w", addr, err)
	}
	defer c.Close()
	r, err := NewClient(TransportCaller{C: c}).Members(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("mail: discovering members at %s: %w", addr, err)
	}
	return r.Members, r.Replicas, nil
}
