package crono

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const base = int64(1_700_000_000_000_000_000) // 2023-11-14, Unix ns

// timestamps builds the four timestamps of an exchange whose answerer's
// clock is off the asker's by off, with one-way times up and down and the
// answerer busy for proc.
func timestamps(off, up, down, proc time.Duration) (t1, t2, t3, t4 int64) {
	t1 = base
	t2 = t1 + int64(up) + int64(off)
	t3 = t2 + int64(proc)
	t4 = t1 + int64(up+proc+down)
	return
}

func TestMeasure(t *testing.T) {
	ms := time.Millisecond
	for _, c := range []struct {
		name                string
		off, up, down, proc time.Duration
	}{
		{"same clock, symmetric", 0, 5 * ms, 5 * ms, ms},
		{"answerer ahead", 30 * time.Second, 20 * ms, 20 * ms, 2 * ms},
		{"answerer behind", -12 * time.Second, 3 * ms, 3 * ms, 0},
		{"slow request path", 0, 30 * ms, 10 * ms, ms},
		{"slow answer path", 5 * time.Second, 1 * ms, 40 * ms, ms},
		{"instant", -time.Hour, 0, 0, 0},
		{"odd nanoseconds", 7, 3, 4, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := Measure(timestamps(c.off, c.up, c.down, c.proc))
			if err != nil {
				t.Fatal(err)
			}
			if want := c.up + c.down; s.Delay != want {
				t.Errorf("delay %v, want %v", s.Delay, want)
			}
			// θ is off plus half the path asymmetry, within δ/2 of off.
			if want := c.off + (c.up-c.down)/2; abs(s.Offset-want) > 1 {
				t.Errorf("offset %v, want %v", s.Offset, want)
			}
			if abs(s.Offset-c.off) > s.Delay/2+1 {
				t.Errorf("offset %v is further than δ/2 = %v from the truth %v", s.Offset, s.Delay/2, c.off)
			}
		})
	}
}

func TestMeasureRefusesImpossible(t *testing.T) {
	for _, c := range []struct {
		name           string
		t1, t2, t3, t4 int64
	}{
		{"t3 before t2", base, base + 10, base + 5, base + 20},
		{"t4 before t1", base, base, base, base - 1},
		{"negative delay", base, base + 10, base + 40, base + 20},
		{"zero", 0, base, base, base},
		{"negative", base, -5, base, base},
		{"past MaxTime", base, MaxTime + 1, MaxTime + 1, base + 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			if s, err := Measure(c.t1, c.t2, c.t3, c.t4); !errors.Is(err, ErrMalformed) {
				t.Fatalf("got %+v, %v", s, err)
			}
		})
	}
	// The extremes of the range do not overflow.
	if s, err := Measure(1, MaxTime, MaxTime, 1); err != nil || s.Offset != time.Duration(MaxTime-1) || s.Delay != 0 {
		t.Fatalf("extremes: %+v %v", s, err)
	}
	if s, err := Measure(MaxTime, 1, 1, MaxTime); err != nil || s.Offset != -time.Duration(MaxTime-1) {
		t.Fatalf("extremes: %+v %v", s, err)
	}
}

func TestSampleCheck(t *testing.T) {
	for _, c := range []struct {
		s    Sample
		want error
	}{
		{Sample{Offset: time.Minute, Delay: time.Millisecond}, nil},
		{Sample{Offset: -MaxOffset, Delay: MaxDelay}, nil},
		{Sample{Offset: 0, Delay: MaxDelay + 1}, ErrSlow},
		{Sample{Offset: MaxOffset + 1}, ErrAbsurd},
		{Sample{Offset: -2 * time.Hour}, ErrAbsurd},
	} {
		if err := c.s.Check(); !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Errorf("%+v: %v, want %v", c.s, err, c.want)
		}
	}
}

func TestMedian(t *testing.T) {
	s, h := time.Second, time.Hour
	for _, c := range []struct {
		name string
		in   []time.Duration
		want time.Duration
	}{
		{"none", nil, 0},
		{"one", []time.Duration{7 * s}, 7 * s},
		{"odd", []time.Duration{30 * s, -10 * s, 0, 12 * s, -30 * s}, 0},
		{"even: mean of the middle two", []time.Duration{-2 * s, -1 * s, 1 * s, 4 * s}, 0},
		{"one wild clock among five", []time.Duration{0, 1 * s, 2 * s, 3 * s, 2 * h}, 2 * s},
		{"two wild clocks among five", []time.Duration{0, 1 * s, 2 * s, -2 * h, 3 * h}, 1 * s},
		{"minority cannot pass the honest range", []time.Duration{0, 0, 0, 10 * h, 10 * h}, 0},
		{"odd nanoseconds", []time.Duration{1, 2}, 1},
		{"no overflow", []time.Duration{1<<63 - 1, 1<<63 - 1}, 1<<63 - 1},
		{"no overflow, negative", []time.Duration{-1 << 63, -1 << 63}, -1 << 63},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := append([]time.Duration(nil), c.in...)
			if got := Median(c.in); got != c.want {
				t.Fatalf("median %v, want %v", got, c.want)
			}
			for i := range in {
				if in[i] != c.in[i] {
					t.Fatal("Median changed its input")
				}
			}
		})
	}
}

func TestIntersectAndEstimate(t *testing.T) {
	ms := time.Millisecond
	// True offset 10 ms; each sample's interval contains it.
	var ss []Sample
	for _, p := range [][2]time.Duration{{8 * ms, 1 * ms}, {1 * ms, 9 * ms}, {3 * ms, 3 * ms}} {
		s, err := Measure(timestamps(10*ms, p[0], p[1], 0))
		if err != nil {
			t.Fatal(err)
		}
		ss = append(ss, s)
	}
	got, ok := Intersect(ss)
	if !ok {
		t.Fatal("no intersection")
	}
	// The quickest request path (1 ms) and answer path (1 ms) bound it.
	if got.Offset != 10*ms || got.Delay != 2*ms {
		t.Fatalf("intersection %+v, want 10ms ± 1ms", got)
	}
	for _, s := range ss {
		if got.Delay > s.Delay {
			t.Fatal("the intersection is wider than a sample")
		}
	}
	if _, ok := Intersect(nil); ok {
		t.Fatal("intersection of nothing")
	}
	// Disjoint intervals: a clock stepped. Estimate falls back on the
	// lowest delay.
	apart := []Sample{{Offset: 0, Delay: 4 * ms}, {Offset: time.Second, Delay: 2 * ms}}
	if _, ok := Intersect(apart); ok {
		t.Fatal("disjoint samples intersect")
	}
	if e, ok := Estimate(apart); !ok || e != apart[1] {
		t.Fatalf("estimate %+v", e)
	}
	if e, ok := Estimate(ss); !ok || e != got {
		t.Fatalf("estimate %+v, want the intersection", e)
	}
	if _, ok := Estimate(nil); ok {
		t.Fatal("estimate of nothing")
	}
}

func TestEstimateKeptWidensOldSamples(t *testing.T) {
	now := time.Now()
	ms := time.Millisecond
	ks := []kept{
		{Sample{Offset: 0, Delay: 2 * ms}, now.Add(-8 * time.Second), 1},
		{Sample{Offset: 1500 * time.Microsecond, Delay: 2 * ms}, now, 5},
	}
	// 8 s at 100 ppm widens the old interval by 0.8 ms a side: [-1.8, 1.8]
	// meets [0.5, 2.5].
	e, ok := estimateKept(ks, now)
	if !ok || e.Offset != 1150*time.Microsecond || e.Delay != 1300*time.Microsecond {
		t.Fatalf("estimate %+v %v", e, ok)
	}
	ks[1].Offset = 5 * ms // a step: no intersection across rounds
	if _, ok := estimateKept(ks, now); ok {
		t.Fatal("stepped samples intersect")
	}
	if e, ok := estimateKept(ks[1:], now); !ok || e != ks[1].Sample {
		t.Fatalf("one round: %+v %v", e, ok)
	}
	if rounds(ks) != 2 || rounds(ks[1:]) != 1 || rounds(nil) != 0 {
		t.Fatal("rounds")
	}
}

func TestDecodeTimeRequest(t *testing.T) {
	for _, c := range []struct {
		body string
		want int64 // 0: refused
	}{
		{`{"t1":1700000000000000000}`, 1700000000000000000},
		{` { "t1" : 1 } ` + "\n", 1},
		{`{"t1":4611686018427387904}`, MaxTime},
		{``, 0},
		{`{}`, 0},
		{`null`, 0},
		{`[]`, 0},
		{`"t1"`, 0},
		{`{"t1":0}`, 0},
		{`{"t1":-1}`, 0},
		{`{"t1":-0}`, 0},
		{`{"t1":4611686018427387905}`, 0},
		{`{"t1":99999999999999999999}`, 0},
		{`{"t1":1.5}`, 0},
		{`{"t1":1e3}`, 0},
		{`{"t1":1.0}`, 0},
		{`{"t1":"123"}`, 0},
		{`{"t1":null}`, 0},
		{`{"t1":true}`, 0},
		{`{"t1":[1]}`, 0},
		{`{"t1":{"a":1}}`, 0},
		{`{"T1":1}`, 0},
		{`{"t1":1,"t2":2}`, 0},
		{`{"t1":1,"t1":2}`, 0},
		{`{"t1":01}`, 0},
		{`{"t1":1}{}`, 0},
		{`{"t1":1} x`, 0},
		{`{"t1":1}}`, 0},
		{`{"t1":1`, 0},
		{`{"t1":1,}`, 0},
		{`{"t1" 1}`, 0},
		{`{"t1":1}` + strings.Repeat(" ", MaxBody), 0},
	} {
		got, err := DecodeTimeRequest([]byte(c.body))
		switch {
		case c.want == 0 && !errors.Is(err, ErrMalformed):
			t.Errorf("%q: accepted (%d, %v)", c.body, got, err)
		case c.want != 0 && (err != nil || got != c.want):
			t.Errorf("%q: %d, %v; want %d", c.body, got, err, c.want)
		}
	}
}

func TestDecodeTimeReply(t *testing.T) {
	const t1 = 1700000000000000000
	ok := TimeReply{T1: t1, T2: t1 + 5, T3: t1 + 9}
	if got, err := DecodeTimeReply(mustJSON(ok), t1); err != nil || got != ok {
		t.Fatalf("%+v %v", got, err)
	}
	if got, err := DecodeTimeReply([]byte(`{"t3":3,"t1":1,"t2":2}`), 1); err != nil || got != (TimeReply{1, 2, 3}) {
		t.Fatalf("member order: %+v %v", got, err)
	}
	if _, err := DecodeTimeReply([]byte(`{"t1":1,"t2":2,"t3":2}`), 1); err != nil {
		t.Fatalf("t3 = t2: %v", err)
	}
	for _, body := range []string{
		`{"t1":2,"t2":2,"t3":3}`,                   // another t1
		`{"t1":1,"t2":3,"t3":2}`,                   // t3 before t2
		`{"t1":1,"t2":2}`,                          // missing
		`{"t1":1,"t2":2,"t3":3,"t4":4}`,            // unknown
		`{"t1":1,"t2":2,"t3":3,"t2":2}`,            // twice
		`{"t1":1,"t2":0,"t3":3}`,                   // zero
		`{"t1":1,"t2":-2,"t3":3}`,                  // negative
		`{"t1":1,"t2":2,"t3":1e19}`,                // exponent, huge
		`{"t1":1,"t2":2,"t3":3},`,                  // trailing
		`{"t1":1,"t2":2,"t3":3}[]`,                 // trailing
		`{"t1":1,"t2":2.0,"t3":3}`,                 // fraction
		`{"t1":1,"t2":"2","t3":3}`,                 // string
		`{"t1":1,"t2":2,"t3":9223372036854775807}`, // past MaxTime
	} {
		if r, err := DecodeTimeReply([]byte(body), 1); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: accepted %+v, %v", body, r, err)
		}
	}
}

func TestRemoteCodes(t *testing.T) {
	for _, e := range []error{ErrMalformed, ErrClosed} {
		err := fromRemote("x", remote(e))
		if !errors.Is(err, e) {
			t.Errorf("%v does not survive the wire: %v", e, err)
		}
	}
	other := errors.New("boom")
	if err := remote(other); err != other {
		t.Fatal("an uncoded error was coded")
	}
}
