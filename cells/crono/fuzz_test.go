package crono

import (
	"errors"
	"math"
	"testing"
	"time"
)

func seedBodies(f *testing.F) {
	for _, s := range []string{
		`{"t1":1700000000000000000}`, `{"t1":1,"t2":2,"t3":3}`, `{"t3":3,"t2":2,"t1":1}`,
		`{"t1":4611686018427387904}`, `{"t1":-1}`, `{"t1":1e3}`, `{"t1":1,"t1":1}`,
		`{"T1":1}`, `{"t1":1}{}`, `{}`, `null`, `[]`, `{"t1":{"t2":[3]}}`, ``,
	} {
		f.Add([]byte(s))
	}
}

func FuzzDecodeTimeRequest(f *testing.F) {
	seedBodies(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		t1, err := DecodeTimeRequest(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
			}
			return
		}
		if !validTime(t1) || len(b) > MaxBody {
			t.Fatalf("accepted t1 %d from %q", t1, b)
		}
		// What is accepted survives a round trip unchanged.
		if again, err := DecodeTimeRequest(mustJSON(TimeRequest{T1: t1})); err != nil || again != t1 {
			t.Fatalf("round trip: %d %v", again, err)
		}
	})
}

func FuzzDecodeTimeReply(f *testing.F) {
	seedBodies(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeTimeReply(b, 1)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
			}
			return
		}
		if r.T1 != 1 || r.T3 < r.T2 || !validTime(r.T2) || !validTime(r.T3) {
			t.Fatalf("accepted %+v from %q", r, b)
		}
		if again, err := DecodeTimeReply(mustJSON(r), 1); err != nil || again != r {
			t.Fatalf("round trip: %+v %v", again, err)
		}
	})
}

func FuzzMeasure(f *testing.F) {
	f.Add(int64(1), int64(2), int64(3), int64(4))
	f.Add(base, base+5, base+9, base+20)
	f.Add(int64(1), MaxTime, MaxTime, int64(1))
	f.Add(int64(-1), int64(0), MaxTime+1, int64(math.MaxInt64))
	f.Fuzz(func(t *testing.T, t1, t2, t3, t4 int64) {
		s, err := Measure(t1, t2, t3, t4)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
			}
			return
		}
		if s.Delay < 0 {
			t.Fatalf("negative delay %v", s.Delay)
		}
		// θ ± δ/2 must cover both one-way readings t2−t1 and t3−t4 (the
		// bounds of the offset when one path takes no time).
		lo, hi := s.Offset-s.Delay/2-1, s.Offset+s.Delay/2+1
		if a, b := nsDur(t3-t4), nsDur(t2-t1); a < lo || b > hi {
			t.Fatalf("%+v does not cover [%v, %v]", s, a, b)
		}
	})
}

func nsDur(ns int64) time.Duration { return time.Duration(ns) }
