package shard

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/borgios/borghui/peer/transport"
	"github.com/borgios/borghui/signer"
)

// Dialer returns a Caller for a member.
type Dialer func(ctx context.Context, m Member) (Caller, error)

// Network spreads calls over the shard tree's members: it picks nodes by
// the shard's rendezvous order, fails over to the next one, counts the
// copies that answer on every read and asks for repair below target.
type Network struct {
	dial     Dialer
	mu       sync.Mutex
	members  []Member
	replicas int
}

// NewNetwork returns a Network over members (from Client.Members) with
// target replicas (0 means DefaultReplicas).
func NewNetwork(dial Dialer, members []Member, replicas int) *Network {
	if replicas <= 0 {
		replicas = DefaultReplicas
	}
	return &Network{dial: dial, members: slices.Clone(members), replicas: replicas}
}

// SetMembers replaces the member list.
func (n *Network) SetMembers(ms []Member) {
	n.mu.Lock()
	n.members = slices.Clone(ms)
	n.mu.Unlock()
}

// Members returns the members calls are spread over.
func (n *Network) Members() []Member {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.members)
}

// Ranked returns the members in the shard's rendezvous order: the first
// Replicas are its home.
func (n *Network) Ranked(id ID) []Member {
	n.mu.Lock()
	defer n.mu.Unlock()
	return RankMembers(id, n.members)
}

func (n *Network) client(ctx context.Context, m Member) (*Client, error) {
	c, err := n.dial(ctx, m)
	if err != nil {
		return nil, fmt.Errorf("shard: reaching %.16s: %w", m.ID, err)
	}
	return NewClient(c), nil
}

// Put stores blob on the first node of its rendezvous order that accepts
// it (that node replicates). Fewer confirmed copies than the target is
// ErrUnderReplicated, with the reply. A refusal by the node (quota, hash)
// is returned at once: another node would refuse the same.
func (n *Network) Put(ctx context.Context, blob []byte) (PutReply, error) {
	return n.PutSum(ctx, Sum(blob), blob)
}

// PutSum is Put for a blob whose ID (SHA-256) the caller already computed.
func (n *Network) PutSum(ctx context.Context, id ID, blob []byte) (PutReply, error) {
	var last error = ErrNoHolder
	for _, m := range n.Ranked(id) {
		c, err := n.client(ctx, m)
		if err != nil {
			last = err
			continue
		}
		r, err := c.PutSum(ctx, id, blob)
		if errors.Is(err, ErrQuota) || errors.Is(err, ErrHashMismatch) || errors.Is(err, ErrTooLarge) {
			return PutReply{}, err
		}
		if err != nil {
			last = err
			continue
		}
		if r.Copies < n.replicas {
			return r, fmt.Errorf("%w: %d of %d copies of %s", ErrUnderReplicated, r.Copies, n.replicas, id)
		}
		return r, nil
	}
	return PutReply{}, fmt.Errorf("%w: put %s: %w", ErrNoHolder, id, last)
}

// PutOne stores a single copy of blob (whose SHA-256 is id) on member m,
// which does not replicate it: the caller chose m (an erasure-coded group
// spreads its shards over distinct members, see Ranked).
func (n *Network) PutOne(ctx context.Context, m Member, id ID, blob []byte) error {
	c, err := n.client(ctx, m)
	if err != nil {
		return err
	}
	_, err = c.PutOne(ctx, id, blob)
	return err
}

// GetFrom reads id from the first of order that serves good bytes, with no
// copy count and no repair (for single-copy shards, whose redundancy is
// the caller's erasure code). It reports the nodes that failed.
func (n *Network) GetFrom(ctx context.Context, id ID, order []Member) ([]byte, ReadReport, error) {
	var rep ReadReport
	var last error = ErrNoHolder
	for _, m := range order {
		c, err := n.client(ctx, m)
		var blob []byte
		if err == nil {
			_, blob, err = c.Get(ctx, id)
		}
		if err != nil {
			rep.Failed = append(rep.Failed, m.ID)
			last = err
			if ctx.Err() != nil {
				break
			}
			continue
		}
		rep.Served, rep.Copies = m.ID, 1
		return blob, rep, nil
	}
	return nil, rep, fmt.Errorf("%w: get %s: %w", ErrNoHolder, id, last)
}

// ReadReport says how a read went.
type ReadReport struct {
	// Served is the node that answered with good bytes.
	Served string
	// Copies is how many good copies answered among the shard's home
	// nodes (the server and those that said they hold it), before repair.
	Copies int
	// Failed lists nodes that answered corrupt, missing or not at all.
	Failed []string
	// Repaired is the copies the repair confirmed (0: no repair asked).
	Repaired int
}

// Get reads the blob with id from the first node of its rendezvous order
// that serves good bytes, asks the other home nodes whether they hold it,
// and when fewer than the target answered asks the serving node to repair.
func (n *Network) Get(ctx context.Context, id ID) ([]byte, ReadReport, error) {
	var rep ReadReport
	ranked := n.Ranked(id)
	var blob []byte
	var server *Client
	var last error = ErrNoHolder
	at := -1
	for i, m := range ranked {
		c, err := n.client(ctx, m)
		if err == nil {
			_, blob, err = c.Get(ctx, id)
		}
		if err != nil {
			rep.Failed = append(rep.Failed, m.ID)
			last = err
			continue
		}
		server, at, rep.Served = c, i, m.ID
		break
	}
	if server == nil {
		return nil, rep, fmt.Errorf("%w: get %s: %w", ErrNoHolder, id, last)
	}
	rep.Copies = 1 + n.countOthers(ctx, id, ranked, at)
	if rep.Copies < n.replicas || len(rep.Failed) > 0 {
		r, err := server.Repair(ctx, id)
		if err != nil {
			return blob, rep, fmt.Errorf("shard: repair of %s: %w", id, err)
		}
		rep.Repaired = r.Copies
	}
	return blob, rep, nil
}

// countOthers asks the home nodes other than the one that served (index
// at) whether they hold id, in parallel, and counts the yeses.
func (n *Network) countOthers(ctx context.Context, id ID, ranked []Member, at int) int {
	var wg sync.WaitGroup
	var mu sync.Mutex
	count := 0
	for i := at + 1; i < min(len(ranked), n.replicas); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := n.client(ctx, ranked[i])
			if err != nil {
				return
			}
			held, err := c.Has(ctx, []ID{id})
			if err == nil && len(held) == 1 {
				mu.Lock()
				count++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return count
}

// Delete removes the caller's reference to id on every node known to hold
// it: the home nodes and the holders they name. A node that refuses
// (ErrNotOwner) stops the delete before anything changes elsewhere, as the
// first node asked is the one that checked. A node that no longer holds
// it is skipped.
func (n *Network) Delete(ctx context.Context, id ID) error {
	n.mu.Lock()
	byID := make(map[string]Member, len(n.members))
	for _, m := range n.members {
		byID[m.ID] = m
	}
	n.mu.Unlock()
	queue := n.Ranked(id)
	done := make(map[string]bool)
	deleted := 0
	for len(queue) > 0 {
		m := queue[0]
		queue = queue[1:]
		if done[m.ID] {
			continue
		}
		done[m.ID] = true
		c, err := n.client(ctx, m)
		if err != nil {
			continue
		}
		r, err := c.Delete(ctx, id)
		switch {
		case errors.Is(err, ErrNotOwner) && deleted == 0:
			return err
		case err != nil:
			continue
		}
		deleted++
		for _, h := range r.Holders {
			if hm, ok := byID[h]; ok && !done[h] {
				queue = append(queue, hm)
			}
		}
	}
	if deleted == 0 {
		return fmt.Errorf("%w: delete %s", ErrNotFound, id)
	}
	return nil
}

// Pool dials receptors with one identity and keeps one connection per node.
type Pool struct {
	key   signer.Key
	mu    sync.Mutex
	conns map[string]*transport.Client
}

// NewPool returns a pool signing requests with key.
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
		return pooled{p, m.ID, c}, nil
	}
	c, err := transport.Dial(ctx, m.Addr, transport.ClientConfig{Key: p.key, Expect: transport.NodeID(m.ID)})
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	if old := p.conns[m.ID]; old != nil {
		p.mu.Unlock()
		c.Close()
		return pooled{p, m.ID, old}, nil
	}
	p.conns[m.ID] = c
	p.mu.Unlock()
	return pooled{p, m.ID, c}, nil
}

// pooled calls through a pooled connection and drops it when it broke.
type pooled struct {
	p  *Pool
	id string
	c  *transport.Client
}

func (pc pooled) Call(ctx context.Context, typ string, body []byte) ([]byte, error) {
	return pc.done(ReceptorCaller{C: pc.c}.Call(ctx, typ, body))
}

func (pc pooled) CallHashed(ctx context.Context, typ string, body []byte, sum ID) ([]byte, error) {
	return pc.done(ReceptorCaller{C: pc.c}.CallHashed(ctx, typ, body, sum))
}

// done drops the connection when the call found it broken.
func (pc pooled) done(b []byte, err error) ([]byte, error) {
	if errors.Is(err, transport.ErrUnreachable) || errors.Is(err, transport.ErrClosed) {
		pc.p.mu.Lock()
		if pc.p.conns[pc.id] == pc.c {
			delete(pc.p.conns, pc.id)
		}
		pc.p.mu.Unlock()
		pc.c.Close()
	}
	return b, err
}

// Forget drops (and closes) the connection to node id, e.g. after it failed.
func (p *Pool) Forget(id string) {
	p.mu.Lock()
	c := p.conns[id]
	delete(p.conns, id)
	p.mu.Unlock()
	if c != nil {
		c.Close()
	}
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
// for the members of the shard tree it knows. It is how a client that has
// only an address (a portal list, a devnet) finds the network.
func Discover(ctx context.Context, key signer.Key, addr string) ([]Member, error) {
	c, err := transport.Dial(ctx, addr, transport.ClientConfig{Key: key})
	if err != nil {
		return nil, fmt.Errorf("shard: discovering members at %s: %w", addr, err)
	}
	defer c.Close()
	r, err := NewClient(ReceptorCaller{C: c}).Members(ctx)
	if err != nil {
		return nil, fmt.Errorf("shard: discovering members at %s: %w", addr, err)
	}
	return r.Members, nil
}
