package crono

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/borgios/borghui/cells/roster"
	"github.com/borgios/borghui/peer"
	"github.com/borgios/borghui/peer/transport"
)

// DefaultSyncEvery is the default period of the node-to-node sync.
const DefaultSyncEvery = 2 * time.Second

const (
	// filterLen is how many of the node's recent rounds the samples are
	// kept from; they are combined by Estimate, each widened for the
	// clocks' drift since it was taken (a clock filter: one noisy round
	// does not move the offset, and quiet exchanges keep narrowing it). A
	// member with no sample in that window (unreachable, or gone from the
	// roster) is no longer counted.
	filterLen = 4
	// maxDrift bounds how far two host clocks drift apart, per second
	// of age of a sample: 100 ppm, far worse than a working crystal.
	maxDrift = 100 * time.Microsecond
	// Members are sampled one at a time, which keeps the exchanges quiet
	// (an exchange queued behind another's signing measures the queue,
	// and lopsidedly); only a large tree gets one more at a time for every
	// membersPerLane members, at most maxLanes.
	membersPerLane = 16
	maxLanes       = 8
	// exchangeTimeout bounds one exchange, dial included; a sample slower
	// than MaxDelay is refused anyway. memberBudget bounds all exchanges
	// with one member in a round, so a slow member cannot stall the round.
	exchangeTimeout = 2 * MaxDelay
	memberBudget    = 2 * exchangeTimeout
)

// Config configures a Server. Zero fields take defaults.
type Config struct {
	// HostClock is the node's own clock; nil means time.Now. The server
	// only reads it (tests inject a skewed one); it never sets it.
	HostClock func() time.Time
	// SyncEvery is the period of the node-to-node sync, jittered by ±10%
	// (the first round runs at once, and one within a quarter period of
	// hearing of a new member); 0 means DefaultSyncEvery.
	SyncEvery time.Duration
	// Exchanges per member and sync; 0 means DefaultExchanges (at most 16).
	Exchanges int
	// Log receives events.
	Log *slog.Logger
}

// Server is the crono cell's server side, mounted on a peer.Cell: it
// answers time requests (clients: network time; members: host clock) and
// keeps the node's network offset agreed with the other members.
type Server struct {
	cfg    Config
	cell   *peer.Cell
	tr     *transport.Transport
	roster *roster.Roster
	log    *slog.Logger

	offset atomic.Int64 // network time − host clock, ns

	mu      sync.Mutex
	samples map[string][]kept // member ID → recent round results, oldest first
	absurd  map[string]bool   // members whose clock is beyond MaxOffset
	lost    bool              // most members are absurd: this host's clock is off
	status  Status

	kick   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

type kept struct {
	Sample
	at    time.Time // local monotonic time of the round
	round uint64
}

// Status is a monitor's view of the server: plain values, nothing secret.
type Status struct {
	// Offset is network time minus this node's host clock.
	Offset time.Duration `json:"offsetNs"`
	// Members is how many other members the roster knows.
	Members int `json:"members"`
	// Sampled is how many of them have a usable recent sample (the median
	// is taken over these and this node).
	Sampled int `json:"sampled"`
	// Absurd is how many members' clocks lie beyond ±MaxOffset of this
	// host's (ignored); Failed how many gave no usable sample in the last
	// round for another reason (unreachable, slow, malformed).
	Absurd int `json:"absurd"`
	Failed int `json:"failed"`
	// Spread is the distance between the earliest and the latest host
	// clock in the median set.
	Spread time.Duration `json:"spreadNs"`
	// Bound is the largest delay/2 of the samples used: each one's
	// measurement error is at most this.
	Bound time.Duration `json:"boundNs"`
	// LastSync is the network time at the end of the last round (zero
	// before the first); Rounds counts them.
	LastSync time.Time `json:"lastSync"`
	Rounds   uint64    `json:"rounds"`
	// Peers are the samples used, by member ID.
	Peers []PeerSample `json:"peers"`
}

// PeerSample is the estimate a node uses for one member: the member's host
// clock minus this node's (Offset), known to ±Delay/2, combined from
// Samples exchanges taken in Rounds sync rounds.
type PeerSample struct {
	ID      string        `json:"id"`
	Offset  time.Duration `json:"offsetNs"`
	Delay   time.Duration `json:"delayNs"`
	Samples int           `json:"samples"`
	Rounds  int           `json:"rounds"`
}

// Mount mounts the crono protocol on cell, which must be a cronoTreeCell,
// starts its roster (crono.hello) and its sync loop.
func Mount(cell *peer.Cell, cfg Config) (*Server, error) {
	if cell == nil || cell.Name() != CellName {
		return nil, fmt.Errorf("crono: mount needs a %s cell", CellName)
	}
	if cfg.HostClock == nil {
		cfg.HostClock = time.Now
	}
	if cfg.SyncEvery <= 0 {
		cfg.SyncEvery = DefaultSyncEvery
	}
	if cfg.Exchanges <= 0 {
		cfg.Exchanges = DefaultExchanges
	}
	cfg.Exchanges = min(cfg.Exchanges, maxExchanges)
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg: cfg, cell: cell, tr: cell.Transport(), log: cfg.Log.With("cell", CellName),
		samples: map[string][]kept{}, absurd: map[string]bool{}, kick: make(chan struct{}, 1),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	err := cell.HandleReceptor(TypeTime, s.guard(s.handleTime))
	if err == nil {
		err = s.tr.Handle(TypePeerTime, s.guard(s.handlePeerTime))
	}
	if err == nil {
		s.roster, err = roster.Start(cell, roster.Config{Type: TypeHello, OnJoin: s.onJoin, Log: s.log})
	}
	if err != nil {
		s.cancel()
		return nil, fmt.Errorf("crono: mounting: %w", err)
	}
	s.wg.Add(1)
	go s.loop()
	return s, nil
}

// Close stops the sync loop and the roster. The handlers stay registered
// on the cell and answer "closed".
func (s *Server) Close() error {
	s.once.Do(func() {
		s.cancel()
		s.roster.Close()
		s.wg.Wait()
	})
	return nil
}

// Now is network time: the host clock plus the network offset.
func (s *Server) Now() time.Time { return s.cfg.HostClock().Add(s.Offset()) }

// Offset is network time minus the host clock.
func (s *Server) Offset() time.Duration { return time.Duration(s.offset.Load()) }

// Status reports the last sync.
func (s *Server) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.status
	st.Members = len(s.roster.Others())
	st.Peers = slices.Clone(st.Peers)
	return st
}

// Members lists the crono tree's members this node knows, itself included.
func (s *Server) Members() []roster.Member { return s.roster.Members() }

// guard refuses work after Close and turns errors into coded responses.
func (s *Server) guard(h transport.Handler) transport.Handler {
	return func(ctx context.Context, req *transport.Request) ([]byte, error) {
		if s.ctx.Err() != nil {
			return nil, remote(ErrClosed)
		}
		b, err := h(ctx, req)
		if err != nil {
			return nil, remote(err)
		}
		return b, nil
	}
}

// handleTime answers a client with the network clock.
func (s *Server) handleTime(_ context.Context, req *transport.Request) ([]byte, error) {
	return s.answer(req.Body, s.Offset())
}

// handlePeerTime answers a node with the host clock: members agree on the
// median of their host clocks, never on each other's corrections (no
// feedback loop, no drift of the network as a whole).
func (s *Server) handlePeerTime(_ context.Context, req *transport.Request) ([]byte, error) {
	return s.answer(req.Body, 0)
}

// answer reads t2 on arrival and t3 last, both as host clock + off (one
// offset for both, so a sync in between cannot make t3 precede t2).
func (s *Server) answer(body []byte, off time.Duration) ([]byte, error) {
	t2 := s.cfg.HostClock().Add(off).UnixNano()
	t1, err := DecodeTimeRequest(body)
	if err != nil {
		return nil, err
	}
	t3 := max(s.cfg.HostClock().Add(off).UnixNano(), t2)
	if !validTime(t2) || !validTime(t3) {
		return nil, fmt.Errorf("crono: this node's clock reads %d ns", t2)
	}
	return mustJSON(TimeReply{T1: t1, T2: t2, T3: t3}), nil
}

// onJoin asks for a round soon when a member is first heard of.
func (s *Server) onJoin(roster.Member) {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

func (s *Server) loop() {
	defer s.wg.Done()
	for {
		s.syncRound()
		// A period of 0.9–1.1 SyncEvery, and a kicked round after up to a
		// quarter period: the members' rounds drift apart instead of
		// contending with each other (everyone hears of a newcomer at once).
		t := time.NewTimer(jitter(s.cfg.SyncEvery*9/10, s.cfg.SyncEvery/5))
		select {
		case <-s.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		case <-s.kick:
			t.Stop()
			t = time.NewTimer(jitter(0, s.cfg.SyncEvery/4))
			select {
			case <-s.ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
	}
}

// jitter returns base plus a random duration in [0, spread).
func jitter(base, spread time.Duration) time.Duration {
	if spread <= 0 {
		return base
	}
	return base + rand.N(spread)
}

type roundResult struct {
	id  string
	ss  []Sample
	err error
}

// syncRound samples every other member's host clock and sets the network
// offset to the median of {0} ∪ {each member's offset}.
func (s *Server) syncRound() {
	others := s.roster.Others()
	res := make([]roundResult, len(others))
	sem := make(chan struct{}, min(1+len(others)/membersPerLane, maxLanes))
	var wg sync.WaitGroup
	for i, m := range others {
		wg.Go(func() {
			res[i].id = m.ID
			select {
			case sem <- struct{}{}:
			case <-s.ctx.Done():
				res[i].err = ErrClosed
				return
			}
			defer func() { <-sem }()
			ctx, cancel := context.WithTimeout(s.ctx, memberBudget)
			defer cancel()
			res[i].ss, res[i].err = collect(ctx, s.cfg.Exchanges, func(ctx context.Context) (Sample, error) {
				return s.peerExchange(ctx, m)
			})
		})
	}
	wg.Wait()
	if s.ctx.Err() != nil {
		return
	}
	s.apply(res, len(others))
}

func (s *Server) peerExchange(ctx context.Context, m roster.Member) (Sample, error) {
	ctx, cancel := context.WithTimeout(ctx, exchangeTimeout)
	defer cancel()
	return exchange(ctx, s.cfg.HostClock, func(ctx context.Context, body []byte) ([]byte, error) {
		b, err := s.tr.Request(ctx, m.Peer(), TypePeerTime, body)
		if err != nil {
			return nil, fromRemote(TypePeerTime, err)
		}
		return b, nil
	})
}

// apply records a round's results and recomputes the offset.
func (s *Server) apply(res []roundResult, members int) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	round := s.status.Rounds + 1
	live := make(map[string]bool, len(res))
	var absurd, failed int
	for _, r := range res {
		live[r.id] = true
		switch {
		case r.err == nil:
			ks := slices.Clone(s.samples[r.id])
			for _, smp := range r.ss {
				ks = append(ks, kept{Sample: smp, at: now, round: round})
			}
			s.samples[r.id] = ks
			if s.absurd[r.id] {
				delete(s.absurd, r.id)
				s.log.Info("member clock back in range", "member", short(r.id), "offset", r.ss[0].Offset)
			}
		case errors.Is(r.err, ErrAbsurd):
			absurd++
			delete(s.samples, r.id) // its clock jumped: what was kept is void
			if !s.absurd[r.id] {
				s.absurd[r.id] = true
				s.log.Warn("member clock ignored: more than MaxOffset from this host's", "member", short(r.id), "max", MaxOffset, "err", r.err)
			}
		default:
			failed++
			s.log.Debug("member not sampled", "member", short(r.id), "err", r.err)
		}
	}
	for id := range s.absurd {
		if !live[id] {
			delete(s.absurd, id)
		}
	}
	if lost := members > 0 && 2*absurd > members; lost != s.lost {
		s.lost = lost
		if lost {
			s.log.Error("most members' clocks are more than MaxOffset from this host's: this host's clock is probably wrong; it keeps its own time", "absurd", absurd, "members", members)
		}
	}
	offsets := []time.Duration{0}
	var peers []PeerSample
	var bound time.Duration
	for id, ks := range s.samples {
		ks = slices.DeleteFunc(ks, func(k kept) bool { return k.round+filterLen <= round })
		if len(ks) == 0 { // unreachable, or gone from the roster, for filterLen rounds
			delete(s.samples, id)
			continue
		}
		est, ok := estimateKept(ks, now)
		if !ok {
			// The member's clock (or this host's) stepped: only the newest
			// round counts.
			last := ks[len(ks)-1].round
			ks = slices.DeleteFunc(ks, func(k kept) bool { return k.round < last })
			est, _ = estimateKept(ks, now)
			s.log.Debug("member clock stepped; its older samples dropped", "member", short(id))
		}
		s.samples[id] = ks
		offsets = append(offsets, est.Offset)
		peers = append(peers, PeerSample{ID: id, Offset: est.Offset, Delay: est.Delay, Samples: len(ks), Rounds: rounds(ks)})
		bound = max(bound, est.Delay/2)
	}
	slices.SortFunc(peers, func(a, b PeerSample) int { return strings.Compare(a.ID, b.ID) })
	off := Median(offsets)
	s.offset.Store(int64(off))
	s.status = Status{
		Offset: off, Sampled: len(peers), Absurd: absurd, Failed: failed,
		Spread: slices.Max(offsets) - slices.Min(offsets), Bound: bound,
		LastSync: s.cfg.HostClock().Add(off), Rounds: round, Peers: peers,
	}
}

// estimateKept intersects kept samples, each interval widened on both
// sides by the drift its age allows; with no intersection it reports
// false (Estimate's fallback is not wanted across rounds).
func estimateKept(ks []kept, now time.Time) (Sample, bool) {
	ss := make([]Sample, len(ks))
	for i, k := range ks {
		age := now.Sub(k.at)
		ss[i] = Sample{Offset: k.Offset, Delay: k.Delay + 2*time.Duration(age.Seconds()*float64(maxDrift))}
	}
	if s, ok := Intersect(ss); ok {
		return s, true
	}
	if len(ss) > 0 && ks[0].round == ks[len(ks)-1].round { // one round: Estimate's fallback
		s, _ := Estimate(ss)
		return s, true
	}
	return Sample{}, false
}

// rounds counts the distinct rounds of ks (in round order).
func rounds(ks []kept) int {
	n := 0
	for i, k := range ks {
		if i == 0 || k.round != ks[i-1].round {
			n++
		}
	}
	return n
}

func short(id string) string {
	if len(id) > 16 {
		return id[:16]
	}
	return id
}
