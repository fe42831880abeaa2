package shard

import (
	"context"
	"crypto/sha256"
	"slices"
	"sync"
	"time"

	"github.com/borgios/borghui/peer/transport"
)

// pushTimeout bounds one replica push or check.
const pushTimeout = 10 * time.Second

// place brings the shard to its target of copies on the nodes first in its
// rendezvous order (this node, holding it, counts as one wherever it
// ranks). For a put (check false) every candidate gets the blob with this
// node's owners; for a repair (check true) a candidate is first asked
// whether it holds a good copy and gets the blob only if not. Candidates
// are tried in rank order, as many at once as copies are missing; a
// candidate that fails is passed over for the next. The confirmed holders
// are recorded (a repair replaces what was known: it verified) and told of
// each other. place returns the confirmed copies.
func (s *Server) place(ctx context.Context, id ID, blob []byte, m Meta, check bool) int {
	ranked := Rank(id, s.members.Members(), func(h Hello) string { return h.ID })
	confirmed := []string{s.self}
	var next int
	for len(confirmed) < s.cfg.Replicas {
		var batch []Hello
		for ; next < len(ranked) && len(batch) < s.cfg.Replicas-len(confirmed); next++ {
			if ranked[next].ID != s.self {
				batch = append(batch, ranked[next])
			}
		}
		if len(batch) == 0 {
			break
		}
		// One replicate body for the batch, hashed once for all its targets.
		body, err := EncodeFrame(ReplicateHeader{ID: id, Owners: m.Owners, Holders: slices.Clone(confirmed)}, blob)
		if err != nil {
			break
		}
		sum := sha256.Sum256(body)
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, h := range batch {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if s.ensureAt(ctx, h, id, body, sum, check) {
					mu.Lock()
					confirmed = append(confirmed, h.ID)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
	}
	st := s.Store()
	if check {
		st.SetHolders(id, s.self, confirmed)
	} else {
		st.AddHolders(id, s.self, confirmed)
	}
	s.noteHolders(id, confirmed)
	return len(confirmed)
}

// ensureAt makes sure node h holds a good copy of id, pushing it the
// replicate body (whose SHA-256 is sum) when it does not.
func (s *Server) ensureAt(ctx context.Context, h Hello, id ID, body []byte, sum [32]byte, check bool) bool {
	ctx, cancel := context.WithTimeout(ctx, pushTimeout)
	defer cancel()
	p := transport.Peer{ID: transport.NodeID(h.ID), Addr: h.Addr}
	if check {
		ids := []ID{id}
		b, err := s.tr.Request(ctx, p, TypePeerHas, mustJSON(HasRequest{IDs: ids}))
		if err == nil {
			held, err := DecodeHasReply(b, ids)
			if err == nil && len(held) == 1 {
				return true
			}
		}
	}
	b, err := s.tr.RequestHashed(ctx, p, TypeReplicate, body, sum)
	if err != nil {
		s.log.Debug("replica not placed", "shard", id.String(), "node", p.ID.Short(), "err", err)
		return false
	}
	got, err := DecodeIDRequest(b)
	return err == nil && got == id
}

// noteHolders tells every other confirmed holder who holds the shard, so
// its reads report the same count (one-way, best effort).
func (s *Server) noteHolders(id ID, holders []string) {
	if len(holders) < 2 {
		return
	}
	body := mustJSON(HoldersNote{ID: id, Holders: holders})
	for _, n := range holders {
		if n == s.self {
			continue
		}
		h, ok := s.members.Lookup(n)
		if !ok {
			continue
		}
		go func() {
			ctx, cancel := context.WithTimeout(s.ctx, pushTimeout)
			defer cancel()
			_ = s.tr.Send(ctx, transport.Peer{ID: transport.NodeID(h.ID), Addr: h.Addr}, TypeHolders, body)
		}()
	}
}
