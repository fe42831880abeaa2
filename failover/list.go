package failover

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Endpoint is one node serving a cell: its receptor address and the node
// ID its signed card names.
type Endpoint struct {
	Addr string `json:"addr"`
	ID   string `json:"id"`
}

func (e Endpoint) String() string {
	if len(e.ID) > 12 {
		return e.Addr + " (" + e.ID[:12] + "…)"
	}
	return e.Addr
}

// Mode says how a call may be repeated elsewhere.
type Mode int

const (
	// Once: one endpoint only (a write that must not happen twice).
	Once Mode = iota
	// Retry: on failure, again on the next endpoint (idempotent writes).
	Retry
	// Read: Retry, and hedged on a second endpoint when the first is slow.
	Read
)

// Limits and defaults.
const (
	MaxEndpoints = 64
	weight       = 0.2 // of the newest sample in the averages
	breakAfter   = 3   // failures in a row that open the breaker
	coolMin      = time.Second
	coolMax      = 2 * time.Minute
	// HedgeMin is the least a read waits before asking a second endpoint.
	HedgeMin = 50 * time.Millisecond
)

// ErrNoEndpoint means the list is empty or every endpoint is cooling down
// and failed its probe.
var ErrNoEndpoint = errors.New("failover: no endpoint available")

// Config configures a List.
type Config struct {
	// Cell names the cell type, for messages.
	Cell string
	// Classify reports whether err is the endpoint's failure (move on) and
	// not the cell's answer (return it). nil: every error is a failure.
	Classify func(err error) bool
	// OnSwitch, when set, is told when a call leaves an endpoint for
	// another, with the reason.
	OnSwitch func(from, to Endpoint, why error)
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// List is the endpoints of one cell type with their health. Safe for
// concurrent use.
type List struct {
	cfg Config
	mu  sync.Mutex
	eps []*state
}

type state struct {
	Endpoint
	latency  float64 // EWMA, seconds; 0 = no sample yet
	errRate  float64 // EWMA of failures (0..1)
	fails    int     // in a row
	openTill time.Time
	cool     time.Duration
}

// New returns a List over eps (duplicates by ID dropped, at most
// MaxEndpoints kept).
func New(cfg Config, eps []Endpoint) *List {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Classify == nil {
		cfg.Classify = func(error) bool { return true }
	}
	l := &List{cfg: cfg}
	l.Merge(eps)
	return l
}

// Merge adds endpoints not yet known (by ID; a known ID takes the new
// address). Past MaxEndpoints the least healthy are dropped.
func (l *List) Merge(eps []Endpoint) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range eps {
		if e.Addr == "" {
			continue
		}
		i := slices.IndexFunc(l.eps, func(s *state) bool { return s.ID == e.ID && s.ID != "" || s.Addr == e.Addr && s.ID == "" })
		if i >= 0 {
			l.eps[i].Endpoint = e
			continue
		}
		l.eps = append(l.eps, &state{Endpoint: e})
	}
	if len(l.eps) > MaxEndpoints {
		l.sortLocked()
		l.eps = l.eps[:MaxEndpoints]
	}
}

// Remove drops an endpoint (a node that left for good).
func (l *List) Remove(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.eps = slices.DeleteFunc(l.eps, func(s *state) bool { return s.ID == id })
}

// score orders endpoints: lower is better. An endpoint never tried ranks
// after tried healthy ones of under 100 ms and before failing ones.
func (s *state) score() float64 {
	lat := s.latency
	if lat == 0 {
		lat = 0.1
	}
	return lat * (1 + 10*s.errRate)
}

func (l *List) sortLocked() {
	slices.SortStableFunc(l.eps, func(a, b *state) int {
		if oa, ob := a.fails >= breakAfter, b.fails >= breakAfter; oa != ob {
			if oa {
				return 1 // open breakers last
			}
			return -1
		}
		switch sa, sb := a.score(), b.score(); {
		case sa < sb:
			return -1
		case sa > sb:
			return 1
		}
		return 0
	})
}

// order returns the endpoints a call may use now, best first: closed
// breakers by score, then at most one open breaker whose cool-down is over
// (its probe).
func (l *List) order() []*state {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sortLocked()
	now := l.cfg.Now()
	var out []*state
	var probe *state
	for _, s := range l.eps {
		switch {
		case s.fails < breakAfter:
			out = append(out, s)
		case probe == nil && !now.Before(s.openTill):
			probe = s
		}
	}
	if probe != nil {
		// One probe per cool-down: the next is due a cool-down later
		// unless this one succeeds (record closes the breaker).
		probe.openTill = now.Add(probe.cool)
		out = append(out, probe)
	}
	return out
}

// record notes how a call on s went.
func (l *List) record(s *state, took time.Duration, failed bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if failed {
		s.errRate = weight + (1-weight)*s.errRate
		s.fails++
		if s.fails >= breakAfter {
			switch {
			case s.cool == 0:
				s.cool = coolMin
			default:
				s.cool = min(2*s.cool, coolMax)
			}
			s.openTill = l.cfg.Now().Add(s.cool)
		}
		return
	}
	sec := took.Seconds()
	if s.latency == 0 {
		s.latency = sec
	} else {
		s.latency = weight*sec + (1-weight)*s.latency
	}
	s.errRate *= 1 - weight
	s.fails, s.cool = 0, 0
}

// Do runs call on the best endpoint, moving on as mode allows. It returns
// the endpoint that answered.
func (l *List) Do(ctx context.Context, mode Mode, call func(context.Context, Endpoint) error) (Endpoint, error) {
	order := l.order()
	if len(order) == 0 {
		return Endpoint{}, fmt.Errorf("%w for %s", ErrNoEndpoint, l.cfg.Cell)
	}
	if mode == Once {
		order = order[:1]
	}
	if mode == Read {
		return l.hedged(ctx, order, call)
	}
	var errs []error
	for i, s := range order {
		start := l.cfg.Now()
		err := call(ctx, s.Endpoint)
		failed := err != nil && l.cfg.Classify(err) && ctx.Err() == nil
		l.record(s, l.cfg.Now().Sub(start), failed)
		if !failed {
			return s.Endpoint, err
		}
		errs = append(errs, fmt.Errorf("%s: %w", s.Endpoint, err))
		if i+1 < len(order) && l.cfg.OnSwitch != nil {
			l.cfg.OnSwitch(s.Endpoint, order[i+1].Endpoint, err)
		}
	}
	return Endpoint{}, fmt.Errorf("failover: every %s endpoint failed: %w", l.cfg.Cell, errors.Join(errs...))
}

// hedgeAfter is how long a read waits for s before asking the next one.
func (l *List) hedgeAfter(s *state) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return max(HedgeMin, time.Duration(4*s.latency*float64(time.Second)))
}

type outcome struct {
	s   *state
	err error
}

// hedged runs a read on order[0], adds the next endpoint when the current
// ones are slow or have failed, and returns the first good answer once the
// other calls under way have ended (they are cancelled).
func (l *List) hedged(ctx context.Context, order []*state, call func(context.Context, Endpoint) error) (Endpoint, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make(chan outcome, len(order))
	next, running := 1, 1
	// No call outlives the read: the losers are cancelled and waited for,
	// so a caller may reuse (or wipe) what its calls use once Do returns.
	defer func() {
		cancel()
		for ; running > 0; running-- {
			<-results
		}
	}()
	start := func(s *state) {
		go func() {
			t0 := l.cfg.Now()
			err := call(ctx, s.Endpoint)
			failed := err != nil && l.cfg.Classify(err) && ctx.Err() == nil
			l.record(s, l.cfg.Now().Sub(t0), failed)
			if err != nil && !failed && ctx.Err() != nil {
				err = ctx.Err()
			}
			results <- outcome{s, err}
		}()
	}
	start(order[0])
	timer := time.NewTimer(l.hedgeAfter(order[0]))
	defer timer.Stop()
	var errs []error
	for running > 0 {
		select {
		case r := <-results:
			running--
			if r.err == nil || !l.cfg.Classify(r.err) {
				return r.s.Endpoint, r.err
			}
			errs = append(errs, fmt.Errorf("%s: %w", r.s.Endpoint, r.err))
			if next < len(order) {
				if l.cfg.OnSwitch != nil {
					l.cfg.OnSwitch(r.s.Endpoint, order[next].Endpoint, r.err)
				}
				start(order[next])
				next++
				running++
			}
		case <-timer.C:
			if next < len(order) {
				if l.cfg.OnSwitch != nil {
					l.cfg.OnSwitch(order[next-1].Endpoint, order[next].Endpoint, errSlow)
				}
				start(order[next])
				timer.Reset(l.hedgeAfter(order[next]))
				next++
				running++
			}
		case <-ctx.Done():
			return Endpoint{}, ctx.Err()
		}
	}
	return Endpoint{}, fmt.Errorf("failover: every %s endpoint failed: %w", l.cfg.Cell, errors.Join(errs...))
}

// errSlow is the reason given when a read is hedged.
var errSlow = errors.New("no answer yet: asking another endpoint too")

// Health is an endpoint's standing, for the UI.
type Health struct {
	Endpoint
	LatencyMs float64 `json:"latencyMs"`
	ErrorRate float64 `json:"errorRate"`
	Open      bool    `json:"open"` // out of rotation, cooling down
}

// Health lists the endpoints best first.
func (l *List) Health() []Health {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sortLocked()
	out := make([]Health, len(l.eps))
	for i, s := range l.eps {
		out[i] = Health{Endpoint: s.Endpoint, LatencyMs: s.latency * 1000, ErrorRate: s.errRate, Open: s.fails >= breakAfter}
	}
	return out
}

// Endpoints lists the endpoints, best first.
func (l *List) Endpoints() []Endpoint {
	hs := l.Health()
	out := make([]Endpoint, len(hs))
	for i, h := range hs {
		out[i] = h.Endpoint
	}
	return out
}

// Observe records the outcome of a call to ep made outside Do (a health
// probe, say): its latency on success, a failure otherwise. An endpoint
// not in the list is ignored.
func (l *List) Observe(ep Endpoint, took time.Duration, err error) {
	l.mu.Lock()
	var s *state
	for _, e := range l.eps {
		if e.ID == ep.ID && e.Addr == ep.Addr {
			s = e
			break
		}
	}
	l.mu.Unlock()
	if s == nil {
		return
	}
	l.record(s, took, err != nil && l.cfg.Classify(err))
	l.mu.Lock()
	l.sortLocked()
	l.mu.Unlock()
}
