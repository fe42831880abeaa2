package tree

import "testing"

func TestShape(t *testing.T) {
	tests := []struct {
		k, p, size             int
		parent, first, n, dept int
	}{
		{k: 2, p: 2, size: 6, parent: 1, first: 4, n: 2, dept: 1},
		{k: 2, p: 3, size: 6, parent: 1, first: 6, n: 1, dept: 1},
		{k: 2, p: 6, size: 6, parent: 3, first: 12, n: 0, dept: 2},
		{k: 3, p: 5, size: 20, parent: 2, first: 14, n: 3, dept: 2},
		{k: 10, p: 1, size: 5, parent: 0, first: 2, n: 4, dept: 0},
		{k: 10, p: 111112, size: 1_000_000, parent: 11112, first: 1111112, n: 0, dept: 6},
	}
	for _, tt := range tests {
		if tt.p > 1 {
			if got := ParentPos(tt.p, tt.k); got != tt.parent {
				t.Errorf("ParentPos(%d,%d) = %d, want %d", tt.p, tt.k, got, tt.parent)
			}
		}
		if got := FirstChild(tt.p, tt.k); got != tt.first {
			t.Errorf("FirstChild(%d,%d) = %d, want %d", tt.p, tt.k, got, tt.first)
		}
		if got := ChildCount(tt.p, tt.size, tt.k); got != tt.n {
			t.Errorf("ChildCount(%d,%d,%d) = %d, want %d", tt.p, tt.size, tt.k, got, tt.n)
		}
		if got := Depth(tt.p, tt.k); got != tt.dept {
			t.Errorf("Depth(%d,%d) = %d, want %d", tt.p, tt.k, got, tt.dept)
		}
	}
	// Every position is exactly one child of its parent.
	for _, k := range []int{2, 3, 10, MaxFanout} {
		for p := 2; p < 5000; p++ {
			pp := ParentPos(p, k)
			if f := FirstChild(pp, k); p < f || p >= f+k {
				t.Fatalf("k=%d: %d is not among the children %d…%d of its parent %d", k, p, f, f+k-1, pp)
			}
		}
	}
	// Depth of a 10^6-node tree with k = 10 is 6.
	if d := Depth(1_000_000, 10); d != 6 {
		t.Errorf("depth of position 10^6 (k=10) = %d, want 6", d)
	}
}
