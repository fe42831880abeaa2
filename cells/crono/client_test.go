package crono

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/borgios/borghui/peer/transport"
)

// fakeCell answers crono.time from the real clock shifted by off, the way
// a cell whose network time is off the real time would.
type fakeCell struct {
	off   time.Duration
	err   error                  // every call fails with it
	mess  func(TimeReply) []byte // garbles the answer
	calls atomic.Int32
}

func (f *fakeCell) Call(_ context.Context, typ string, body []byte) ([]byte, error) {
	f.calls.Add(1)
	if f.err != nil {
		return nil, f.err
	}
	if typ != TypeTime {
		return nil, &transport.RemoteError{Code: "unknown-type", Message: typ}
	}
	t1, err := DecodeTimeRequest(body)
	if err != nil {
		return nil, remote(err)
	}
	now := time.Now().Add(f.off).UnixNano()
	r := TimeReply{T1: t1, T2: now, T3: now}
	if f.mess != nil {
		return f.mess(r), nil
	}
	return mustJSON(r), nil
}

func cells(offs ...time.Duration) []Caller {
	out := make([]Caller, len(offs))
	for i, o := range offs {
		out[i] = &fakeCell{off: o}
	}
	return out
}

func TestClockSync(t *testing.T) {
	s, ms := time.Second, time.Millisecond
	down := &fakeCell{err: transport.ErrUnreachable}
	liar := &fakeCell{mess: func(r TimeReply) []byte { r.T1++; return mustJSON(r) }}
	backwards := &fakeCell{mess: func(r TimeReply) []byte { r.T3 = r.T2 - 1; return mustJSON(r) }}
	for _, c := range []struct {
		name    string
		skew    time.Duration // host clock − real
		callers []Caller
		want    time.Duration // network − real
		cells   int
		err     error
	}{
		{"three agreeing cells", 20 * s, cells(0, 2*ms, -ms), 0, 3, nil},
		{"host behind", -45 * s, cells(0, 0, 0), 0, 3, nil},
		{"one cell is believed", 0, cells(3 * s), 3 * s, 1, nil},
		{"two agreeing cells", 0, cells(s, s+100*ms), s + 50*ms, 2, nil},
		{"one liar among three", 0, cells(0, ms, 10*time.Minute), ms, 3, nil},
		{"an absurd cell is not counted", 0, cells(0, ms, 2*time.Hour), 500 * time.Microsecond, 2, nil},
		{"a down cell is passed over", 0, []Caller{down, &fakeCell{}, &fakeCell{off: ms}}, 500 * time.Microsecond, 2, nil},
		{"a lying echo is passed over", 0, []Caller{liar, &fakeCell{}, &fakeCell{}}, 0, 2, nil},
		{"a malformed answer is passed over", 0, []Caller{backwards, &fakeCell{}, &fakeCell{}}, 0, 2, nil},
		{"no majority", 0, cells(0, 5*s, 10*s), 0, 0, ErrDisagree},
		{"two disagreeing", 0, cells(0, 5*s), 0, 0, ErrDisagree},
		{"no cell answers", 0, []Caller{down, down}, 0, 0, ErrNoAnswer},
		{"every cell absurd", 0, cells(2*time.Hour, 3*time.Hour), 0, 0, ErrNoAnswer},
		{"no cells", 0, nil, 0, 0, ErrNoAnswer},
	} {
		t.Run(c.name, func(t *testing.T) {
			clk := NewClock(c.callers, skewed(c.skew))
			err := clk.Sync(context.Background())
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Fatalf("sync: %v, want %v", err, c.err)
				}
				if clk.Synced() || clk.Offset() != 0 || clk.Status() != (ClockStatus{}) {
					t.Fatal("a failed sync changed the clock")
				}
				if d := time.Until(clk.Now()) - c.skew; abs(d) > 50*ms {
					t.Fatalf("unsynced, Now is not the host clock: %v", d)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !clk.Synced() {
				t.Fatal("not synced")
			}
			// Fake cells answer at once: the error is a few µs, plus
			// scheduling on a busy machine.
			if d := time.Until(clk.Now()) - c.want; abs(d) > 50*ms {
				t.Fatalf("network − real is %v off %v", d, c.want)
			}
			if d := clk.Offset() - (c.want - c.skew); abs(d) > 50*ms {
				t.Fatalf("offset %v, want about %v", clk.Offset(), c.want-c.skew)
			}
			st := clk.Status()
			if st.Cells != c.cells || st.Agreeing*2 <= st.Cells || st.Offset != clk.Offset() || st.At.IsZero() || st.Bound > 50*ms {
				t.Fatalf("status %+v", st)
			}
		})
	}
}

func TestClockKeepsOffsetOnFailure(t *testing.T) {
	good := &fakeCell{off: 5 * time.Second}
	clk := NewClock([]Caller{good}, nil)
	if err := clk.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	before := clk.Offset()
	clk.SetCallers([]Caller{&fakeCell{err: transport.ErrUnreachable}})
	if err := clk.Sync(context.Background()); !errors.Is(err, ErrNoAnswer) || !errors.Is(err, transport.ErrUnreachable) {
		t.Fatalf("sync: %v", err)
	}
	if !clk.Synced() || clk.Offset() != before {
		t.Fatal("a failed sync lost the offset")
	}
}

func TestClockSyncCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c := &fakeCell{err: context.Canceled}
	clk := NewClock([]Caller{c}, nil)
	if err := clk.Sync(ctx); !errors.Is(err, ErrNoAnswer) || !errors.Is(err, context.Canceled) {
		t.Fatalf("sync: %v", err)
	}
	if c.calls.Load() != 1 {
		t.Fatalf("%d calls after a failure, want 1", c.calls.Load())
	}
}

func TestClientExchange(t *testing.T) {
	cl := NewClient(&fakeCell{off: -3 * time.Second}, nil)
	s, err := cl.Exchange(context.Background())
	if err != nil || abs(s.Offset+3*time.Second) > 50*time.Millisecond || s.Delay < 0 {
		t.Fatalf("%+v %v", s, err)
	}
	e, err := cl.Estimate(context.Background(), 0)
	if err != nil || abs(e.Offset+3*time.Second) > 50*time.Millisecond {
		t.Fatalf("%+v %v", e, err)
	}
	for _, c := range []struct {
		name string
		cell *fakeCell
		want error
	}{
		{"refused as malformed", &fakeCell{err: &transport.RemoteError{Code: CodeMalformed}}, ErrMalformed},
		{"closed", &fakeCell{err: &transport.RemoteError{Code: CodeClosed}}, ErrClosed},
		{"unreachable", &fakeCell{err: transport.ErrUnreachable}, transport.ErrUnreachable},
		{"wrong echo", &fakeCell{mess: func(r TimeReply) []byte { r.T1 = 5; return mustJSON(r) }}, ErrMalformed},
		{"garbage", &fakeCell{mess: func(TimeReply) []byte { return []byte("<html>") }}, ErrMalformed},
		{"absurd", &fakeCell{off: 3 * time.Hour}, ErrAbsurd},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewClient(c.cell, nil).Exchange(context.Background())
			if !errors.Is(err, c.want) {
				t.Fatalf("%v, want %v", err, c.want)
			}
			if _, err := NewClient(c.cell, nil).Estimate(context.Background(), 3); !errors.Is(err, c.want) {
				t.Fatalf("estimate: %v, want %v", err, c.want)
			}
		})
	}
	// A host clock that answers slowly: the sample is refused as slow.
	var n atomic.Int64
	slowHost := func() time.Time {
		// t1 then t4 two seconds later.
		return time.Unix(0, base+n.Add(1)*int64(2*time.Second))
	}
	slow := &fakeCell{mess: func(r TimeReply) []byte {
		r.T2, r.T3 = r.T1+int64(time.Second), r.T1+int64(time.Second)
		return mustJSON(r)
	}}
	if _, err := NewClient(slow, slowHost).Exchange(context.Background()); !errors.Is(err, ErrSlow) {
		t.Fatalf("slow: %v", err)
	}
	// A host clock that reads before 1970 cannot take part.
	if _, err := NewClient(&fakeCell{}, func() time.Time { return time.Unix(-5, 0) }).Exchange(context.Background()); !errors.Is(err, ErrMalformed) {
		t.Fatalf("pre-1970 host: %v", err)
	}
}
