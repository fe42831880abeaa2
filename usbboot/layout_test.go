package usbboot

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLocate(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	tests := []struct {
		name    string
		flag    string
		wantErr string
	}{
		{name: "explicit folder is created", flag: filepath.Join(tmp, "stick", "BorgData")},
		{name: "existing folder is reused", flag: tmp},
		{name: "missing parent is an error", flag: filepath.Join(tmp, "nope", "deeper", "BorgData"), wantErr: "does not exist"},
	}
	if err := os.Mkdir(filepath.Join(tmp, "stick"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := Locate(tt.flag)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Locate(%q) error = %v, want %q", tt.flag, err, tt.wantErr)
				}
				if _, statErr := os.Stat(tt.flag); statErr == nil {
					t.Fatalf("Locate made %s despite the error", tt.flag)
				}
				return
			}
			if err != nil {
				t.Fatalf("Locate(%q): %v", tt.flag, err)
			}
			if st, err := os.Stat(l.Data); err != nil || !st.IsDir() {
				t.Fatalf("data folder %s not made: %v", l.Data, err)
			}
			for _, p := range []string{l.Keystore(), l.Logs(), l.Settings()} {
				if !strings.HasPrefix(p, l.Data) {
					t.Errorf("path %s is outside the data folder %s", p, l.Data)
				}
			}
		})
	}
}

func TestLocateDefaultIsBesideBinary(t *testing.T) {
	// The test binary's folder stands in for the stick root.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	l, err := Locate("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(l.Data) })
	exe, _ = filepath.EvalSymlinks(exe)
	if want := filepath.Join(filepath.Dir(exe), DataFolderName); l.Data != want {
		t.Fatalf("Data = %s, want %s", l.Data, want)
	}
}

func TestOpenLogWritesOnTheStick(t *testing.T) {
	t.Parallel()
	l, err := Locate(filepath.Join(t.TempDir(), "BorgData"))
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	log, c, err := OpenLog(l, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	log.Info("conduit started", "port", 1234)
	c.Close()
	data, err := os.ReadFile(filepath.Join(l.Logs(), "borghui.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "conduit started") || !strings.Contains(stderr.String(), "conduit started") {
		t.Fatalf("log line missing: file %q stderr %q", data, stderr.String())
	}
}

// TestOpenLogStartsAFilePerRun: each run writes a new log; the previous
// run's is kept as borghui.log.1 and older ones are dropped.
func TestOpenLogStartsAFilePerRun(t *testing.T) {
	t.Parallel()
	l, err := Locate(filepath.Join(t.TempDir(), "BorgData"))
	if err != nil {
		t.Fatal(err)
	}
	for _, run := range []string{"run one", "run two", "run three"} {
		log, c, err := OpenLog(l, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		log.Info(run)
		c.Close()
	}
	for name, want := range map[string]string{"borghui.log": "run three", "borghui.log.1": "run two"} {
		data, err := os.ReadFile(filepath.Join(l.Logs(), name))
		if err != nil {
			t.Fatal(err)
		}
		if s := string(data); !strings.Contains(s, want) || strings.Count(s, "msg=") != 1 {
			t.Errorf("%s = %q, want only %q", name, s, want)
		}
	}
	if entries, _ := os.ReadDir(l.Logs()); len(entries) != 2 {
		t.Errorf("%d log files kept, want 2", len(entries))
	}
}
