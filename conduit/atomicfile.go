package conduit

import (
	"fmt"
	"os"
	"path/filepath"
)

// replaceFile writes data to path atomically: a temp file beside it
// (named by pattern, as os.CreateTemp takes it), fsync'd, then renamed
// over path. what names the file in errors.
func replaceFile(path, pattern, what string, data []byte) error {
	fail := func(err error) error { return fmt.Errorf("conduit: writing %s: %w", what, err) }
	tmp, err := os.CreateTemp(filepath.Dir(path), pattern)
	if err != nil {
		return fail(err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fail(err)
	}
	return nil
}
