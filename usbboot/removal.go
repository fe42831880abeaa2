package usbboot

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// RemovalPoll is how often WatchRemoval looks for the stick.
const RemovalPoll = 200 * time.Millisecond

// WatchRemoval calls gone once, from its own goroutine, when the data
// folder disappears: the stick was pulled out, unmounted, or the folder
// deleted. It checks every RemovalPoll until ctx ends, so a removal is
// noticed well within a second. A folder that cannot be read at all (an
// I/O error, as a yanked device gives) counts as gone, and so does a
// folder of the same name that is not the one that was there (something
// re-made it after the stick went).
//
// The run's own files count too: once Publish has written the instance
// file, its disappearance means the folder is not the one this run holds
// (a folder re-made with the same name may even reuse the inode).
func (in *Instance) WatchRemoval(ctx context.Context, gone func()) {
	l := in.l
	marker := filepath.Join(l.Data, instanceName)
	first, err := os.Stat(l.Data)
	if err != nil {
		go gone()
		return
	}
	go func() {
		t := time.NewTicker(RemovalPoll)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if removed(l.Data, first) || in.published.Load() && missing(marker) {
				gone()
				return
			}
		}
	}()
}

// removed reports whether dir is no longer the folder first describes.
func removed(dir string, first os.FileInfo) bool {
	st, err := os.Stat(dir)
	switch {
	case err == nil:
		return !st.IsDir() || !os.SameFile(first, st)
	case errors.Is(err, fs.ErrNotExist):
		return true
	case errors.Is(err, fs.ErrPermission):
		return false // still there; not ours to judge
	}
	return true // I/O error: the device went away
}

// missing reports whether a file is certainly gone.
func missing(path string) bool {
	_, err := os.Stat(path)
	return errors.Is(err, fs.ErrNotExist)
}
