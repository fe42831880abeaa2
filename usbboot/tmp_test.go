package usbboot

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// testLayout is a stick in the test's temp folder.
func testLayout(t *testing.T) Layout {
	t.Helper()
	root := t.TempDir()
	l := Layout{Root: root, Data: filepath.Join(root, DataFolderName)}
	if err := l.ensure(); err != nil {
		t.Fatal(err)
	}
	return l
}

func TestPrepareTemp(t *testing.T) {
	// PrepareTemp sets these for the whole process; t.Setenv puts them back.
	for _, v := range []string{"TMPDIR", "TMP", "TEMP"} {
		t.Setenv(v, os.Getenv(v))
	}
	l := testLayout(t)
	dir := l.Temp()
	// Leftovers of an earlier run that did not get to clean up.
	if err := os.MkdirAll(filepath.Join(dir, "old", "deeper"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"stale", filepath.Join("old", "deeper", "file")} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	cleanup, err := PrepareTemp(l)
	if err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("leftovers not removed: %v", entries)
	}
	if got := os.TempDir(); got != dir {
		t.Errorf("os.TempDir() = %q, want %q on the stick", got, dir)
	}
	if got := os.Getenv("TMPDIR"); got != dir {
		t.Errorf("TMPDIR = %q, want %q", got, dir)
	}
	if runtime.GOOS == "windows" {
		for _, v := range []string{"TMP", "TEMP"} {
			if got := os.Getenv(v); got != dir {
				t.Errorf("%s = %q, want %q", v, got, dir)
			}
		}
	}
	f, err := os.CreateTemp("", "upload-*")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if filepath.Dir(f.Name()) != dir {
		t.Errorf("temp file made in %s, want %s", filepath.Dir(f.Name()), dir)
	}

	cleanup()
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
		t.Errorf("after cleanup: entries %v, err %v; want an empty folder", entries, err)
	}
}

func TestPrepareTempMakesPrivateFolder(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	for _, v := range []string{"TMPDIR", "TMP", "TEMP"} {
		t.Setenv(v, os.Getenv(v))
	}
	l := testLayout(t)
	cleanup, err := PrepareTemp(l)
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	st, err := os.Stat(l.Temp())
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		t.Errorf("temp folder mode %v, want 0700", st.Mode().Perm())
	}
}
