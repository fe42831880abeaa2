package dirs

import (
	"path/filepath"
	"strings"
	"sync"
)

// anchors holds the registered folders, each with how many registrations
// are still held (the same folder may be anchored twice).
var anchors = struct {
	sync.Mutex
	held map[string]int
}{held: map[string]int{}}

// Anchor registers dir as a folder this process must never create again:
// [MkdirAll] makes folders at or below it only while it exists. release
// ends the registration; calling it more than once is harmless. Anchor is
// safe for concurrent use.
func Anchor(dir string) (release func()) {
	dir = clean(dir)
	anchors.Lock()
	anchors.held[dir]++
	anchors.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			anchors.Lock()
			defer anchors.Unlock()
			if anchors.held[dir]--; anchors.held[dir] <= 0 {
				delete(anchors.held, dir)
			}
		})
	}
}

// anchorOf returns the deepest anchor at or above dir (a clean, absolute
// path), and false when there is none.
func anchorOf(dir string) (string, bool) {
	anchors.Lock()
	defer anchors.Unlock()
	best, found := "", false
	for a := range anchors.held {
		if within(a, dir) && len(a) > len(best) {
			best, found = a, true
		}
	}
	return best, found
}

// within reports whether p is dir or lies below it; both are clean.
func within(dir, p string) bool {
	if p == dir {
		return true
	}
	if !strings.HasSuffix(dir, string(filepath.Separator)) {
		dir += string(filepath.Separator)
	}
	return strings.HasPrefix(p, dir)
}

// clean makes dir absolute and clean, without touching the filesystem
// beyond the working directory.
func clean(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		return abs
	}
	return filepath.Clean(dir)
}
