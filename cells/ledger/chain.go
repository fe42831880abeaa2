package ledger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/borgios/borghui/peer/transport"
	"github.com/borgios/borghui/peer/tree"
)

// better reports whether the chain with tip (h1, x1) wins over (h2, x2):
// the greater height wins; at equal heights the lower tip hash (bytewise).
func better(h1 uint64, x1 Hash, h2 uint64, x2 Hash) bool {
	if h1 != h2 {
		return h1 > h2
	}
	return bytes.Compare(x1[:], x2[:]) < 0
}

// validateBlock checks b as the child of parent on top of base: its place,
// time, signatures (when verify), every transfer applying in order, the
// supply and the state hash. Transfer signatures found in cache (may be
// nil) are not checked again. It returns what committing it writes and the
// overlay holding the new accounts.
func validateBlock(base *state, parent tip, b *Block, verify bool, cache *sigCache) (*appliedBlock, *overlay, error) {
	if b.Height != parent.Height+1 || b.Prev != parent.Hash {
		return nil, nil, fmt.Errorf("%w: block %d does not extend %d (%s)", ErrInvalid, b.Height, parent.Height, parent.Hash)
	}
	if b.Time < parent.Time {
		return nil, nil, fmt.Errorf("%w: block %d is older than its parent", ErrInvalid, b.Height)
	}
	if err := b.check(); err != nil {
		return nil, nil, err
	}
	ids := b.IDs()
	hash := b.hashWith(ids)
	if verify {
		if err := verifySig(b.Producer[:], hash, b.Sig); err != nil {
			return nil, nil, fmt.Errorf("block %d producer: %w", b.Height, err)
		}
		if err := verifyTransfers(b.Transfers, ids, cache); err != nil {
			return nil, nil, err
		}
	}
	producer, err := MUIDOf(b.Producer[:])
	if err != nil {
		return nil, nil, err
	}
	o := newOverlay(base)
	post := make([]postBalance, len(b.Transfers))
	for i, t := range b.Transfers {
		ps, pt, err := o.apply(t, producer)
		if err != nil {
			return nil, nil, fmt.Errorf("block %d transfer %d: %w", b.Height, i, err)
		}
		post[i] = postBalance{sender: ps, to: pt}
	}
	st, total, err := o.digest()
	if err != nil {
		return nil, nil, err
	}
	if total != GenesisSupply {
		return nil, nil, fmt.Errorf("%w: block %d leaves a supply of %s", ErrInvalid, b.Height, total)
	}
	if st != b.State {
		return nil, nil, fmt.Errorf("%w: block %d state hash %s, recomputed %s", ErrInvalid, b.Height, b.State, st)
	}
	raw, err := b.Encode()
	if err != nil {
		return nil, nil, err
	}
	changes, undo := o.changes()
	return &appliedBlock{b: b, raw: raw, hash: hash, ids: ids, changes: changes, undo: undo, post: post,
		tip: tip{Height: b.Height, Hash: hash, State: st, Time: b.Time}}, o, nil
}

// adopt makes the chain: the blocks above height keep are rolled back and
// blocks (consecutive, from keep+1) applied, as far as they are valid.
// Rolling back happens only if the result beats the current tip. It runs
// on the run loop only. It returns how many blocks it applied.
func (s *Server) adopt(keep uint64, blocks []*Block, verify bool) (int, error) {
	if len(blocks) == 0 {
		return 0, nil
	}
	if keep == s.head.Height && len(blocks) == 1 {
		ab, o, err := validateBlock(s.live, s.head, blocks[0], verify, s.sigs)
		if err != nil {
			return 0, err
		}
		// The commit (fsync) runs outside the lock; status() hides places
		// above the head until the accounts follow.
		if err := s.st.commit(keep, []*appliedBlock{ab}); err != nil {
			return 0, err
		}
		s.mu.Lock()
		o.merge()
		s.head = ab.tip
		s.mu.Unlock()
		s.applied([]*appliedBlock{ab}, nil)
		return 1, nil
	}
	work := s.live.clone()
	var rolled []*Block
	for h := s.head.Height; h > keep; h-- {
		undo, b, err := s.st.undoAt(h)
		if err != nil {
			return 0, err
		}
		for _, u := range undo {
			work.set(u.MUID, u.Prev)
		}
		rolled = append(rolled, b)
	}
	parent := s.head
	if keep < s.head.Height {
		var err error
		if parent, err = s.tipAt(keep); err != nil {
			return 0, err
		}
	}
	var abs []*appliedBlock
	var verr error
	for _, b := range blocks {
		ab, o, err := validateBlock(work, parent, b, verify, s.sigs)
		if err != nil {
			verr = err
			break
		}
		o.merge()
		abs = append(abs, ab)
		parent = ab.tip
	}
	if len(abs) == 0 {
		return 0, verr
	}
	if len(rolled) > 0 && !better(parent.Height, parent.Hash, s.head.Height, s.head.Hash) {
		return 0, fmt.Errorf("%w: the other branch does not win (%v)", ErrInvalid, verr)
	}
	_, total, _ := work.digest()
	if err := s.st.commit(keep, abs); err != nil {
		return 0, err
	}
	s.mu.Lock()
	s.live, s.head, s.total = work, parent, total
	s.mu.Unlock()
	if len(rolled) > 0 {
		s.stats.reorgs.Add(1)
		s.stats.rolledBack.Add(uint64(len(rolled)))
		s.log.Info("switched branch", "rolledback", len(rolled), "applied", len(abs), "height", parent.Height)
	}
	s.applied(abs, rolled)
	return len(abs), verr
}

// tipAt returns the tip of the stored block of height h.
func (s *Server) tipAt(h uint64) (tip, error) {
	if h == 0 {
		return s.genesis, nil
	}
	b, err := s.st.block(h)
	if err != nil {
		return tip{}, err
	}
	return tip{Height: h, Hash: b.Hash(), State: b.State, Time: b.Time}, nil
}

// applied updates the pool after a commit: applied transfers leave it,
// their slots' other candidates are refused as conflicts, and transfers of
// rolled-back blocks that the new chain lacks are queued again.
func (s *Server) applied(abs []*appliedBlock, rolled []*Block) {
	s.stats.applied.Add(uint64(len(abs)))
	s.stats.lastApplied.Store(time.Now().UnixNano())
	for _, ab := range abs {
		for _, id := range s.pend.applied(ab.b.Transfers, ab.ids) {
			s.rej.add(id, ReasonConflict)
		}
	}
	for _, b := range rolled {
		for _, t := range b.Transfers {
			if _, err := s.admit(t); err != nil {
				s.log.Debug("rolled-back transfer not queued again", "err", err)
			}
		}
	}
}

// run is the chain's owner: it applies received blocks, syncs, and makes
// blocks while this node is the root. Nothing else changes the chain.
func (s *Server) run() {
	defer s.wg.Done()
	house := time.NewTicker(s.cfg.SyncEvery) // role changes, leftovers
	defer house.Stop()
	var batch <-chan time.Time // armed while transfers wait for a block
	var rootOf string          // tree id in which this node last became root and synced
	for {
		produce := false
		select {
		case <-s.ctx.Done():
			return
		case m := <-s.intake:
			s.onBlockMsg(m)
		case p := <-s.hints:
			s.syncFrom(p)
		case <-house.C:
			produce = true
		case <-batch:
			batch, produce = nil, true
		case <-s.kickP:
			if s.pend.len() >= MaxBlockTransfers {
				produce = true
			} else if batch == nil {
				batch = time.After(s.cfg.BatchEvery) // collect a batch first
			}
		}
		if !produce {
			continue
		}
		v := s.cell.View()
		if v.Role != tree.RoleRoot {
			rootOf = ""
			continue
		}
		if rootOf != v.Tree {
			s.rootSync()
			rootOf = v.Tree
		}
		s.produce()
		if s.pend.len() > 0 && batch == nil {
			batch = time.After(s.cfg.BatchEvery)
		}
	}
}

// onBlockMsg handles a broadcast: a block extending the tip is applied; a
// block or tip ahead, or a different block at a height held, means
// another branch or missed blocks: sync from its origin.
func (s *Server) onBlockMsg(m intakeMsg) {
	origin := s.peerOf(transport.NodeID(m.origin))
	if rest, ok := bytes.CutPrefix(m.payload, []byte(TipPrefix)); ok {
		t, err := DecodeTip(rest)
		if err != nil {
			return
		}
		if t.Height > s.head.Height || !s.holds(t.Height, t.Hash) {
			s.syncFrom(origin)
		}
		return
	}
	b, err := DecodeBlock(bytes.TrimPrefix(m.payload, []byte(BlockPrefix)))
	if err != nil || transport.IDOf(b.Producer[:]) != transport.NodeID(m.origin) {
		s.stats.refused.Add(1)
		return
	}
	switch {
	case b.Height == s.head.Height+1 && b.Prev == s.head.Hash:
		if _, err := s.adopt(s.head.Height, []*Block{b}, true); err != nil {
			s.stats.refused.Add(1)
			s.log.Warn("block refused", "height", b.Height, "from", origin.ID.Short(), "err", err)
		}
	case b.Height > s.head.Height+1:
		s.syncFrom(origin)
	default:
		if !s.holds(b.Height, b.Hash()) {
			s.syncFrom(origin)
		}
	}
}

// holds reports whether this node's chain has block hash at height h.
func (s *Server) holds(h uint64, hash Hash) bool {
	if h > s.head.Height {
		return false
	}
	if h == 0 {
		return hash == s.genesis.Hash
	}
	hs, err := s.st.hashes(h, 1)
	return err == nil && len(hs) == 1 && hs[0] == hash
}

// produce makes, applies and broadcasts one block of pending transfers.
func (s *Server) produce() {
	if s.pend.len() == 0 {
		return
	}
	o := newOverlay(s.live)
	ts, rej := s.pend.pick(o, s.producer, MaxBlockTransfers)
	for _, r := range rej {
		s.rej.add(r.id, r.reason)
	}
	if len(ts) == 0 {
		return
	}
	st, _, err := o.digest()
	if err != nil {
		s.log.Error("making a block", "err", err)
		return
	}
	b := &Block{Height: s.head.Height + 1, Prev: s.head.Hash, Time: max(s.cfg.Clock().UnixMilli(), s.head.Time),
		State: st, Transfers: ts}
	if err := b.sign(s.cfg.Key, b.IDs()); err != nil {
		s.log.Error("signing a block", "err", err)
		return
	}
	if _, err := s.adopt(s.head.Height, []*Block{b}, false); err != nil {
		s.log.Error("own block refused", "height", b.Height, "err", err)
		return
	}
	s.stats.produced.Add(1)
	raw, err := b.Encode()
	if err != nil {
		return
	}
	payload := append([]byte(BlockPrefix), raw...)
	if len(payload) > s.cfg.maxBroadcast {
		payload = append([]byte(TipPrefix), mustJSON(&Tip{Height: b.Height, Hash: s.head.Hash})...)
	}
	if _, err := s.cell.Broadcast(payload); err != nil {
		s.log.Debug("block broadcast", "err", err)
	}
}

// rootSync runs when this node becomes the root: it asks every member
// for its tip and first adopts the best chain any of them holds, so the
// new root continues from the highest valid block the tree knows.
func (s *Server) rootSync() {
	type answer struct {
		p transport.Peer
		r *StateResponse
	}
	others := s.roster.Others()
	var mu sync.Mutex
	var got []answer
	var wg sync.WaitGroup
	for _, m := range others {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := s.requestHead(m.Peer(), time.Second)
			if err == nil {
				mu.Lock()
				got = append(got, answer{m.Peer(), r})
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for len(got) > 0 {
		best := 0
		for i, a := range got {
			if better(a.r.Height, a.r.Hash, got[best].r.Height, got[best].r.Hash) {
				best = i
			}
		}
		a := got[best]
		if !better(a.r.Height, a.r.Hash, s.head.Height, s.head.Hash) {
			return
		}
		s.syncFrom(a.p)
		got = append(got[:best], got[best+1:]...)
	}
}

func (s *Server) requestHead(p transport.Peer, d time.Duration) (*StateResponse, error) {
	ctx, cancel := context.WithTimeout(s.ctx, d)
	defer cancel()
	b, err := s.tr.Request(ctx, p, TypeHead, nil)
	if err != nil {
		return nil, err
	}
	return DecodeStateResponse(b)
}

func (s *Server) requestHashes(ctx context.Context, p transport.Peer, from uint64, count int) ([]Hash, error) {
	b, err := s.tr.Request(ctx, p, TypeHashes, mustJSON(&HashesRequest{From: from, Count: count}))
	if err != nil {
		return nil, err
	}
	r, err := DecodeHashesResponse(b)
	if err != nil {
		return nil, err
	}
	if r.From != from || len(r.Hashes) > count {
		return nil, fmt.Errorf("%w: hashes from %d, asked %d", ErrBadResponse, r.From, from)
	}
	return r.Hashes, nil
}

func (s *Server) requestBlocks(ctx context.Context, p transport.Peer, from uint64, count int) ([]*Block, error) {
	b, err := s.tr.Request(ctx, p, TypeBlocks, mustJSON(&BlocksRequest{From: from, Count: count}))
	if err != nil {
		return nil, err
	}
	r, err := DecodeBlocksResponse(b)
	if err != nil {
		return nil, err
	}
	if len(r.Blocks) > count || len(r.Blocks) > 0 && r.Blocks[0].Height != from {
		return nil, fmt.Errorf("%w: blocks not from %d", ErrBadResponse, from)
	}
	return r.Blocks, nil
}

// syncFrom brings this node onto p's chain if p's tip wins over its own:
// it finds the last common block (comparing block hashes), fetches p's
// blocks above it and adopts them. A branch that needs a roll-back is
// fetched whole (at most maxReorgBlocks) and adopted at once; a plain
// extension page by page.
func (s *Server) syncFrom(p transport.Peer) {
	if p.ID == s.self || p.ID == "" {
		return
	}
	err := s.trySync(p)
	if err != nil && !errors.Is(err, context.Canceled) {
		s.log.Debug("sync failed", "from", p.ID.Short(), "err", err)
	}
}

func (s *Server) trySync(p transport.Peer) error {
	ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
	defer cancel()
	head, err := s.requestHead(p, requestTimeout)
	if err != nil {
		return err
	}
	if !better(head.Height, head.Hash, s.head.Height, s.head.Hash) {
		return nil
	}
	anc, err := s.ancestor(ctx, p, min(head.Height, s.head.Height))
	if err != nil {
		return err
	}
	if anc < s.head.Height {
		if head.Height-anc > maxReorgBlocks {
			return fmt.Errorf("%w: a branch of %d blocks is too long to switch to", ErrInvalid, head.Height-anc)
		}
		var blocks []*Block
		for from := anc + 1; from <= head.Height; {
			page, err := s.requestBlocks(ctx, p, from, int(min(uint64(MaxBlocksPage), head.Height-from+1)))
			if err != nil {
				return err
			}
			if len(page) == 0 {
				break
			}
			blocks = append(blocks, page...)
			from += uint64(len(page))
		}
		if _, err := s.adopt(anc, blocks, true); err != nil {
			s.stats.refused.Add(1)
			return err
		}
		return nil
	}
	for s.head.Height < head.Height {
		from := s.head.Height + 1
		page, err := s.requestBlocks(ctx, p, from, int(min(uint64(MaxBlocksPage), head.Height-from+1)))
		if err != nil {
			return err
		}
		if len(page) == 0 {
			return nil
		}
		n, err := s.adopt(s.head.Height, page, true)
		if err != nil {
			s.stats.refused.Add(1)
			return err
		}
		if n == 0 {
			return nil
		}
	}
	return nil
}

// ancestor returns the highest height ≤ top at which p's chain and this
// node's have the same block (0: only the genesis).
func (s *Server) ancestor(ctx context.Context, p transport.Peer, top uint64) (uint64, error) {
	h, window := top, uint64(64)
	for h > 0 {
		lo := uint64(1)
		if h > window {
			lo = h - window + 1
		}
		theirs, err := s.requestHashes(ctx, p, lo, int(h-lo+1))
		if err != nil {
			return 0, err
		}
		mine, err := s.st.hashes(lo, int(h-lo+1))
		if err != nil {
			return 0, err
		}
		for i := min(len(theirs), len(mine)) - 1; i >= 0; i-- {
			if theirs[i] == mine[i] {
				return lo + uint64(i), nil
			}
		}
		h = lo - 1
		window = min(window*4, MaxHashesPage)
	}
	return 0, nil
}

// poller compares tips: a member with the root's (unless a block came in
// within the period), the root with one member's in turn (and a member now
// and then with a random member), and hints the run loop to sync from
// whoever is ahead.
func (s *Server) poller() {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.SyncEvery)
	defer t.Stop()
	round := 0
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		round++
		v := s.cell.View()
		var targets []transport.Peer
		others := s.roster.Others()
		switch {
		case v.Role == tree.RoleRoot:
			if len(others) > 0 {
				targets = append(targets, others[round%len(others)].Peer())
			}
		case v.Root.ID != "" && transport.NodeID(v.Root.ID) != s.self:
			if time.Since(time.Unix(0, s.stats.lastApplied.Load())) < s.cfg.SyncEvery {
				continue // blocks are arriving: a gap shows on the next one
			}
			targets = append(targets, transport.Peer{ID: transport.NodeID(v.Root.ID), Addr: v.Root.Addr})
			if round%4 == 0 && len(others) > 0 {
				targets = append(targets, others[rand.IntN(len(others))].Peer())
			}
		}
		for _, p := range targets {
			r, err := s.requestHead(p, time.Second)
			if err != nil {
				continue
			}
			s.mu.RLock()
			ahead := better(r.Height, r.Hash, s.head.Height, s.head.Hash)
			s.mu.RUnlock()
			if ahead {
				select {
				case s.hints <- p:
				default:
				}
			}
		}
	}
}
