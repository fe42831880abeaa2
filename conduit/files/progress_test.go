package files

import (
	"testing"
	"time"
)

func TestMeter(t *testing.T) {
	now := time.Unix(1000, 0)
	clock := func() time.Time { return now }
	m := NewMeter(100<<20, clock)
	steps := []struct {
		after    time.Duration
		done     int64
		rate     float64 // MB/s wanted, ±1%
		etaKnown bool
	}{
		{0, 0, 0, false},
		{500 * time.Millisecond, 5 << 20, 10.49, true},  // average so far before the first window
		{500 * time.Millisecond, 10 << 20, 10.49, true}, // first full window
		{time.Second, 30 << 20, 0.7*10.49 + 0.3*20.97, true},
		{3 * time.Second, 30 << 20, 0.7*(0.7*10.49+0.3*20.97) + 0, true}, // a stall pulls the rate down
	}
	for i, s := range steps {
		now = now.Add(s.after)
		p := m.Update(s.done)
		if got := p.Rate / 1e6; got < s.rate*0.99 || got > s.rate*1.01+1e-9 {
			t.Fatalf("step %d: rate %.3f MB/s, want %.3f", i, got, s.rate)
		}
		if (p.ETA >= 0) != s.etaKnown {
			t.Fatalf("step %d: ETA %v, known = %v", i, p.ETA, s.etaKnown)
		}
		if s.etaKnown && p.Rate > 0 {
			want := time.Duration(float64(p.Total-p.Done) / p.Rate * float64(time.Second))
			if d := p.ETA - want; d < -time.Millisecond || d > time.Millisecond {
				t.Fatalf("step %d: ETA %v, want %v", i, p.ETA, want)
			}
		}
	}
	if p := m.Update(100 << 20); p.ETA != 0 || p.Done != p.Total {
		t.Fatalf("finished transfer: %+v", p)
	}
}

func TestMeterResume(t *testing.T) {
	now := time.Unix(0, 0)
	m := NewMeter(10<<20, func() time.Time { return now })
	m.Resume(8 << 20) // already there: not part of the rate
	now = now.Add(time.Second)
	if p := m.Update(9 << 20); p.Rate != 1<<20 || p.ETA != time.Second {
		t.Fatalf("resumed: %+v, want 1 MiB/s and 1 s left", p)
	}
}
