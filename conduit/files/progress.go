package files

import "time"

// Progress is how far a transfer is, for the UI and the command line.
type Progress struct {
	Done  int64         `json:"done"`  // plaintext bytes transferred
	Total int64         `json:"total"` // plaintext bytes in all
	Rate  float64       `json:"rate"`  // bytes per second, smoothed
	ETA   time.Duration `json:"eta"`   // time left at Rate; -1 when unknown
}

// A Meter turns growing byte counts into Progress: the rate is an
// exponential moving average over windows of about a second (so a stall
// shows within seconds, a burst does not swing the ETA), with the clock
// injected for tests. Not safe for concurrent use.
type Meter struct {
	total   int64
	now     func() time.Time
	start   time.Time
	mark    time.Time // start of the current window
	markAt  int64     // bytes done at mark
	rate    float64
	settled bool // rate holds at least one full window
}

// meterWindow is the length of one rate sample; meterWeight the weight of
// the newest sample in the average.
const (
	meterWindow = time.Second
	meterWeight = 0.3
)

// NewMeter returns a meter for a transfer of total bytes (now nil = time.Now).
func NewMeter(total int64, now func() time.Time) *Meter {
	if now == nil {
		now = time.Now
	}
	t := now()
	return &Meter{total: total, now: now, start: t, mark: t}
}

// Resume says that done bytes were there before the meter started (a
// resumed transfer): they count as done, not towards the rate.
func (m *Meter) Resume(done int64) { m.markAt = done }

// Update records that done bytes are transferred and returns the progress.
func (m *Meter) Update(done int64) Progress {
	t := m.now()
	if el := t.Sub(m.mark); el >= meterWindow {
		sample := float64(done-m.markAt) / el.Seconds()
		if m.settled {
			m.rate = meterWeight*sample + (1-meterWeight)*m.rate
		} else {
			m.rate, m.settled = sample, true
		}
		m.mark, m.markAt = t, done
	}
	rate := m.rate
	if !m.settled { // before the first window: the average so far
		if el := t.Sub(m.start).Seconds(); el > 0 {
			rate = float64(done-m.markAt) / el
		}
	}
	p := Progress{Done: done, Total: m.total, Rate: rate, ETA: -1}
	switch {
	case done >= m.total:
		p.ETA = 0
	case rate > 0:
		p.ETA = time.Duration(float64(m.total-done) / rate * float64(time.Second))
	}
	return p
}
