package ledger

import (
	"crypto/sha256"
	"sync"
)

// sigCache remembers transfer signatures this node has verified, so a
// transfer checked when it was submitted here is not checked again when
// its block arrives. The key is SHA-256(id ‖ signature): the id covers the
// sender's key and every signed field, so a hit is the same signature over
// the same bytes by the same key. At most max entries, oldest dropped.
type sigCache struct {
	mu   sync.Mutex
	m    map[Hash]struct{}
	ring []Hash
	next int
	max  int
}

func newSigCache(max int) *sigCache { return &sigCache{m: make(map[Hash]struct{}), max: max} }

func sigKey(id Hash, sig Sig) Hash {
	h := sha256.New()
	h.Write(id[:])
	h.Write(sig)
	var k Hash
	h.Sum(k[:0])
	return k
}

func (c *sigCache) has(id Hash, sig Sig) bool {
	if c == nil {
		return false
	}
	k := sigKey(id, sig)
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.m[k]
	return ok
}

func (c *sigCache) add(id Hash, sig Sig) {
	if c == nil {
		return
	}
	k := sigKey(id, sig)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; ok {
		return
	}
	if len(c.ring) < c.max {
		c.ring = append(c.ring, k)
	} else {
		delete(c.m, c.ring[c.next])
		c.ring[c.next] = k
		c.next = (c.next + 1) % c.max
	}
	c.m[k] = struct{}{}
}
