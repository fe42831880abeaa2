package crono

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/borgios/borghui/peer/transport"
)

// DefaultExchanges is how many exchanges a client or node makes with each
// cell or member per sync; their samples are combined by Estimate.
const DefaultExchanges = 4

// maxExchanges bounds Config.Exchanges.
const maxExchanges = 16

// Caller makes one request of the crono cell on one node and returns the
// verified response body. A failover layer can stand in for it.
type Caller interface {
	Call(ctx context.Context, typ string, body []byte) ([]byte, error)
}

// ReceptorCaller calls a node's receptor over a transport.Client (every
// response is verified against the node's key by the client).
type ReceptorCaller struct{ C *transport.Client }

// Call sends a signed request of type typ to the crono cell.
func (r ReceptorCaller) Call(ctx context.Context, typ string, body []byte) ([]byte, error) {
	return r.C.Request(ctx, CellName, typ, body)
}

// Client is the typed client of one crono cell node.
type Client struct {
	c    Caller
	host func() time.Time
}

// NewClient returns a client calling through c; host is the clock the
// client's own timestamps (t1, t4) are read from (nil means time.Now).
func NewClient(c Caller, host func() time.Time) *Client {
	if host == nil {
		host = time.Now
	}
	return &Client{c: c, host: host}
}

// Exchange makes one crono.time exchange and returns its sample: the
// cell's network time minus the host clock, and the delay. A sample that
// fails Sample.Check is returned with the error.
func (c *Client) Exchange(ctx context.Context) (Sample, error) {
	return exchange(ctx, c.host, func(ctx context.Context, body []byte) ([]byte, error) {
		b, err := c.c.Call(ctx, TypeTime, body)
		if err != nil {
			return nil, fromRemote(TypeTime, err)
		}
		return b, nil
	})
}

// Estimate makes n exchanges (n < 1 means DefaultExchanges) and combines
// the usable samples (see Estimate): the offset of the cell's network
// time from the host clock, with Delay/2 its error bound. It stops at the
// first transport or remote error; unusable samples are passed over.
func (c *Client) Estimate(ctx context.Context, n int) (Sample, error) {
	ss, err := collect(ctx, n, c.Exchange)
	if err != nil {
		return Sample{}, err
	}
	s, _ := Estimate(ss)
	return s, nil
}

// exchange sends {t1} (host clock) through call and measures the answer.
func exchange(ctx context.Context, host func() time.Time, call func(context.Context, []byte) ([]byte, error)) (Sample, error) {
	t1 := host().UnixNano()
	if !validTime(t1) {
		return Sample{}, fmt.Errorf("%w: the host clock reads %d ns", ErrMalformed, t1)
	}
	b, err := call(ctx, mustJSON(TimeRequest{T1: t1}))
	t4 := host().UnixNano()
	if err != nil {
		return Sample{}, err
	}
	r, err := DecodeTimeReply(b, t1)
	if err != nil {
		return Sample{}, err
	}
	s, err := Measure(t1, r.T2, r.T3, t4)
	if err != nil {
		return Sample{}, err
	}
	return s, s.Check()
}

// collect runs one up to n times and returns the usable samples. A
// failure other than an unusable sample ends it (the peer is not there);
// with no usable sample the last error is returned.
func collect(ctx context.Context, n int, one func(context.Context) (Sample, error)) ([]Sample, error) {
	if n < 1 {
		n = DefaultExchanges
	}
	var (
		out     []Sample
		lastErr error
	)
	for range min(n, maxExchanges) {
		s, err := one(ctx)
		if err != nil {
			lastErr = err
			if errors.Is(err, ErrSlow) || errors.Is(err, ErrAbsurd) || errors.Is(err, ErrMalformed) {
				continue
			}
			break
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		if lastErr == nil {
			lastErr = ErrNoAnswer
		}
		return nil, lastErr
	}
	return out, nil
}

// Clock is network time for the conduit: the host clock plus the offset
// agreed by the crono cells it syncs with. It never sets the host clock.
// Its Now can be the Clock of a transport.ClientConfig (envelope
// timestamps, response freshness). It is safe for concurrent use.
//
// Sync asks every cell (DefaultExchanges exchanges each, combined by
// Estimate), then takes the median of the cells' offsets. The median
// is used only if more than half of the cells lie within MaxDisagree of
// it; otherwise Sync fails with ErrDisagree and the previous offset stays.
// With one cell, that cell is believed: give it three or more, so one
// wrong or lying cell cannot move the clock.
type Clock struct {
	host func() time.Time

	mu      sync.Mutex
	callers []Caller

	syncMu sync.Mutex // one Sync at a time
	offset atomic.Int64
	synced atomic.Bool
	status atomic.Pointer[ClockStatus]
}

// ClockStatus describes the last successful Sync.
type ClockStatus struct {
	// Offset is network time minus the host clock.
	Offset time.Duration `json:"offsetNs"`
	// Cells is how many cells gave a usable sample; Agreeing how many of
	// them lay within MaxDisagree of the median.
	Cells    int `json:"cells"`
	Agreeing int `json:"agreeing"`
	// Bound is the largest error bound (Delay/2 of the estimate) of the
	// agreeing cells.
	Bound time.Duration `json:"boundNs"`
	// At is the network time the sync finished.
	At time.Time `json:"at"`
}

// NewClock returns a clock over the crono cells behind callers, reading
// the host clock host (nil means time.Now). Until the first successful
// Sync, Now is the host clock.
func NewClock(callers []Caller, host func() time.Time) *Clock {
	if host == nil {
		host = time.Now
	}
	c := &Clock{host: host}
	c.SetCallers(callers)
	return c
}

// SetCallers replaces the cells the clock syncs with (the endpoint list
// changed). The offset is kept.
func (c *Clock) SetCallers(callers []Caller) {
	c.mu.Lock()
	c.callers = append([]Caller(nil), callers...)
	c.mu.Unlock()
}

// Now is network time: the host clock plus the offset.
func (c *Clock) Now() time.Time { return c.host().Add(c.Offset()) }

// Offset is network time minus the host clock (0 before the first Sync).
func (c *Clock) Offset() time.Duration { return time.Duration(c.offset.Load()) }

// Synced reports whether a Sync has succeeded.
func (c *Clock) Synced() bool { return c.synced.Load() }

// Status describes the last successful Sync (zero before it).
func (c *Clock) Status() ClockStatus {
	if s := c.status.Load(); s != nil {
		return *s
	}
	return ClockStatus{}
}

// Sync queries every cell (one at a time, as a server samples its
// members, so the exchanges do not queue behind each other; at most 4 s
// each) and, when they agree, takes the
// median of their offsets as the clock's offset. On error the previous
// offset stays: ErrNoAnswer when no cell gave a usable sample (wrapping
// the last cell's error), ErrDisagree when no majority agrees.
func (c *Clock) Sync(ctx context.Context) error {
	c.syncMu.Lock()
	defer c.syncMu.Unlock()
	c.mu.Lock()
	callers := c.callers
	c.mu.Unlock()
	if len(callers) == 0 {
		return fmt.Errorf("%w: no time cells", ErrNoAnswer)
	}
	type result struct {
		s   Sample
		err error
	}
	res := make([]result, len(callers))
	sem := make(chan struct{}, min(1+len(callers)/membersPerLane, maxLanes))
	var wg sync.WaitGroup
	for i, cl := range callers {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			ctx, cancel := context.WithTimeout(ctx, memberBudget)
			defer cancel()
			s, err := NewClient(cl, c.host).Estimate(ctx, DefaultExchanges)
			res[i] = result{s, err}
		})
	}
	wg.Wait()
	var (
		samples []Sample
		lastErr error
	)
	for _, r := range res {
		if r.err != nil {
			lastErr = r.err
			continue
		}
		samples = append(samples, r.s)
	}
	if len(samples) == 0 {
		return fmt.Errorf("%w: %d cells asked: %w", ErrNoAnswer, len(callers), lastErr)
	}
	med, agree, bound := combine(samples)
	if 2*agree <= len(samples) {
		return fmt.Errorf("%w: %d of %d cells within %v of the median %v", ErrDisagree, agree, len(samples), MaxDisagree, med)
	}
	c.offset.Store(int64(med))
	c.synced.Store(true)
	c.status.Store(&ClockStatus{Offset: med, Cells: len(samples), Agreeing: agree, Bound: bound, At: c.host().Add(med)})
	return nil
}

// combine returns the median offset of samples, how many lie within
// MaxDisagree of it, and the largest delay/2 among those.
func combine(samples []Sample) (med time.Duration, agree int, bound time.Duration) {
	offsets := make([]time.Duration, len(samples))
	for i, s := range samples {
		offsets[i] = s.Offset
	}
	med = Median(offsets)
	for _, s := range samples {
		if d := s.Offset - med; d <= MaxDisagree && d >= -MaxDisagree {
			agree++
			bound = max(bound, s.Delay/2)
		}
	}
	return med, agree, bound
}
