package ledger

import (
	"slices"
	"sync"
	"time"

	"github.com/borgios/borghui/peer/transport"
)

// Pool limits.
const (
	// MaxSeqAhead is how far past its account's applied seq a transfer may
	// be queued (a sender may have this many transfers in flight).
	MaxSeqAhead = 64
	// MaxPending bounds the transfers one node queues.
	MaxPending = 100_000
	// maxPerSender bounds the queued transfers of one sender (candidates
	// for the same seq included).
	maxPerSender = 2 * MaxSeqAhead
	// maxRejects is how many rejections a node remembers.
	maxRejects = 100_000
)

// pendingTx is a transfer this node holds until it is applied or refused:
// submitted to it, forwarded to it (as root), or rolled back by a reorg.
type pendingTx struct {
	t      *Transfer
	id     Hash
	added  time.Time
	sentTo transport.NodeID // the root it was last forwarded to
	sentAt time.Time
}

// slot is the (sender, seq) place a transfer claims: of all transfers of a
// slot at most one is ever applied.
type slot struct {
	sender string
	seq    uint64
}

// pool is the node's queue of pending transfers. At the root it is what
// blocks are made of; elsewhere it is what the forwarder sends to the root.
type pool struct {
	mu        sync.Mutex
	byID      map[Hash]*pendingTx
	bySlot    map[slot][]*pendingTx // candidates in arrival order
	perSender map[string]int
	fresh     []*pendingTx // added since the forwarder last took them
}

func newPool() *pool {
	return &pool{byID: map[Hash]*pendingTx{}, bySlot: map[slot][]*pendingTx{}, perSender: map[string]int{}}
}

func (p *pool) len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.byID)
}

func (p *pool) has(id Hash) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.byID[id] != nil
}

// add queues t (already verified); false when the pool or the sender's
// share of it is full. Adding a queued transfer again is a no-op.
func (p *pool) add(t *Transfer, id Hash, now time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.byID[id] != nil {
		return true
	}
	if len(p.byID) >= MaxPending || p.perSender[t.sender] >= maxPerSender {
		return false
	}
	pt := &pendingTx{t: t, id: id, added: now}
	p.byID[id] = pt
	k := slot{t.sender, t.Seq}
	p.bySlot[k] = append(p.bySlot[k], pt)
	p.perSender[t.sender]++
	if len(p.fresh) < MaxPending {
		p.fresh = append(p.fresh, pt) // beyond, the forwarder's full scans find it
	}
	return true
}

// removeLocked drops one entry.
func (p *pool) removeLocked(pt *pendingTx) {
	if p.byID[pt.id] != pt {
		return
	}
	delete(p.byID, pt.id)
	k := slot{pt.t.sender, pt.t.Seq}
	c := slices.DeleteFunc(p.bySlot[k], func(x *pendingTx) bool { return x == pt })
	if len(c) == 0 {
		delete(p.bySlot, k)
	} else {
		p.bySlot[k] = c
	}
	if p.perSender[pt.t.sender]--; p.perSender[pt.t.sender] <= 0 {
		delete(p.perSender, pt.t.sender)
	}
}

func (p *pool) remove(id Hash) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pt := p.byID[id]; pt != nil {
		p.removeLocked(pt)
	}
}

// applied drops the transfers of an applied block and returns the other
// candidates of their slots, which can never apply now (conflicts).
func (p *pool) applied(ts []*Transfer, ids []Hash) []Hash {
	p.mu.Lock()
	defer p.mu.Unlock()
	var lost []Hash
	for i, t := range ts {
		if pt := p.byID[ids[i]]; pt != nil {
			p.removeLocked(pt)
		}
		for _, pt := range slices.Clone(p.bySlot[slot{t.sender, t.Seq}]) {
			lost = append(lost, pt.id)
			p.removeLocked(pt)
		}
	}
	return lost
}

// due returns up to max entries to forward to root, marking them sent
// now: with full, every entry not yet sent to root or sent longer than
// resend ago (a scan of the whole pool); otherwise only entries added
// since the last call.
func (p *pool) due(root transport.NodeID, now time.Time, resend time.Duration, max int, full bool) []*Transfer {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*pendingTx
	if full {
		for _, pt := range p.byID {
			if pt.sentTo != root || now.Sub(pt.sentAt) >= resend {
				out = append(out, pt)
			}
		}
		p.fresh = p.fresh[:0]
		// oldest first, so a sender's transfers tend to reach the root in seq order
		slices.SortFunc(out, func(a, b *pendingTx) int { return a.added.Compare(b.added) })
	} else {
		n := 0
		for _, pt := range p.fresh {
			n++
			if p.byID[pt.id] == pt && pt.sentTo != root {
				out = append(out, pt)
				if len(out) == max {
					break
				}
			}
		}
		p.fresh = append(p.fresh[:0], p.fresh[n:]...)
	}
	if len(out) > max {
		p.fresh = append(p.fresh, out[max:]...) // the next call takes them
		out = out[:max]
	}
	ts := make([]*Transfer, len(out))
	for i, pt := range out {
		pt.sentTo, pt.sentAt = root, now
		ts[i] = pt.t
	}
	return ts
}

// retry makes the entries with ids due again at (about) when.
func (p *pool) retry(ids []Hash, when time.Time, resend time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, id := range ids {
		if pt := p.byID[id]; pt != nil {
			pt.sentAt = when.Add(-resend)
		}
	}
}

// sweep removes entries older than ttl and entries whose seq the chain
// has passed (seq(sender) returns the applied seq); it returns them.
func (p *pool) sweep(now time.Time, ttl time.Duration, seq func(string) uint64) (expired, passed []*pendingTx) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pt := range p.byID {
		switch {
		case pt.t.Seq <= seq(pt.t.sender):
			passed = append(passed, pt)
		case now.Sub(pt.added) > ttl:
			expired = append(expired, pt)
		}
	}
	for _, pt := range expired {
		p.removeLocked(pt)
	}
	for _, pt := range passed {
		p.removeLocked(pt)
	}
	return expired, passed
}

// all returns every queued transfer, oldest first.
func (p *pool) all() []*Transfer {
	p.mu.Lock()
	defer p.mu.Unlock()
	pts := make([]*pendingTx, 0, len(p.byID))
	for _, pt := range p.byID {
		pts = append(pts, pt)
	}
	slices.SortFunc(pts, func(a, b *pendingTx) int { return a.added.Compare(b.added) })
	out := make([]*Transfer, len(pts))
	for i, pt := range pts {
		out[i] = pt.t
	}
	return out
}

// rejection is a transfer refused while making a block.
type rejection struct {
	id     Hash
	reason string
}

// pick chooses the transfers of the next block on top of o: senders in the
// order of their oldest ready transfer, each sender's consecutive seqs
// from its applied seq + 1; of several candidates for one slot the first
// that applies wins and the others are refused as conflicts; a candidate
// that does not apply (insufficient funds) is refused. Refused entries
// leave the pool; chosen ones stay until their block is applied.
func (p *pool) pick(o *overlay, producer string, max int) ([]*Transfer, []rejection) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fresh = p.fresh[:0] // the root forwards nothing; a new root means a full scan
	type ready struct {
		sender string
		first  time.Time
	}
	var senders []ready
	for s := range p.perSender {
		c := p.bySlot[slot{s, o.get(s).Seq + 1}]
		if len(c) > 0 {
			senders = append(senders, ready{s, c[0].added})
		}
	}
	slices.SortFunc(senders, func(a, b ready) int { return a.first.Compare(b.first) })
	var out []*Transfer
	var rej []rejection
	for _, r := range senders {
		for len(out) < max {
			cands := slices.Clone(p.bySlot[slot{r.sender, o.get(r.sender).Seq + 1}])
			if len(cands) == 0 {
				break
			}
			won := false
			for _, c := range cands {
				if won {
					rej = append(rej, rejection{c.id, ReasonConflict})
					p.removeLocked(c)
					continue
				}
				if _, _, err := o.apply(c.t, producer); err != nil {
					rej = append(rej, rejection{c.id, reasonOf(err)})
					p.removeLocked(c)
					continue
				}
				out = append(out, c.t)
				won = true
			}
			if !won {
				break
			}
		}
		if len(out) >= max {
			break
		}
	}
	return out, rej
}

// rejects remembers why transfers were refused (the newest maxRejects).
type rejects struct {
	mu   sync.Mutex
	m    map[Hash]string
	ring []Hash
	next int
}

func newRejects() *rejects { return &rejects{m: map[Hash]string{}} }

func (r *rejects) add(id Hash, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.m[id]; ok {
		r.m[id] = reason
		return
	}
	if len(r.ring) < maxRejects {
		r.ring = append(r.ring, id)
	} else {
		delete(r.m, r.ring[r.next])
		r.ring[r.next] = id
		r.next = (r.next + 1) % maxRejects
	}
	r.m[id] = reason
}

func (r *rejects) get(id Hash) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	reason, ok := r.m[id]
	return reason, ok
}

// maxSeq returns the highest seq queued for sender (0: none).
func (p *pool) maxSeq(sender string) uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	var m uint64
	for _, pt := range p.byID {
		if pt.t.sender == sender && pt.t.Seq > m {
			m = pt.t.Seq
		}
	}
	return m
}
