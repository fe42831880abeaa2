package usbboot

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/borgios/borghui/internal/dirs"
)

// Temp is the folder for temporary files, on the stick: the conduit's own
// (through [os.TempDir]) and those of every program it starts.
func (l Layout) Temp() string { return filepath.Join(l.Data, "tmp") }

// PrepareTemp makes the temp folder on the stick, empties what an earlier
// run left there, and points this process's TMPDIR (and TMP and TEMP on
// Windows) at it, so [os.TempDir] and every child process use the stick and
// not the host's temp folder. Call it while holding the stick's lock, since
// it removes files. The cleanup empties the folder again; call it at exit.
//
// Leftovers that cannot be removed (a file an earlier browser still holds
// open, on Windows) are not an error: they are tried again at exit.
func PrepareTemp(l Layout) (cleanup func(), err error) {
	dir := l.Temp()
	if err := dirs.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("usbboot: making the temp folder: %w", err)
	}
	emptyDir(dir)
	vars := []string{"TMPDIR"}
	if runtime.GOOS == "windows" {
		vars = append(vars, "TMP", "TEMP")
	}
	for _, v := range vars {
		if err := os.Setenv(v, dir); err != nil {
			return nil, fmt.Errorf("usbboot: setting %s: %w", v, err)
		}
	}
	return func() { emptyDir(dir) }, nil
}

// emptyDir removes what dir holds, as far as it can, and keeps dir.
func emptyDir(dir string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		_ = os.RemoveAll(filepath.Join(dir, e.Name()))
	}
}
