package crono

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"
)

// CellName is the cell type this package serves (peer.CronoCell).
const CellName = "cronoTreeCell"

// Request types: the receptor (client → cell) type first, then the
// node-to-node ones.
const (
	// TypeTime asks a cell for its network time (client → cell).
	TypeTime = "crono.time"
	// TypePeerTime asks a node for its host clock (node → node).
	TypePeerTime = "crono.peertime"
	// TypeHello is the member announcement of the crono tree (roster).
	TypeHello = "crono.hello"
)

// Limits.
const (
	// MaxBody bounds a request or answer body; the largest valid answer
	// is about 80 bytes.
	MaxBody = 256
	// MaxTime is the largest timestamp accepted, in Unix nanoseconds
	// (2^62 ns, in the year 2116). Timestamps are 1..MaxTime.
	MaxTime = int64(1) << 62
	// MaxDelay is the largest round-trip delay of a usable sample: its
	// offset is known to ±delay/2, so a slower exchange says too little.
	MaxDelay = time.Second
	// MaxOffset is the largest offset believed. A clock further off than
	// an hour from the others is broken, not early or late: its samples
	// are logged and ignored.
	MaxOffset = time.Hour
	// MaxDisagree is how far from the median of the cells a client asked a
	// cell's offset may lie and still count as agreeing (two samples
	// within MaxDelay each differ by at most MaxDelay from the truth
	// between them).
	MaxDisagree = time.Second
)

// TimeRequest is the body of crono.time and crono.peertime: the asker's
// send time T1 in Unix nanoseconds, read from its host clock.
type TimeRequest struct {
	T1 int64 `json:"t1"`
}

// TimeReply answers a time request: T1 echoed, T2 the answerer's receive
// time and T3 its send time, Unix nanoseconds. For crono.time T2 and T3
// are the cell's network time; for crono.peertime its host clock.
type TimeReply struct {
	T1 int64 `json:"t1"`
	T2 int64 `json:"t2"`
	T3 int64 `json:"t3"`
}

// Sample is the result of one four-timestamp exchange.
type Sample struct {
	// Offset θ is the answerer's clock minus the asker's: add it to the
	// asker's clock to read the answerer's. Its error is at most Delay/2.
	Offset time.Duration
	// Delay δ is the round trip less the answerer's processing time.
	Delay time.Duration
}

// Measure computes the sample of an exchange from its four timestamps
// (Unix ns): t1 the asker's send, t2 the answerer's receive, t3 the
// answerer's send, t4 the asker's receive, with t1, t4 on the asker's
// clock and t2, t3 on the answerer's:
//
//	θ = ((t2−t1) + (t3−t4)) / 2     δ = (t4−t1) − (t3−t2)
//
// It refuses (ErrMalformed) timestamps outside 1..MaxTime, t3 before t2,
// t4 before t1 and a negative delay: none is possible on clocks that only
// move forward. The limits of use (MaxDelay, MaxOffset) are Check's.
func Measure(t1, t2, t3, t4 int64) (Sample, error) {
	for _, t := range []int64{t1, t2, t3, t4} {
		if !validTime(t) {
			return Sample{}, fmt.Errorf("%w: timestamp %d outside 1..%d", ErrMalformed, t, MaxTime)
		}
	}
	if t3 < t2 || t4 < t1 {
		return Sample{}, fmt.Errorf("%w: a clock went backwards within the exchange", ErrMalformed)
	}
	// Every difference lies within ±2^62, so no sum below overflows.
	a, b := t2-t1, t3-t4
	delay := (t4 - t1) - (t3 - t2)
	if delay < 0 {
		return Sample{}, fmt.Errorf("%w: negative delay %d ns", ErrMalformed, delay)
	}
	return Sample{Offset: time.Duration(a/2 + b/2 + (a%2+b%2)/2), Delay: time.Duration(delay)}, nil
}

// Check reports whether the sample may be used: its delay at most MaxDelay
// (ErrSlow) and its offset within ±MaxOffset (ErrAbsurd).
func (s Sample) Check() error {
	switch {
	case s.Delay > MaxDelay:
		return fmt.Errorf("%w: delay %v, limit %v", ErrSlow, s.Delay, MaxDelay)
	case s.Offset > MaxOffset || s.Offset < -MaxOffset:
		return fmt.Errorf("%w: offset %v, limit ±%v", ErrAbsurd, s.Offset, MaxOffset)
	}
	return nil
}

// Intersect narrows samples of one peer's clock taken close together in
// time: the true offset lies in every sample's interval θ ± δ/2, so it lies
// in their intersection [lo, hi]. The result is that intersection as a
// sample: Offset its middle, Delay its width (so the error bound is again
// Delay/2). Its error is half the difference between the quickest request
// path and the quickest answer path seen, each minimum taken on its own, so
// it is far tighter than the best single sample when the delays vary. It
// reports false for no samples or an empty intersection (a clock stepped,
// or an answer lied).
func Intersect(samples []Sample) (Sample, bool) {
	if len(samples) == 0 {
		return Sample{}, false
	}
	lo, hi := samples[0].Offset-samples[0].Delay/2, samples[0].Offset+samples[0].Delay/2
	for _, s := range samples[1:] {
		lo, hi = max(lo, s.Offset-s.Delay/2), min(hi, s.Offset+s.Delay/2)
	}
	if lo > hi {
		return Sample{}, false
	}
	return Sample{Offset: lo + (hi-lo)/2, Delay: hi - lo}, true
}

// Estimate combines samples of one peer: their Intersect, or, when they do
// not intersect, the sample of lowest delay. It reports false for none.
func Estimate(samples []Sample) (Sample, bool) {
	if s, ok := Intersect(samples); ok {
		return s, true
	}
	if len(samples) == 0 {
		return Sample{}, false
	}
	return slices.MinFunc(samples, func(a, b Sample) int { return cmp.Compare(a.Delay, b.Delay) }), true
}

// Median returns the median of xs (the mean of the middle two for an even
// count; 0 for none). xs is not changed.
func Median(xs []time.Duration) time.Duration {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	lo, hi := s[m-1], s[m]
	return lo/2 + hi/2 + (lo%2+hi%2)/2 // no overflow, unlike (lo+hi)/2
}

func validTime(t int64) bool { return t >= 1 && t <= MaxTime }

// DecodeTimeRequest parses a crono.time or crono.peertime body: exactly
// {"t1":n} with n an integer in 1..MaxTime.
func DecodeTimeRequest(b []byte) (int64, error) {
	v, err := decodeInts(b, "t1")
	if err != nil {
		return 0, err
	}
	return v[0], nil
}

// DecodeTimeReply parses the answer to a time request whose T1 was t1:
// exactly {"t1","t2","t3"} as integers in 1..MaxTime, t1 the one sent, t3
// not before t2.
func DecodeTimeReply(b []byte, t1 int64) (TimeReply, error) {
	v, err := decodeInts(b, "t1", "t2", "t3")
	if err != nil {
		return TimeReply{}, err
	}
	r := TimeReply{T1: v[0], T2: v[1], T3: v[2]}
	switch {
	case r.T1 != t1:
		return TimeReply{}, fmt.Errorf("%w: answer for t1 %d, sent %d", ErrMalformed, r.T1, t1)
	case r.T3 < r.T2:
		return TimeReply{}, fmt.Errorf("%w: t3 before t2", ErrMalformed)
	}
	return r, nil
}

// decodeInts decodes a flat JSON object whose members are exactly names,
// each once, each an integer in 1..MaxTime, in any order; nothing may
// follow it. Names match exactly (encoding/json would fold case), and a
// repeated member is refused (encoding/json would keep the last).
func decodeInts(b []byte, names ...string) ([]int64, error) {
	if len(b) > MaxBody {
		return nil, fmt.Errorf("%w: body of %d bytes, limit %d", ErrMalformed, len(b), MaxBody)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("%w: not a JSON object", ErrMalformed)
	}
	out := make([]int64, len(names))
	seen := make([]bool, len(names))
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		name, _ := tok.(string) // a key is always a string
		i := slices.Index(names, name)
		if i < 0 {
			return nil, fmt.Errorf("%w: unknown member %q", ErrMalformed, name)
		}
		if seen[i] {
			return nil, fmt.Errorf("%w: member %q twice", ErrMalformed, name)
		}
		seen[i] = true
		tok, err = dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		num, ok := tok.(json.Number)
		if !ok {
			return nil, fmt.Errorf("%w: %q is not a number", ErrMalformed, name)
		}
		v, err := strconv.ParseInt(string(num), 10, 64)
		if err != nil || !validTime(v) {
			return nil, fmt.Errorf("%w: %q is not an integer in 1..%d", ErrMalformed, name, MaxTime)
		}
		out[i] = v
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, fmt.Errorf("%w: object not closed", ErrMalformed)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: bytes after the object", ErrMalformed)
	}
	for i, ok := range seen {
		if !ok {
			return nil, fmt.Errorf("%w: member %q missing", ErrMalformed, names[i])
		}
	}
	return out, nil
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only our own fixed types are encoded
	}
	return b
}
