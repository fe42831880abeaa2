package dirs

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
)

func TestWithin(t *testing.T) {
	sep := string(filepath.Separator)
	tests := []struct {
		dir, p string
		want   bool
	}{
		{sep + "a", sep + "a", true},
		{sep + "a", sep + filepath.Join("a", "b"), true},
		{sep + "a", sep + "ab", false},
		{sep + "a", sep, false},
		{sep + filepath.Join("a", "b"), sep + "a", false},
		{sep, sep + "a", true},
	}
	for _, tt := range tests {
		if got := within(tt.dir, tt.p); got != tt.want {
			t.Errorf("within(%q, %q) = %v, want %v", tt.dir, tt.p, got, tt.want)
		}
	}
}

func TestAnchorRelease(t *testing.T) {
	a := filepath.Join(t.TempDir(), "BorgData")
	below := filepath.Join(a, "x")
	r1 := Anchor(a)
	r2 := Anchor(a + string(filepath.Separator)) // the same folder, spelt differently
	if got, ok := anchorOf(below); !ok || got != a {
		t.Fatalf("anchorOf(%q) = %q, %v; want %q", below, got, ok, a)
	}
	r1()
	r1() // twice is harmless, and must not drop r2's hold
	if _, ok := anchorOf(below); !ok {
		t.Fatal("releasing one of two holds dropped the anchor")
	}
	r2()
	if got, ok := anchorOf(below); ok {
		t.Fatalf("anchor %q still held after both releases", got)
	}
}

func TestAnchorDeepestWins(t *testing.T) {
	outer := t.TempDir()
	inner := filepath.Join(outer, "in")
	defer Anchor(outer)()
	defer Anchor(inner)()
	if got, _ := anchorOf(filepath.Join(inner, "x")); got != inner {
		t.Fatalf("anchorOf = %q, want the inner anchor %q", got, inner)
	}
	if got, _ := anchorOf(filepath.Join(outer, "x")); got != outer {
		t.Fatalf("anchorOf = %q, want the outer anchor %q", got, outer)
	}
}

// TestAnchorConcurrent: registering, releasing and looking up from many
// goroutines at once (run with -race).
func TestAnchorConcurrent(t *testing.T) {
	base := t.TempDir()
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dir := filepath.Join(base, fmt.Sprint(i%4))
			for range 200 {
				release := Anchor(dir)
				if _, ok := anchorOf(filepath.Join(dir, "x")); !ok {
					t.Error("a held anchor was not found")
				}
				release()
			}
		}()
	}
	wg.Wait()
	for i := range 4 {
		if _, ok := anchorOf(filepath.Join(base, fmt.Sprint(i))); ok {
			t.Errorf("anchor %d left registered", i)
		}
	}
}
