package shard

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/borgios/borghui/peer/transport"
	"github.com/borgios/borghui/peer/tree"
)

// helloPrefix starts the broadcast payload of a member announcement.
const helloPrefix = TypeHello + " "

// members is the node's knowledge of the shard tree's members. The peer
// runtime's tree view names only the root, parent, children and root group,
// so members announce themselves: a broadcast Hello when a node takes its
// first position and every AnnounceEvery, and a one-way Hello straight back
// to a member heard of for the first time (so a newcomer learns everyone in
// one round). Entries not heard of for three periods expire. A Hello
// proves nothing by itself: a node is only ever reached through the
// transport, which checks its card against its ID.
type members struct {
	self   Hello
	expiry time.Duration

	mu   sync.Mutex
	seen map[string]memberEntry
}

type memberEntry struct {
	Hello
	at time.Time
}

func newMembers(self Hello, every time.Duration) *members {
	return &members{self: self, expiry: 3 * every, seen: make(map[string]memberEntry)}
}

// learn records h and reports whether it was new.
func (ms *members) learn(h Hello) bool {
	if h.ID == ms.self.ID {
		return false
	}
	ms.mu.Lock()
	defer ms.mu.Unlock()
	_, known := ms.seen[h.ID]
	ms.seen[h.ID] = memberEntry{Hello: h, at: time.Now()}
	return !known
}

func (ms *members) known(id string) bool {
	if id == ms.self.ID {
		return true
	}
	ms.mu.Lock()
	defer ms.mu.Unlock()
	_, ok := ms.seen[id]
	return ok
}

// list returns the live members, self included, sorted by ID.
func (ms *members) list() []Hello {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	out := []Hello{ms.self}
	for id, e := range ms.seen {
		if time.Since(e.at) > ms.expiry {
			delete(ms.seen, id)
			continue
		}
		out = append(out, e.Hello)
	}
	slices.SortFunc(out, func(a, b Hello) int { return cmpString(a.ID, b.ID) })
	return out
}

func (ms *members) lookup(id string) (Hello, bool) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	e, ok := ms.seen[id]
	return e.Hello, ok
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// onDeliver handles a broadcast: a Hello from its origin is learned, and a
// new member is greeted back directly.
func (s *Server) onDeliver(d tree.Deliver) {
	rest, ok := bytes.CutPrefix(d.Payload, []byte(helloPrefix))
	if !ok {
		return
	}
	h, err := DecodeHello(rest)
	if err != nil || h.ID != string(d.Origin) {
		return
	}
	if s.members.learn(h) {
		go s.greet(h)
	}
}

// greet sends this node's Hello straight to a member heard of first.
func (s *Server) greet(h Hello) {
	ctx, cancel := context.WithTimeout(s.ctx, 3*time.Second)
	defer cancel()
	_ = s.tr.Send(ctx, transport.Peer{ID: transport.NodeID(h.ID), Addr: h.Addr}, TypeHello, mustJSON(s.members.self))
}

func (s *Server) handleHello(_ context.Context, req *transport.Request) ([]byte, error) {
	h, err := DecodeHello(req.Body)
	if err != nil {
		return nil, err
	}
	if h.ID != string(req.From) {
		return nil, ErrNotMember
	}
	if s.members.learn(h) {
		go s.greet(h)
	}
	return nil, nil
}

// announce broadcasts this node's Hello when it takes a position (or
// changes tree) and every AnnounceEvery after.
func (s *Server) announce() {
	defer s.wg.Done()
	tick := time.NewTicker(s.cfg.announcePoll)
	defer tick.Stop()
	var tid string
	var last time.Time
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-tick.C:
		}
		v := s.cell.View()
		if v.Pos == 0 || (v.Tree == tid && time.Since(last) < s.cfg.AnnounceEvery) {
			continue
		}
		if _, err := s.cell.Broadcast(append([]byte(helloPrefix), mustJSON(s.members.self)...)); err == nil {
			tid, last = v.Tree, time.Now()
		}
	}
}
