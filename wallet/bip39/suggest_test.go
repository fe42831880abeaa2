package bip39

import (
	"slices"
	"testing"
)

func TestSuggest(t *testing.T) {
	tests := []struct {
		name   string
		prefix string
		max    int
		want   []string
	}{
		{"prefix", "ab", 4, []string{"abandon", "ability", "able", "about"}},
		{"prefix limited", "ab", 2, []string{"abandon", "ability"}},
		{"upper and space", "  AB ", 3, []string{"abandon", "ability", "able"}},
		{"last word counts", "zoo ab", 1, []string{"abandon"}},
		{"single match", "zo", 4, []string{"zone", "zoo"}},
		{"exact word also prefix", "act", 3, []string{"act", "action", "actor"}},
		{"full-width", "ｚｏ", 4, []string{"zone", "zoo"}},
		{"typo falls back to distance", "abandn", 1, []string{"abandon"}},
		{"four-letter prefix then distance", "stadiumx", 1, []string{"stadium"}},
		{"nothing close", "qqqqqqqq", 4, nil},
		{"empty", "", 4, nil},
		{"zero max", "ab", 0, nil},
		{"negative max", "ab", -1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Suggest([]byte(tt.prefix), tt.max)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSuggestHugeMax(t *testing.T) {
	if got := Suggest([]byte("a"), 1<<40); len(got) != 136 {
		t.Fatalf("got %d words starting with a", len(got))
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		typed, word string
		want        int
	}{
		{"cat", "cat", 0},
		{"cta", "cat", 1},
		{"ca", "cat", 1},
		{"cats", "cat", 1},
		{"dog", "cat", maxEdits + 1},
		{"abandonxyz", "abandon", maxEdits + 1},
		{"trian", "train", 1},
		{"flgg", "flag", 1},
	}
	for _, tt := range tests {
		t.Run(tt.typed+"/"+tt.word, func(t *testing.T) {
			if got := min(editDistance([]byte(tt.typed), tt.word), maxEdits+1); got != tt.want {
				t.Fatalf("got %d, want %d", got, tt.want)
			}
		})
	}
}

func FuzzSuggest(f *testing.F) {
	f.Add([]byte("ab"), 4)
	f.Add([]byte("  ＺＯ"), 2)
	f.Add([]byte("stadiumx"), 4)
	f.Add([]byte("\xff\u0301"), 4)
	f.Add([]byte(""), 0)
	f.Fuzz(func(t *testing.T, prefix []byte, limit int) {
		got := Suggest(prefix, limit)
		if len(got) > max(limit, 0) {
			t.Fatalf("%d suggestions for max %d", len(got), limit)
		}
		for _, w := range got {
			if _, ok := lookup([]byte(w)); !ok {
				t.Fatalf("suggestion %q is not a list word", w)
			}
		}
	})
}
