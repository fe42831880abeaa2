package signer

import (
	"container/heap"
	"crypto/sha256"
	"fmt"
	"sync"
)

// replayCache remembers the (sender, nonce) pairs accepted within the
// freshness window. An entry is kept until its message's timestamp falls
// below the window's lower bound, after which the freshness check rejects
// the message on its own; memory is therefore bounded by the message rate
// times twice the window, and hard-capped by max.
type replayCache struct {
	mu   sync.Mutex
	max  int
	seen map[[32]byte]struct{}
	byTS tsHeap // the same entries, oldest timestamp first
}

type tsEntry struct {
	ts  int64
	key [32]byte
}

// replayKey is SHA-256(sender ‖ nonce): 32 bytes instead of 81 per entry.
func replayKey(e *Envelope) [32]byte {
	var b [PublicKeyLen + NonceLen]byte
	copy(b[:], e.Sender[:])
	copy(b[PublicKeyLen:], e.Nonce[:])
	return sha256.Sum256(b[:])
}

func newReplayCache(max int) *replayCache {
	return &replayCache{max: max, seen: make(map[[32]byte]struct{})}
}

// add evicts entries older than lower, then records key unless it is a
// replay, stale against lower, or the cache is full.
func (c *replayCache) add(key [32]byte, ts, lower int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.byTS) > 0 && c.byTS[0].ts < lower {
		delete(c.seen, heap.Pop(&c.byTS).(tsEntry).key)
	}
	if ts < lower {
		return fmt.Errorf("%w: window moved past timestamp %d ms", ErrStale, ts)
	}
	if _, ok := c.seen[key]; ok {
		return fmt.Errorf("%w: (sender, nonce) already seen", ErrReplay)
	}
	if len(c.seen) >= c.max {
		return fmt.Errorf("%w: %d live entries", ErrReplayCacheFull, len(c.seen))
	}
	c.seen[key] = struct{}{}
	heap.Push(&c.byTS, tsEntry{ts: ts, key: key})
	return nil
}

func (c *replayCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}

// tsHeap is a min-heap of entries by timestamp (container/heap).
type tsHeap []tsEntry

func (h tsHeap) Len() int           { return len(h) }
func (h tsHeap) Less(i, j int) bool { return h[i].ts < h[j].ts }
func (h tsHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *tsHeap) Push(x any)        { *h = append(*h, x.(tsEntry)) }
func (h *tsHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
