package testvec

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// Root returns the module root (the folder holding go.mod) by walking up from
// the test's working directory.
func Root(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("testvec: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("testvec: no go.mod above the test's folder")
		}
		dir = parent
	}
}

// Path returns the path of the named vector file under testdata/vectors.
func Path(t testing.TB, name string) string {
	t.Helper()
	return filepath.Join(Root(t), "testdata", "vectors", name)
}

// Load decodes the named vector file into v, failing the test on any error.
func Load(t testing.TB, name string, v any) {
	t.Helper()
	data, err := os.ReadFile(Path(t, name))
	if err != nil {
		t.Fatalf("testvec: %v", err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("testvec: %s: %v", name, err)
	}
}
