package signer

import (
	"errors"
	"testing"
)

// signedBatch returns n signed requests from k with distinct nonces at ts.
func signedBatch(t testing.TB, k Key, n int, ts int64) []*Envelope {
	t.Helper()
	out := make([]*Envelope, n)
	r := &counterReader{}
	for i := range out {
		out[i] = &Envelope{Cell: "c", Type: "t", Recipient: "r", Timestamp: ts}
		if err := Sign(k, out[i], nil, r); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func TestReplayCacheCap(t *testing.T) {
	k := mustKey(t, privOne)
	c := newClock(t0)
	v := newTestVerifier(c, 4)
	msgs := signedBatch(t, k, 6, t0)
	for i := range 4 {
		if err := v.Verify(msgs[i], nil, Expect{}); err != nil {
			t.Fatalf("msg %d: %v", i, err)
		}
	}
	if err := v.Verify(msgs[4], nil, Expect{}); !errors.Is(err, ErrReplayCacheFull) {
		t.Fatalf("5th message: %v, want ErrReplayCacheFull", err)
	}
	// A replay is still reported as a replay when the cache is full.
	if err := v.Verify(msgs[0], nil, Expect{}); !errors.Is(err, ErrReplay) {
		t.Fatalf("replay when full: %v, want ErrReplay", err)
	}
	if n := v.replay.len(); n != 4 {
		t.Fatalf("cache holds %d entries, want 4", n)
	}
	// Once the window has moved past the old entries they are evicted and
	// new messages fit again.
	c.set(t0 + 60_001)
	fresh := signedBatch(t, mustKey(t, privA1), 1, t0+60_001)[0]
	if err := v.Verify(fresh, nil, Expect{}); err != nil {
		t.Fatalf("after the window moved: %v", err)
	}
	if n := v.replay.len(); n != 1 {
		t.Fatalf("cache holds %d entries after eviction, want 1", n)
	}
}

func TestReplayEviction(t *testing.T) {
	k := mustKey(t, privOne)
	c := newClock(t0)
	v := newTestVerifier(c, 0)
	old := signedBatch(t, k, 3, t0-30_000)
	future := signedBatch(t, mustKey(t, privA1), 1, t0+50_000)[0]
	for _, m := range append(old, future) {
		if err := v.Verify(m, nil, Expect{}); err != nil {
			t.Fatal(err)
		}
	}
	// At t0+30_000 the old entries (t0-30_000) are at the window's edge:
	// still fresh, still remembered.
	c.set(t0 + 30_000)
	if err := v.Verify(old[0], nil, Expect{}); !errors.Is(err, ErrReplay) {
		t.Fatalf("at the edge: %v, want ErrReplay", err)
	}
	// One ms later they are stale and evicted on the next insert; the
	// future-dated entry stays until it too leaves the window.
	c.set(t0 + 30_001)
	trigger := signedBatch(t, mustKey(t, privA1), 1, t0+30_001)
	trigger[0].Nonce[0] = 0xee
	if err := Sign(mustKey(t, privA1), trigger[0], nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := v.Verify(trigger[0], nil, Expect{}); err != nil {
		t.Fatal(err)
	}
	if n := v.replay.len(); n != 2 {
		t.Fatalf("entries after eviction = %d, want 2 (future + trigger)", n)
	}
	if err := v.Verify(old[1], nil, Expect{}); !errors.Is(err, ErrStale) {
		t.Fatalf("evicted message: %v, want ErrStale", err)
	}
	if err := v.Verify(future, nil, Expect{}); !errors.Is(err, ErrReplay) {
		t.Fatalf("future-dated replay: %v, want ErrReplay", err)
	}
}

// TestReplayClockStepBack: a network clock that steps back must not revive
// a message whose replay entry was evicted.
func TestReplayClockStepBack(t *testing.T) {
	k := mustKey(t, privOne)
	c := newClock(t0)
	v := newTestVerifier(c, 0)
	m := signedBatch(t, k, 1, t0)[0]
	if err := v.Verify(m, nil, Expect{}); err != nil {
		t.Fatal(err)
	}
	c.set(t0 + 90_000) // m leaves the window; the next insert evicts it
	if err := v.Verify(signedBatch(t, mustKey(t, privA1), 1, t0+90_000)[0], nil, Expect{}); err != nil {
		t.Fatal(err)
	}
	if n := v.replay.len(); n != 1 {
		t.Fatalf("entries = %d, want 1", n)
	}
	c.set(t0 + 10_000) // clock corrected backwards: m would look fresh again
	if err := v.Verify(m, nil, Expect{}); !errors.Is(err, ErrStale) {
		t.Fatalf("replay after step back: %v, want ErrStale", err)
	}
}

func TestReplayBoundedMemory(t *testing.T) {
	// Many messages over a long time: the cache never holds more than the
	// messages of one window.
	k := mustKey(t, privOne)
	c := newClock(t0)
	v := newTestVerifier(c, 0)
	r := &counterReader{}
	const perStep, steps, stepMS = 5, 40, 10_000
	for s := range steps {
		now := t0 + int64(s)*stepMS
		c.set(now)
		for range perStep {
			e := &Envelope{Cell: "c", Type: "t", Recipient: "r", Timestamp: now}
			if err := Sign(k, e, nil, r); err != nil {
				t.Fatal(err)
			}
			if err := v.Verify(e, nil, Expect{}); err != nil {
				t.Fatal(err)
			}
		}
		// entries with ts >= now-60s: 7 steps of perStep at most
		if n := v.replay.len(); n > 7*perStep {
			t.Fatalf("step %d: %d entries", s, n)
		}
	}
}
