package dirs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func TestMkdirAll(t *testing.T) {
	tests := []struct {
		name string
		// prepare makes the tree in base and returns the anchor (relative
		// to base; "" for none) and the folder to make.
		prepare func(t *testing.T, base string) (anchor, dir string)
		wantErr error // nil: dir must exist afterwards
		// absent must not exist afterwards (relative to base).
		absent string
	}{
		{
			name: "inside the anchor",
			prepare: func(t *testing.T, base string) (string, string) {
				mkdir(t, base, "BorgData")
				return "BorgData", "BorgData/logs"
			},
		},
		{
			name: "deep path below an existing subfolder",
			prepare: func(t *testing.T, base string) (string, string) {
				mkdir(t, base, "BorgData/solo")
				return "BorgData", "BorgData/solo/shard/blobs/ab"
			},
		},
		{
			name: "the anchor itself, existing",
			prepare: func(t *testing.T, base string) (string, string) {
				mkdir(t, base, "BorgData")
				return "BorgData", "BorgData"
			},
		},
		{
			name: "an existing folder",
			prepare: func(t *testing.T, base string) (string, string) {
				mkdir(t, base, "BorgData/mail")
				return "BorgData", "BorgData/mail"
			},
		},
		{
			name: "anchor missing",
			prepare: func(t *testing.T, base string) (string, string) {
				return "BorgData", "BorgData/logs"
			},
			wantErr: ErrGone,
			absent:  "BorgData",
		},
		{
			name: "anchor missing, deep path",
			prepare: func(t *testing.T, base string) (string, string) {
				return "BorgData", "BorgData/solo/ledger"
			},
			wantErr: ErrGone,
			absent:  "BorgData",
		},
		{
			name: "the anchor itself, missing",
			prepare: func(t *testing.T, base string) (string, string) {
				return "BorgData", "BorgData"
			},
			wantErr: ErrGone,
			absent:  "BorgData",
		},
		{
			name: "inner anchor missing below an existing outer one",
			prepare: func(t *testing.T, base string) (string, string) {
				mkdir(t, base, "BorgData")
				t.Cleanup(Anchor(filepath.Join(base, "BorgData")))
				return "BorgData/solo", "BorgData/solo/ftree"
			},
			wantErr: ErrGone,
			absent:  "BorgData/solo",
		},
		{
			name: "a file in the way",
			prepare: func(t *testing.T, base string) (string, string) {
				mkdir(t, base, "BorgData")
				if err := os.WriteFile(filepath.Join(base, "BorgData", "f"), nil, 0o600); err != nil {
					t.Fatal(err)
				}
				return "BorgData", "BorgData/f/x"
			},
			wantErr: errNotDirTest,
		},
		{
			name: "outside every anchor",
			prepare: func(t *testing.T, base string) (string, string) {
				return "", "home/cells/x"
			},
		},
		{
			name: "beside a missing anchor",
			prepare: func(t *testing.T, base string) (string, string) {
				return "BorgData", "BorgDataX/y"
			},
			absent: "BorgData",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			anchor, dir := tt.prepare(t, base)
			if anchor != "" {
				defer Anchor(filepath.Join(base, filepath.FromSlash(anchor)))()
			}
			dir = filepath.Join(base, filepath.FromSlash(dir))
			err := MkdirAll(dir, 0o700)
			switch {
			case tt.wantErr == errNotDirTest:
				if err == nil || errors.Is(err, ErrGone) {
					t.Fatalf("MkdirAll(%s) = %v, want a not-a-folder error", dir, err)
				}
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("MkdirAll(%s) = %v, want %v", dir, err, tt.wantErr)
				}
				if !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("MkdirAll(%s) = %v, which does not match fs.ErrNotExist", dir, err)
				}
			default:
				if err != nil {
					t.Fatalf("MkdirAll(%s): %v", dir, err)
				}
				if st, err := os.Stat(dir); err != nil || !st.IsDir() {
					t.Fatalf("%s not made: %v", dir, err)
				}
			}
			if tt.absent != "" {
				if _, err := os.Lstat(filepath.Join(base, filepath.FromSlash(tt.absent))); !errors.Is(err, fs.ErrNotExist) {
					t.Fatalf("%s was made (%v)", tt.absent, err)
				}
			}
		})
	}
}

// errNotDirTest marks a case that wants a failure other than ErrGone.
var errNotDirTest = errors.New("not a folder")

func TestMkdirAllRelative(t *testing.T) {
	base := t.TempDir()
	t.Chdir(base)
	defer Anchor("BorgData")()
	if err := MkdirAll(filepath.Join("BorgData", "logs"), 0o700); !errors.Is(err, ErrGone) {
		t.Fatalf("relative path below a missing relative anchor: %v, want ErrGone", err)
	}
	mkdir(t, base, "BorgData")
	if err := MkdirAll(filepath.Join(base, "BorgData", "logs"), 0o700); err != nil {
		t.Fatal(err)
	}
}

func TestMkdirAllAfterRelease(t *testing.T) {
	a := filepath.Join(t.TempDir(), "BorgData")
	release := Anchor(a)
	if err := MkdirAll(filepath.Join(a, "x"), 0o700); !errors.Is(err, ErrGone) {
		t.Fatalf("held: %v, want ErrGone", err)
	}
	release()
	if err := MkdirAll(filepath.Join(a, "x"), 0o700); err != nil {
		t.Fatalf("released: %v, want os.MkdirAll's behaviour", err)
	}
}

// TestMkdirAllVanishesAfterOpen: the folder goes between finding it and
// making below it. Renamed away (a pulled stick, as seen by a process
// that still holds the folder open), the new folders land in the moved
// folder, never at the old path; removed, the result is ErrGone.
func TestMkdirAllVanishesAfterOpen(t *testing.T) {
	tests := []struct {
		name    string
		vanish  func(t *testing.T, base string)
		wantErr error
	}{
		{
			name: "renamed away",
			vanish: func(t *testing.T, base string) {
				if err := os.Rename(base, base+".pulled"); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "removed",
			vanish: func(t *testing.T, base string) {
				if err := os.Remove(base); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: ErrGone,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := filepath.Join(t.TempDir(), "BorgData")
			mkdir(t, a, "")
			defer Anchor(a)()
			opened = func(base string) {
				if base != a {
					t.Errorf("opened %s, want the anchor %s", base, a)
				}
				tt.vanish(t, base)
			}
			defer func() { opened = nil }()
			err := MkdirAll(filepath.Join(a, "solo", "ledger"), 0o700)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("MkdirAll = %v, want %v", err, tt.wantErr)
			}
			if _, err := os.Lstat(a); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("the vanished anchor was made again (%v)", err)
			}
		})
	}
}

// TestMkdirAllRacesRemoval: many goroutines make folders below the anchor
// while it is renamed away; afterwards nothing exists at the old path.
// (os.MkdirAll fails this within a few rounds.)
func TestMkdirAllRacesRemoval(t *testing.T) {
	for round := range 20 {
		base := t.TempDir()
		a := filepath.Join(base, "BorgData")
		mkdir(t, a, "")
		release := Anchor(a)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				for i := range 50 {
					err := MkdirAll(filepath.Join(a, fmt.Sprint(g), fmt.Sprint(i), "x"), 0o700)
					if err != nil && !errors.Is(err, ErrGone) {
						t.Errorf("round %d: %v", round, err)
						return
					}
				}
			}()
		}
		close(start)
		if err := os.Rename(a, a+".pulled"); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		release()
		if _, err := os.Lstat(a); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("round %d: the renamed anchor was made again (%v)", round, err)
		}
	}
}

// mkdir makes rel below base for a test's setup.
func mkdir(t *testing.T, base, rel string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(base, filepath.FromSlash(rel)), 0o700); err != nil {
		t.Fatal(err)
	}
}
