package mail

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
)

// Dialer returns a Caller for a member.
type Dialer func(ctx context.Context, m Member) (Caller, error)

// Multi spreads calls over the mail tree's members: it finds a mailbox's
// home cells by rendezvous hashing of its MUID, tries them in order and
// fails over to the next, and merges what several cells answer. It is
// safe for concurrent use.
type Multi struct {
	dial Dialer

	mu       sync.Mutex
	members  []Member
	replicas int
}

// NewMulti returns a Multi over members (from Discover or Client.Members)
// keeping replicas copies (0 means DefaultReplicas).
func NewMulti(dial Dialer, members []Member, replicas int) *Multi {
	n := &Multi{dial: dial}
	n.SetMembers(members, replicas)
	return n
}

// SetMembers replaces the member list (and, when replicas > 0, R).
func (n *Multi) SetMembers(ms []Member, replicas int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.members = slices.Clone(ms)
	if replicas > 0 {
		n.replicas = min(replicas, MaxHolders)
	}
	if n.replicas == 0 {
		n.replicas = DefaultReplicas
	}
}

// Members returns the current member list.
func (n *Multi) Members() []Member {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.members)
}

// Replicas is R, the number of home cells of a mailbox.
func (n *Multi) Replicas() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.replicas
}

// Refresh asks the members, in turn, for the member list until one answers.
func (n *Multi) Refresh(ctx context.Context) error {
	var last error = ErrNoNode
	for _, m := range n.Members() {
		c, err := n.client(ctx, m)
		if err != nil {
			last = err
			continue
		}
		r, err := c.Members(ctx)
		if err != nil {
			last = err
			continue
		}
		n.SetMembers(r.Members, r.Replicas)
		return nil
	}
	return fmt.Errorf("%w: refreshing members: %w", ErrNoNode, last)
}

// Ranked returns every member in mailbox muid's rendezvous order: the
// first Replicas are its home cells, the rest where failover goes.
func (n *Multi) Ranked(muid string) []Member {
	return RankMembers(muid, n.Members())
}

// Home returns the home cells of mailbox muid.
func (n *Multi) Home(muid string) []Member {
	r := n.Ranked(muid)
	return r[:min(len(r), n.Replicas())]
}

func (n *Multi) client(ctx context.Context, m Member) (*Client, error) {
	c, err := n.dial(ctx, m)
	if err != nil {
		return nil, fmt.Errorf("mail: reaching %.16s: %w", m.ID, err)
	}
	return NewClient(c), nil
}

// first calls f on the members of order in turn until one succeeds; a
// permanent refusal (or one stop says to keep) ends the search at once.
func first[T any](ctx context.Context, n *Multi, order []Member, what string, stop func(error) bool,
	f func(*Client) (T, error)) (T, error) {
	var zero T
	var last error = ErrNoNode
	for _, m := range order {
		c, err := n.client(ctx, m)
		if err == nil {
			var v T
			if v, err = f(c); err == nil {
				return v, nil
			}
			if permanent(err) || stop != nil && stop(err) {
				return zero, err
			}
		}
		last = err
		if ctx.Err() != nil {
			break
		}
	}
	if errors.Is(last, ErrNotFound) {
		return zero, last
	}
	return zero, fmt.Errorf("%w: %s: %w", ErrNoNode, what, last)
}

// PutCard publishes card on the first reachable home cell of its address,
// which replicates it to the others; it returns the confirmed copies. A
// card not newer than the cell's is a *StaleError.
func (n *Multi) PutCard(ctx context.Context, card *Card) (int, error) {
	return first(ctx, n, n.Ranked(card.MUID), "publishing a card",
		func(err error) bool { return errors.Is(err, ErrStale) },
		func(c *Client) (int, error) { return c.PutCard(ctx, card) })
}

// CardInfo is an address's card as its home cells hold it.
type CardInfo struct {
	Card *Card
	// Left are the card's prekeys still handed out by every home cell
	// that answered with this card.
	Left []PrekeyID
	// Holders is how many home cells answered with this card.
	Holders int
	// HolderIDs are their node IDs.
	HolderIDs []string
}

// Card asks the home cells of muid at once and returns the newest valid
// card; ErrNotFound when none holds one.
func (n *Multi) Card(ctx context.Context, muid string) (*CardInfo, error) {
	type answer struct {
		id   string
		card *Card
		left []PrekeyID
		err  error
	}
	home := n.Home(muid)
	answers := make([]answer, len(home))
	var wg sync.WaitGroup
	for i, m := range home {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := n.client(ctx, m)
			if err == nil {
				answers[i].card, answers[i].left, err = c.Card(ctx, muid)
			}
			answers[i].id, answers[i].err = m.ID, err
		}()
	}
	wg.Wait()
	var info *CardInfo
	var last error = ErrNoNode
	notFound := 0
	for _, a := range answers {
		switch {
		case a.err != nil:
			if errors.Is(a.err, ErrNotFound) {
				notFound++
			}
			last = a.err
		case info == nil || Newer(a.card, info.Card):
			info = &CardInfo{Card: a.card, Left: a.left, Holders: 1, HolderIDs: []string{a.id}}
		case a.card.Hash() == info.Card.Hash():
			info.Holders++
			info.HolderIDs = append(info.HolderIDs, a.id)
			info.Left = slices.DeleteFunc(info.Left, func(id PrekeyID) bool { return !slices.Contains(a.left, id) })
		}
	}
	if info != nil {
		return info, nil
	}
	if notFound > 0 {
		return nil, fmt.Errorf("%w: no mail card for %s", ErrNotFound, muid)
	}
	return nil, fmt.Errorf("%w: card of %s: %w", ErrNoNode, muid, last)
}

// Search asks one cell (the first reachable, in the query's rendezvous
// order), which asks the others, for cards by exact MUID or nickname
// prefix.
func (n *Multi) Search(ctx context.Context, query string, limit int) ([]*Card, error) {
	return first(ctx, n, n.Ranked(query), "searching", nil,
		func(c *Client) ([]*Card, error) { return c.Search(ctx, query, limit) })
}

// Take gets a prekey of muid's newest card: it reads the card from the
// home cells (Card), then asks the cells holding that version first, in
// rendezvous order, for a prekey (see Client.Take). An answer with an
// older card (a cell that missed the newest) passes to the next cell.
func (n *Multi) Take(ctx context.Context, muid string) (*Card, KeyID, error) {
	info, err := n.Card(ctx, muid)
	if err != nil {
		return nil, "", err
	}
	ranked := n.Ranked(muid)
	order := slices.Clone(ranked)
	slices.SortStableFunc(order, func(a, b Member) int {
		ha, hb := slices.Contains(info.HolderIDs, a.ID), slices.Contains(info.HolderIDs, b.ID)
		switch {
		case ha && !hb:
			return -1
		case hb && !ha:
			return 1
		}
		return 0
	})
	type took struct {
		card *Card
		key  KeyID
	}
	t, err := first(ctx, n, order, "taking a prekey", nil, func(c *Client) (took, error) {
		card, key, err := c.Take(ctx, muid)
		if err == nil && Newer(info.Card, card) {
			err = fmt.Errorf("%w: the cell holds card version %d, not %d", ErrStale, card.Version, info.Card.Version)
		}
		return took{card, key}, err
	})
	return t.card, t.key, err
}

// Deliver stores env on the first reachable home cell of its mailbox
// (further cells of the order when all home cells fail), which replicates
// it to the home cells. It implements Deliverer.
func (n *Multi) Deliver(ctx context.Context, env *Envelope) (*DeliverResponse, error) {
	return first(ctx, n, n.Ranked(env.To), "delivering", nil,
		func(c *Client) (*DeliverResponse, error) { return c.Deliver(ctx, env) })
}

// stateRank orders cell states: the most advanced wins a merge.
func stateRank(s string) int {
	switch s {
	case CellDelivered:
		return 3
	case CellExpired:
		return 2
	case CellStored:
		return 1
	}
	return 0
}

// Status asks the home cells of mailbox at once for the state of ids and
// merges their answers (delivered wins over expired over stored over
// unknown). It implements Deliverer.
func (n *Multi) Status(ctx context.Context, mailbox string, ids []MsgID) (map[MsgID]string, error) {
	out := make(map[MsgID]string, len(ids))
	var mu sync.Mutex
	var wg sync.WaitGroup
	answered := 0
	var last error = ErrNoNode
	for _, m := range n.Home(mailbox) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := n.client(ctx, m)
			var states []IDState
			if err == nil {
				states, err = c.Status(ctx, ids)
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				last = err
				return
			}
			answered++
			for _, s := range states {
				if stateRank(s.State) >= stateRank(out[s.ID]) {
					out[s.ID] = s.State
				}
			}
		}()
	}
	wg.Wait()
	if answered == 0 {
		return nil, fmt.Errorf("%w: status: %w", ErrNoNode, last)
	}
	return out, nil
}

// Listing is a message waiting in a mailbox and the cells that listed it.
type Listing struct {
	Header  Header
	Holders []Member
}

// List lists mailbox muid (the dialer's key must own it) on every home
// cell at once, following pages, and merges the listings by id. It fails
// only when no home cell answers.
func (n *Multi) List(ctx context.Context, muid string) ([]Listing, error) {
	byID := map[MsgID]*Listing{}
	var order []MsgID
	var mu sync.Mutex
	var wg sync.WaitGroup
	answered := 0
	var last error = ErrNoNode
	for _, m := range n.Home(muid) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := n.client(ctx, m)
			var all []Header
			var after MsgID
			for err == nil {
				var page []Header
				var more bool
				page, more, err = c.List(ctx, muid, after, 0)
				all = append(all, page...)
				if err != nil || !more {
					break
				}
				after = page[len(page)-1].ID
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				last = err
				return
			}
			answered++
			for _, h := range all {
				l := byID[h.ID]
				if l == nil {
					l = &Listing{Header: h}
					byID[h.ID] = l
					order = append(order, h.ID)
				}
				l.Holders = append(l.Holders, m)
			}
		}()
	}
	wg.Wait()
	if answered == 0 {
		return nil, fmt.Errorf("%w: listing %s: %w", ErrNoNode, muid, last)
	}
	slices.SortFunc(order, func(a, b MsgID) int { return slices.Compare(a[:], b[:]) })
	out := make([]Listing, 0, len(order))
	for _, id := range order {
		out = append(out, *byID[id])
	}
	return out, nil
}

// Fetch gets the sealed messages of ls from their holders, in batches,
// passing to the next holder of a message the first did not serve. The
// envelopes come back in no particular order; messages no holder served
// are left out.
func (n *Multi) Fetch(ctx context.Context, muid string, ls []Listing) ([]*Envelope, error) {
	var out []*Envelope
	pending := map[MsgID][]Member{}
	for _, l := range ls {
		pending[l.Header.ID] = slices.Clone(l.Holders)
	}
	var last error
	for len(pending) > 0 && ctx.Err() == nil {
		// Group the pending ids by their next holder.
		groups := map[string][]MsgID{}
		byID := map[string]Member{}
		for id, hs := range pending {
			if len(hs) == 0 {
				delete(pending, id)
				continue
			}
			groups[hs[0].ID] = append(groups[hs[0].ID], id)
			byID[hs[0].ID] = hs[0]
		}
		for hid, ids := range groups {
			c, err := n.client(ctx, byID[hid])
			var got []*Envelope
			for err == nil && len(ids) > 0 {
				batch := ids[:min(len(ids), MaxBatch)]
				var envs []*Envelope
				envs, err = c.Fetch(ctx, muid, batch)
				if err != nil {
					break
				}
				got = append(got, envs...)
				if len(envs) == 0 { // the cell holds none of the batch
					ids = ids[len(batch):]
					continue
				}
				// The cell answers in the order asked and stops early only
				// at its byte budget: everything up to the last served id
				// is done here (served, or not held); ask again for the rest.
				ids = ids[slices.Index(batch, envs[len(envs)-1].ID)+1:]
			}
			if err != nil {
				last = err
			}
			for _, e := range got {
				out = append(out, e)
				delete(pending, e.ID)
			}
			for _, id := range groups[hid] {
				if hs, ok := pending[id]; ok {
					pending[id] = hs[1:]
				}
			}
		}
	}
	if len(out) == 0 && last != nil && len(ls) > 0 {
		return nil, fmt.Errorf("%w: fetching: %w", ErrNoNode, last)
	}
	return out, nil
}

// Ack sends the owner's proof to every cell that listed one of its ids
// (and to the home cells when ls is empty). It returns how many copies the
// cells deleted; it fails only when no cell answered.
func (n *Multi) Ack(ctx context.Context, proof *AckProof, ls []Listing) (int, error) {
	var targets []Member
	want := map[MsgID]bool{}
	for _, id := range proof.IDs {
		want[id] = true
	}
	for _, l := range ls {
		if !want[l.Header.ID] {
			continue
		}
		for _, h := range l.Holders {
			if !slices.ContainsFunc(targets, func(t Member) bool { return t.ID == h.ID }) {
				targets = append(targets, h)
			}
		}
	}
	if len(targets) == 0 {
		targets = n.Home(proof.MUID)
	}
	total, answered := 0, 0
	var last error = ErrNoNode
	for _, m := range targets {
		c, err := n.client(ctx, m)
		var k int
		if err == nil {
			k, err = c.Ack(ctx, proof)
		}
		if err != nil {
			last = err
			continue
		}
		answered++
		total += k
	}
	if answered == 0 {
		return 0, fmt.Errorf("%w: acknowledging: %w", ErrNoNode, last)
	}
	return total, nil
}
