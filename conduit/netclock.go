package conduit

import (
	"sync/atomic"
	"time"
)

// NetClock is network time for a node or a conduit: the host clock plus an
// offset that a crono server or client keeps agreed with the network. The
// host clock is only read, never set. Until an offset source is attached
// it is the host clock.
type NetClock struct {
	host   func() time.Time
	offset atomic.Pointer[func() time.Duration]
}

// NewNetClock returns a network clock over host (nil: time.Now).
func NewNetClock(host func() time.Time) *NetClock {
	if host == nil {
		host = time.Now
	}
	return &NetClock{host: host}
}

// Follow makes offset (relative to the host clock) the clock's offset.
func (c *NetClock) Follow(offset func() time.Duration) { c.offset.Store(&offset) }

// Host is the host clock.
func (c *NetClock) Host() time.Time { return c.host() }

// Offset is the network offset now applied.
func (c *NetClock) Offset() time.Duration {
	if f := c.offset.Load(); f != nil {
		return (*f)()
	}
	return 0
}

// Now is network time.
func (c *NetClock) Now() time.Time { return c.host().Add(c.Offset()) }
