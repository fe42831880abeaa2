package boltdb

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ErrCannotGrow is returned for a folder whose filesystem cannot grow a
// file in place, where a database would be damaged.
var ErrCannotGrow = errors.New("this drive's filesystem cannot grow a file in place, so a database cannot be kept on it")

// Open opens (creating if needed) the database at path, waiting at most
// timeout for another process's lock.
func Open(path string, timeout time.Duration) (*bolt.DB, error) {
	grows, err := CanGrow(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	if !grows {
		return nil, fmt.Errorf("boltdb: %s: %w", path, ErrCannotGrow)
	}
	return bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout})
}

// CanGrow reports whether files in dir can be grown with ftruncate, by
// trying it on a small probe file that is removed again.
func CanGrow(dir string) (bool, error) {
	f, err := os.CreateTemp(dir, ".grow-probe-*")
	if err != nil {
		return false, fmt.Errorf("boltdb: probing %s: %w", dir, err)
	}
	name := f.Name()
	defer os.Remove(name)
	defer f.Close()
	return f.Truncate(64<<10) == nil, nil
}
