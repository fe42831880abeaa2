package usbboot

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"time"
)

// RemovalPoll is how often WatchRemoval looks for the stick.
const RemovalPoll = 200 * time.Millisecond

// WatchRemoval calls gone once, from its own goroutine, when the data
// folder disappears: the stick was pulled out, unmounted, or the folder
// deleted. It checks every RemovalPoll until ctx ends, so a removal is
// noticed well within a second. A folder that cannot be read at all (an
// I/O error, as a yanked device gives) counts as gone.
func (l Layout) WatchRemoval(ctx context.Context, gone func()) {
	go func() {
		t := time.NewTicker(RemovalPoll)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if removed(l.Data) {
				gone()
				return
			}
		}
	}()
}

// removed reports whether dir is no longer there as a folder.
func removed(dir string) bool {
	st, err := os.Stat(dir)
	switch {
	case err == nil:
		return !st.IsDir()
	case errors.Is(err, fs.ErrNotExist):
		return true
	case errors.Is(err, fs.ErrPermission):
		return false // still there; not ours to judge
	}
	return true // I/O error: the device went away
}
