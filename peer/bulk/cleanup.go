package bulk

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// partialSuffixes are the files Cleanup may remove; completed files (a bare
// id) and anything else in Dir are never touched.
var partialSuffixes = []string{".part", ".bitmap", ".bitmap.tmp"}

// Cleanup removes abandoned partial transfers from r.Dir: the .part,
// .bitmap and .bitmap.tmp files of every transfer id that is not being
// served in this process and whose newest such file is older than maxAge, and
// bitmaps whose partial file is gone. A missing Dir is not an error.
func (r *Receiver) Cleanup(maxAge time.Duration) error {
	entries, err := os.ReadDir(r.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("bulk: cleanup: %w", err)
	}
	type group struct {
		files   []string
		newest  time.Time
		hasPart bool
	}
	groups := map[string]*group{}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		id, suffix, ok := splitPartialName(e.Name())
		if !ok {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		g := groups[id]
		if g == nil {
			g = &group{}
			groups[id] = g
		}
		g.files = append(g.files, e.Name())
		g.hasPart = g.hasPart || suffix == ".part"
		if info.ModTime().After(g.newest) {
			g.newest = info.ModTime()
		}
	}
	cutoff := time.Now().Add(-maxAge)
	var errs []error
	for id, g := range groups {
		if isActive(activeKey(r.Dir, id)) || (g.hasPart && g.newest.After(cutoff)) {
			continue
		}
		for _, name := range g.files {
			if err := os.Remove(filepath.Join(r.Dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("bulk: cleanup: %w", err)
	}
	return nil
}

// Janitor runs Cleanup(maxAge) every interval until ctx ends. Errors are
// ignored (the next round tries again).
func (r *Receiver) Janitor(ctx context.Context, interval, maxAge time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		r.Cleanup(maxAge)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// splitPartialName splits "<64 hex>.part" etc. into id and suffix.
func splitPartialName(name string) (id, suffix string, ok bool) {
	if len(name) < 64 {
		return "", "", false
	}
	id, suffix = name[:64], name[64:]
	for _, c := range []byte(id) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return "", "", false
		}
	}
	for _, s := range partialSuffixes {
		if suffix == s {
			return id, suffix, true
		}
	}
	return "", "", false
}
