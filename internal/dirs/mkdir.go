package dirs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// ErrGone: the anchored folder a path lies in no longer exists. It also
// matches [fs.ErrNotExist].
var ErrGone error = goneError{}

type goneError struct{}

func (goneError) Error() string        { return "the data folder is gone (stick removed?)" }
func (goneError) Is(target error) bool { return target == fs.ErrNotExist }

// attempts bounds the retries when a folder below the anchor vanishes
// between finding it and opening it (another goroutine cleaning up).
const attempts = 3

// opened, when set, runs once the deepest existing folder is open and
// before anything is made in it (a test seam for the race with a pulled
// stick).
var opened func(base string)

// MkdirAll is [os.MkdirAll], except that at or below an [Anchor] it never
// creates the anchor or anything above it: when the anchor is missing the
// error matches [ErrGone] and nothing is created.
func MkdirAll(dir string, perm os.FileMode) error {
	abs := clean(dir)
	anchor, ok := anchorOf(abs)
	if !ok {
		return os.MkdirAll(dir, perm)
	}
	var err error
	for range attempts {
		if err = mkdirBelow(anchor, abs, perm); !errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrGone) {
			break
		}
		if _, serr := os.Stat(anchor); errors.Is(serr, fs.ErrNotExist) {
			err = ErrGone
			break
		}
	}
	if errors.Is(err, ErrGone) {
		return &fs.PathError{Op: "mkdir", Path: dir, Err: ErrGone}
	}
	return err
}

// mkdirBelow makes dir, which lies at or below anchor, from the deepest
// folder that exists between them.
func mkdirBelow(anchor, dir string, perm os.FileMode) error {
	base, err := deepest(anchor, dir)
	if err != nil || base == dir {
		return err
	}
	root, err := os.OpenRoot(base)
	if err != nil {
		return err
	}
	defer root.Close()
	if opened != nil {
		opened(base)
	}
	rel, err := filepath.Rel(base, dir)
	if err != nil {
		return err
	}
	return root.MkdirAll(rel, perm)
}

// deepest returns the deepest existing folder on the way from dir up to
// anchor, or ErrGone when even the anchor is missing.
func deepest(anchor, dir string) (string, error) {
	for p := dir; ; p = filepath.Dir(p) {
		st, err := os.Stat(p)
		switch {
		case err == nil && st.IsDir():
			return p, nil
		case err == nil:
			return "", &fs.PathError{Op: "mkdir", Path: p, Err: syscall.ENOTDIR}
		case !errors.Is(err, fs.ErrNotExist):
			return "", err
		case p == anchor:
			return "", ErrGone
		}
	}
}
