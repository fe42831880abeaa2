package conduit

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const testFree = 50 << 30 // what fakeFree reports: 50 GiB

// testHomeList is a list on a fake stick (root and data folder in a temp
// folder) for host, with testFree bytes free everywhere.
func testHomeList(t *testing.T, stick, host string) *HomeList {
	t.Helper()
	data := filepath.Join(stick, "BorgData")
	if err := os.MkdirAll(data, 0o700); err != nil {
		t.Fatal(err)
	}
	return &HomeList{
		Path: filepath.Join(data, HomeFile), Host: host, Stick: []string{stick, data},
		FreeSpace: func(string) (int64, error) { return testFree, nil },
		Now:       func() time.Time { return time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC) },
	}
}

func TestHomeAllow(t *testing.T) {
	base := t.TempDir()
	stick := filepath.Join(base, "stick")
	disk := filepath.Join(base, "disk")
	if err := os.MkdirAll(disk, 0o700); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(disk, "a-file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The stick root reached through a symbolic link is still the stick.
	link := filepath.Join(base, "link-to-stick")
	if err := os.Symlink(stick, link); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		folder string
		quota  int64
		want   error
		reason string
	}{
		{"empty", "  ", MinHomeQuota, ErrHomeFolder, "Type the folder"},
		{"relative", "node-data", MinHomeQuota, ErrHomeFolder, "full path"},
		{"a file", file, MinHomeQuota, ErrHomeFolder, "is a file"},
		{"below a file", filepath.Join(file, "x"), MinHomeQuota, ErrHomeFolder, "is a file"},
		{"the stick root", stick, MinHomeQuota, ErrHomeFolder, "on the stick"},
		{"in the data folder", filepath.Join(stick, "BorgData", "home"), MinHomeQuota, ErrHomeFolder, "on the stick"},
		{"on the stick by a link", filepath.Join(link, "node"), MinHomeQuota, ErrHomeFolder, "on the stick"},
		{"on the stick, unclean", filepath.Join(disk, "..", "stick", "node"), MinHomeQuota, ErrHomeFolder, "on the stick"},
		{"quota too small", filepath.Join(disk, "node"), MinHomeQuota - 1, ErrHomeQuota, "at least 1 GB"},
		{"quota too big", filepath.Join(disk, "node"), testFree + 1, ErrHomeQuota, "Only 50.0 GB is free"},
		{"beside the stick", filepath.Join(base, "stick-other"), MinHomeQuota, nil, ""},
		{"new folder", filepath.Join(disk, "new", "node"), 2 * MinHomeQuota, nil, ""},
		{"existing folder, all free space", disk, testFree, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := testHomeList(t, stick, "host-a")
			c, err := h.Allow(tt.folder, tt.quota)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Allow: %v, want %v", err, tt.want)
			}
			if err != nil {
				if msg := HomeMessage(err); !strings.Contains(msg, tt.reason) {
					t.Fatalf("message %q lacks %q", msg, tt.reason)
				}
				if _, ok, _ := h.Get(); ok {
					t.Fatal("allowed after a refusal")
				}
				if _, err := os.Stat(h.Path); !errors.Is(err, os.ErrNotExist) {
					t.Fatal("a refusal wrote the list")
				}
				if tt.want == ErrHomeQuota {
					if _, err := os.Stat(tt.folder); !errors.Is(err, os.ErrNotExist) {
						t.Fatal("a refusal made the folder")
					}
				}
				return
			}
			if st, err := os.Stat(tt.folder); err != nil || !st.IsDir() {
				t.Fatalf("folder not made: %v", err)
			}
			got, ok, err := h.Get()
			if err != nil || !ok || got != c || got.Folder != filepath.Clean(tt.folder) || got.QuotaBytes != tt.quota || got.Since.IsZero() {
				t.Fatalf("Get = %+v %v %v, want %+v", got, ok, err, c)
			}
			entries, _ := os.ReadDir(tt.folder)
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), ".borghui-check") {
					t.Fatal("the write check left its file behind")
				}
			}
		})
	}
}

func TestHomeFolderNotWritable(t *testing.T) {
	if os.Getuid() == 0 {
		t.Skip("root writes anywhere")
	}
	ro := filepath.Join(t.TempDir(), "read-only")
	if err := os.Mkdir(ro, 0o500); err != nil {
		t.Fatal(err)
	}
	h := testHomeList(t, t.TempDir(), "host-a")
	_, err := h.Allow(filepath.Join(ro, "node"), MinHomeQuota)
	if !errors.Is(err, ErrHomeFolder) || !strings.Contains(HomeMessage(err), "cannot make or write") {
		t.Fatalf("Allow in a read-only folder: %v", err)
	}
}

// Each computer has its own entry: allowing or stopping on one leaves the
// others' exactly as they were, including fields this version ignores.
func TestHomeHostsApart(t *testing.T) {
	stick, disk := t.TempDir(), t.TempDir()
	a, b := testHomeList(t, stick, "host-a"), testHomeList(t, stick, "host-b")
	if _, err := a.Allow(filepath.Join(disk, "a"), MinHomeQuota); err != nil {
		t.Fatal(err)
	}
	// A later version's field on host-a, and a top-level field.
	var raw map[string]any
	data, _ := os.ReadFile(a.Path)
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	raw["hosts"].(map[string]any)["host-a"].(map[string]any)["future"] = "kept"
	raw["version"] = 7.0
	data, _ = json.Marshal(raw)
	if err := os.WriteFile(a.Path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := b.Get(); ok {
		t.Fatal("host-b allowed by host-a's choice")
	}
	if _, err := b.Allow(filepath.Join(disk, "b"), 3*MinHomeQuota); err != nil {
		t.Fatal(err)
	}
	if err := b.Disallow(); err != nil {
		t.Fatal(err)
	}
	if err := b.Disallow(); err != nil { // twice is fine
		t.Fatal(err)
	}
	if _, ok, _ := b.Get(); ok {
		t.Fatal("host-b still allowed")
	}
	got, ok, err := a.Get()
	if err != nil || !ok || got.Folder != filepath.Join(disk, "a") || got.QuotaBytes != MinHomeQuota {
		t.Fatalf("host-a's entry changed: %+v %v %v", got, ok, err)
	}
	data, _ = os.ReadFile(a.Path)
	if !strings.Contains(string(data), `"future": "kept"`) || !strings.Contains(string(data), `"version": 7`) {
		t.Fatalf("fields of another version lost:\n%s", data)
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(a.Path), "hosts-*.tmp"))
	if len(leftovers) > 0 {
		t.Fatalf("temp files left: %v", leftovers)
	}
}

// A damaged list is an error, not a silent "not allowed", and is never
// overwritten: whatever it held is still there to repair.
func TestHomeDamagedList(t *testing.T) {
	disk := t.TempDir()
	for _, damaged := range []string{
		`{"hosts": {"host-a": {"folder": "/x", "quotaBytes": 20`,
		`[1, 2, 3]`,
		`{"hosts": ["host-a"]}`,
		`{"hosts": {"host-a": {"folder": "relative", "quotaBytes": 1073741824}}}`,
		`{"hosts": {"host-a": {"folder": "/x", "quotaBytes": "lots"}}}`,
	} {
		h := testHomeList(t, t.TempDir(), "host-a")
		if err := os.WriteFile(h.Path, []byte(damaged), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := h.Get(); ok || !errors.Is(err, ErrHomeDamaged) {
			t.Errorf("%s: Get = %v, %v; want ErrHomeDamaged", damaged, ok, err)
		}
		if _, err := h.Allow(filepath.Join(disk, "node"), MinHomeQuota); !errors.Is(err, ErrHomeDamaged) {
			t.Errorf("%s: Allow = %v", damaged, err)
		}
		if err := h.Disallow(); !errors.Is(err, ErrHomeDamaged) {
			t.Errorf("%s: Disallow = %v", damaged, err)
		}
		if data, _ := os.ReadFile(h.Path); string(data) != damaged {
			t.Errorf("%s: the damaged list was rewritten: %s", damaged, data)
		}
		if msg := HomeMessage(fmtErr(h)); !strings.Contains(msg, HomeFile) {
			t.Errorf("message %q does not name the file", msg)
		}
	}
	// Another computer's damaged entry does not stop this one.
	h := testHomeList(t, t.TempDir(), "host-a")
	os.WriteFile(h.Path, []byte(`{"hosts": {"host-b": {"folder": 3}}}`), 0o600)
	if _, err := h.Allow(filepath.Join(disk, "node"), MinHomeQuota); err != nil {
		t.Fatalf("another host's odd entry blocked this one: %v", err)
	}
	if data, _ := os.ReadFile(h.Path); !strings.Contains(string(data), `"folder": 3`) {
		t.Fatalf("another host's entry lost:\n%s", data)
	}
}

func fmtErr(h *HomeList) error {
	_, _, err := h.Get()
	return err
}

func TestHomeFree(t *testing.T) {
	h := testHomeList(t, t.TempDir(), "host-a")
	h.FreeSpace = nil // the real disk
	free, err := h.Free(filepath.Join(t.TempDir(), "not", "made", "yet"))
	if err != nil || free <= 0 {
		t.Fatalf("Free = %d, %v", free, err)
	}
	if _, err := h.Free("relative"); !errors.Is(err, ErrHomeFolder) {
		t.Fatalf("Free of a relative path: %v", err)
	}
}

func TestSetNetworkMode(t *testing.T) {
	c := New(Config{KeystoreDir: t.TempDir(), Network: &NetworkConfig{Mode: "guest"}})
	t.Cleanup(c.Close)
	events, stop := c.Events().Subscribe()
	defer stop()
	c.SetNetworkMode("home")
	if got := c.NetworkStatus().Mode; got != "home" {
		t.Fatalf("mode %q, want home", got)
	}
	select {
	case e := <-events:
		if e.Type != "network" {
			t.Fatalf("event %+v", e)
		}
	case <-time.After(time.Second):
		t.Fatal("no network event: open pages would not refresh")
	}
}
