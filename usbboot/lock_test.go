package usbboot

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"testing"

	"github.com/borgios/borghui/internal/dirs"
)

// TestLockAnchorsTheDataFolder: while the stick is locked, a data folder
// that vanished (the stick pulled) is never made again at its old path,
// which on a real host is the mount point left behind on the host's disk.
func TestLockAnchorsTheDataFolder(t *testing.T) {
	in := newInstance(t)
	l := in.l
	if err := os.Rename(l.Data, l.Data+".pulled"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		make func() error
	}{
		{"log", func() error { _, _, err := OpenLog(l, io.Discard); return err }},
		{"temp", func() error { _, err := PrepareTemp(l); return err }},
		{"handoff folder", func() error { _, err := l.Handoff(); return err }},
		{"folder below", func() error { return dirs.MkdirAll(l.Journals(), 0o700) }},
	} {
		if err := tc.make(); err == nil {
			t.Errorf("%s: made without error in a vanished data folder", tc.name)
		}
		if _, err := os.Lstat(l.Data); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("%s: the data folder was made again (%v)", tc.name, err)
		}
	}
	if err := dirs.MkdirAll(l.Logs(), 0o700); !errors.Is(err, dirs.ErrGone) {
		t.Fatalf("MkdirAll below the vanished data folder: %v, want dirs.ErrGone", err)
	}
}
