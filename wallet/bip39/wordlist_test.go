package bip39

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

func TestWordList(t *testing.T) {
	// SHA-256 of bips/bip-0039/english.txt (one word per line, final newline).
	const wantSHA256 = "2f5eed53a4727b4bf8880d8f3f199efc90e58503646d9ff8eff3a2ed3b24dbda"
	sum := sha256.Sum256([]byte(strings.Join(english[:], "\n") + "\n"))
	if got := hex.EncodeToString(sum[:]); got != wantSHA256 {
		t.Fatalf("English list SHA-256 %s, want %s", got, wantSHA256)
	}
	prefixes := make(map[string]int)
	for i, w := range english {
		if len(w) < 3 || len(w) > maxWordLen {
			t.Errorf("word %d %q: length %d", i, w, len(w))
		}
		if strings.Trim(w, "abcdefghijklmnopqrstuvwxyz") != "" {
			t.Errorf("word %d %q: not lower-case ASCII", i, w)
		}
		if i > 0 && english[i-1] >= w {
			t.Errorf("list not sorted at %d", i)
		}
		p := w[:min(4, len(w))]
		if j, dup := prefixes[p]; dup {
			t.Errorf("words %d and %d share the prefix %q", j, i, p)
		}
		prefixes[p] = i
	}
}

func TestWord(t *testing.T) {
	tests := []struct {
		i    int
		want string
	}{
		{0, "abandon"}, {3, "about"}, {2047, "zoo"}, {-1, ""}, {2048, ""},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := Word(tt.i); got != tt.want {
				t.Fatalf("Word(%d) = %q, want %q", tt.i, got, tt.want)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	tests := []struct {
		typed string
		want  int // -1: not found
	}{
		{"abandon", 0},
		{"aban", 0},
		{"aband", 0},
		{"abandonx", -1},
		{"aba", -1}, // shorter than four letters: only exact words
		{"act", 19},
		{"acti", 20}, // "action": the 3-letter word act is no obstacle
		{"zoo", 2047},
		{"zo", -1},
		{"", -1},
		{"zzzz", -1},
		{"Abandon", -1}, // lookup sees normalised input only
	}
	for _, tt := range tests {
		t.Run(tt.typed, func(t *testing.T) {
			i, ok := lookup([]byte(tt.typed))
			switch {
			case tt.want < 0 && ok:
				t.Fatalf("found %q", english[i])
			case tt.want >= 0 && (!ok || int(i) != tt.want):
				t.Fatalf("got %d %v, want %d (%s)", i, ok, tt.want, english[tt.want])
			}
		})
	}
}
