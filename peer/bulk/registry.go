package bulk

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
)

// active holds the transfers being served in this process, keyed by
// absolute directory and transfer id, so that two connections never write the
// same partial file and Cleanup leaves live transfers alone.
var active = struct {
	sync.Mutex
	m map[string]*slot
}{m: map[string]*slot{}}

type slot struct {
	cancel context.CancelFunc
	done   chan struct{}
}

func activeKey(dir, idHex string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return filepath.Join(dir, idHex)
}

// acquire registers a transfer. An older connection serving the same id is
// told to stop (its cancel is called) and waited for: the newest offer wins,
// which is what a sender re-dialing after a half-dead connection needs.
func acquire(ctx context.Context, key string, cancel context.CancelFunc) (release func(), err error) {
	for {
		active.Lock()
		old := active.m[key]
		if old == nil {
			s := &slot{cancel: cancel, done: make(chan struct{})}
			active.m[key] = s
			active.Unlock()
			return func() {
				active.Lock()
				delete(active.m, key)
				active.Unlock()
				close(s.done)
			}, nil
		}
		active.Unlock()
		old.cancel()
		select {
		case <-old.done:
		case <-ctx.Done():
			return nil, fmt.Errorf("bulk: waiting for the previous connection of the same transfer: %w", context.Cause(ctx))
		}
	}
}

// isActive reports whether a transfer is being served.
func isActive(key string) bool {
	active.Lock()
	defer active.Unlock()
	return active.m[key] != nil
}
