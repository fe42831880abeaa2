package roster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/borgios/borghui/peer"
	"github.com/borgios/borghui/peer/transport"
	"github.com/borgios/borghui/peer/tree"
)

// Member is a node of the tree as its Hello names it: node ID (130 hex
// characters, "04…"), node-to-node address and receptor (client) address.
type Member struct {
	ID   string `json:"id"`
	Addr string `json:"addr"`
	Recp string `json:"recp"`
}

// Peer is the member as a transport destination.
func (m Member) Peer() transport.Peer {
	return transport.Peer{ID: transport.NodeID(m.ID), Addr: m.Addr}
}

// Config configures a roster.
type Config struct {
	// Type is the Hello's message type, also the broadcast prefix, e.g.
	// "ledger.hello". It must be unique to the cell.
	Type string
	// Every is how often a member re-announces itself (default 10 s);
	// members unheard of for 3×Every expire.
	Every time.Duration
	// Poll is how often the tree view is checked for a first position or
	// a new tree (default 50 ms).
	Poll time.Duration
	// OnJoin, when set, is called (on its own goroutine) for every member
	// heard of for the first time.
	OnJoin func(Member)
	Log    *slog.Logger
}

// Roster is one node's knowledge of its tree's members.
type Roster struct {
	cfg  Config
	cell *peer.Cell
	self Member

	mu   sync.Mutex
	seen map[string]entry

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type entry struct {
	Member
	at time.Time
}

// Maximum sizes of a Hello's fields.
const (
	nodeIDLen = 130
	maxAddr   = 256
	maxHello  = 1024
)

// Start registers the Hello handlers on cell and starts announcing. Close
// stops the announcements (the handlers stay and ignore what comes).
func Start(cell *peer.Cell, cfg Config) (*Roster, error) {
	if cell == nil || cfg.Type == "" {
		return nil, errors.New("roster: a cell and a hello type are needed")
	}
	if cfg.Every <= 0 {
		cfg.Every = 10 * time.Second
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 50 * time.Millisecond
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	r := &Roster{cfg: cfg, cell: cell, seen: map[string]entry{},
		self: Member{ID: string(cell.ID()), Addr: cell.Addr(), Recp: cell.ReceptorAddr()}}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	if err := cell.Transport().HandleMessage(cfg.Type, r.handleHello); err != nil {
		r.cancel()
		return nil, err
	}
	cell.OnDeliver(r.onDeliver)
	r.wg.Add(1)
	go r.announce()
	return r, nil
}

// Close stops announcing.
func (r *Roster) Close() {
	r.cancel()
	r.wg.Wait()
}

// Self is this node.
func (r *Roster) Self() Member { return r.self }

// Members returns the live members, this node included, sorted by ID.
func (r *Roster) Members() []Member {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := []Member{r.self}
	for id, e := range r.seen {
		if time.Since(e.at) > 3*r.cfg.Every {
			delete(r.seen, id)
			continue
		}
		out = append(out, e.Member)
	}
	slices.SortFunc(out, func(a, b Member) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Others returns the live members but this node.
func (r *Roster) Others() []Member {
	ms := r.Members()
	return slices.DeleteFunc(ms, func(m Member) bool { return m.ID == r.self.ID })
}

// Known reports whether id is this node or a live member.
func (r *Roster) Known(id string) bool {
	_, ok := r.Lookup(id)
	return ok
}

// Lookup returns the member with id (this node included).
func (r *Roster) Lookup(id string) (Member, bool) {
	if id == r.self.ID {
		return r.self, true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.seen[id]
	if !ok || time.Since(e.at) > 3*r.cfg.Every {
		return Member{}, false
	}
	return e.Member, true
}

// Learn records m as a member (for members known by other means, and
// tests) and reports whether it was new.
func (r *Roster) Learn(m Member) bool {
	if m.ID == r.self.ID {
		return false
	}
	r.mu.Lock()
	_, known := r.seen[m.ID]
	r.seen[m.ID] = entry{Member: m, at: time.Now()}
	r.mu.Unlock()
	if !known {
		if r.cfg.OnJoin != nil {
			go r.cfg.OnJoin(m)
		}
		go r.greet(m)
	}
	return !known
}

// DecodeHello parses a Hello strictly.
func DecodeHello(b []byte) (Member, error) {
	var m Member
	if len(b) > maxHello {
		return m, errors.New("roster: hello too large")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return m, errors.New("roster: malformed hello")
	}
	if dec.More() {
		return m, errors.New("roster: trailing data after hello")
	}
	if len(m.ID) != nodeIDLen || !strings.HasPrefix(m.ID, "04") || strings.Trim(m.ID, "0123456789abcdef") != "" {
		return m, errors.New("roster: hello with a bad node id")
	}
	for _, a := range []string{m.Addr, m.Recp} {
		if len(a) > maxAddr {
			return m, errors.New("roster: hello address too long")
		}
	}
	if m.Addr == "" {
		return m, errors.New("roster: hello without an address")
	}
	return m, nil
}

func (r *Roster) hello() []byte {
	b, _ := json.Marshal(r.self)
	return b
}

// onDeliver learns a Hello broadcast by its own origin.
func (r *Roster) onDeliver(d tree.Deliver) {
	rest, ok := bytes.CutPrefix(d.Payload, []byte(r.cfg.Type+" "))
	if !ok || r.ctx.Err() != nil {
		return
	}
	if m, err := DecodeHello(rest); err == nil && m.ID == string(d.Origin) {
		r.Learn(m)
	}
}

func (r *Roster) handleHello(_ context.Context, req *transport.Request) ([]byte, error) {
	m, err := DecodeHello(req.Body)
	if err != nil {
		return nil, err
	}
	if m.ID != string(req.From) || r.ctx.Err() != nil {
		return nil, nil
	}
	r.Learn(m)
	return nil, nil
}

// greet sends this node's Hello straight to a member heard of first.
func (r *Roster) greet(m Member) {
	ctx, cancel := context.WithTimeout(r.ctx, 3*time.Second)
	defer cancel()
	_ = r.cell.Transport().Send(ctx, m.Peer(), r.cfg.Type, r.hello())
}

// announce broadcasts this node's Hello when it takes a position (or
// changes tree) and every Every after.
func (r *Roster) announce() {
	defer r.wg.Done()
	tick := time.NewTicker(r.cfg.Poll)
	defer tick.Stop()
	var tid string
	var last time.Time
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-tick.C:
		}
		v := r.cell.View()
		if v.Pos == 0 || (v.Tree == tid && time.Since(last) < r.cfg.Every) {
			continue
		}
		if _, err := r.cell.Broadcast(append([]byte(r.cfg.Type+" "), r.hello()...)); err == nil {
			tid, last = v.Tree, time.Now()
		}
	}
}
