package bip39

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// base is trezor vector 18 (entropy 18ab19a9f54a9274f03e5209a2ac8a91).
const base = "cat swing flag economy stadium alone churn speed unique patch report train"

func TestParseTolerance(t *testing.T) {
	want, err := Parse([]byte(base))
	if err != nil {
		t.Fatal(err)
	}
	words := strings.Fields(base)
	tests := []struct {
		name  string
		input string
	}{
		{"canonical", base},
		{"upper case", strings.ToUpper(base)},
		{"title case", "Cat Swing Flag Economy Stadium Alone Churn Speed Unique Patch Report Train"},
		{"extra space", "   cat  swing\tflag\n\neconomy stadium\r\nalone churn speed unique patch report train \n"},
		{"no-break space", strings.Join(words, "\u00a0")},
		{"ideographic space", strings.Join(words, "\u3000")},
		{"em space and line separator", strings.Join(words, "\u2003\u2028")},
		{"full-width letters", "ＣＡＴ ｓｗｉｎｇ " + strings.Join(words[2:], " ")},
		{"ligature", strings.Replace(base, "flag", "\ufb02ag", 1)},
		{"four-letter prefixes", "cat swin flag econ stad alon chur spee uniq patc repo trai"},
		{"longer prefixes", "cat swing flag econo stadiu alone churn speed uniqu patch report train"},
		{"upper-case prefixes", "CAT SWIN FLAG ECON STAD ALON CHUR SPEE UNIQ PATC REPO TRAI"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.input))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("got %v, want %v", got, want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	words := strings.Fields(base)
	replace := func(pos int, w string) string {
		c := slices.Clone(words)
		c[pos-1] = w
		return strings.Join(c, " ")
	}
	tests := []struct {
		name    string
		input   string
		count   int    // > 0: *WordCountError with this Got
		pos     int    // > 0: *UnknownWordError at this position
		suggest string // a word the suggestions must hold
		sum     bool   // ErrChecksum
	}{
		{name: "empty", input: "", count: -1},
		{name: "blank", input: " \t\u00a0\n", count: -1},
		{name: "11 words", input: strings.Join(words[:11], " "), count: 11},
		{name: "13 words", input: base + " zoo", count: 13},
		{name: "27 words", input: strings.Repeat("abandon ", 27), count: 27},
		{name: "typo", input: replace(3, "flgg"), pos: 3, suggest: "flag"},
		{name: "transposition", input: replace(12, "trian"), pos: 12, suggest: "train"},
		{name: "three-letter prefix", input: replace(2, "swi"), pos: 2, suggest: "swim"},
		{name: "wrong tail after prefix", input: replace(5, "stadiumx"), pos: 5, suggest: "stadium"},
		{name: "accented", input: replace(1, "cát"), pos: 1, suggest: "cat"},
		{name: "overlong", input: replace(7, strings.Repeat("churn", 10)), pos: 7, suggest: "churn"},
		{name: "garbage", input: replace(4, "%%%%"), pos: 4},
		{name: "unknown before checksum", input: replace(1, "qqqq"), pos: 1},
		{name: "swapped words", input: strings.Join(append([]string{words[1], words[0]}, words[2:]...), " "), sum: true},
		{name: "all abandon", input: strings.Repeat("abandon ", 12), sum: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.input))
			if got != nil {
				t.Fatalf("indices returned with error %v", err)
			}
			var wc *WordCountError
			var uw *UnknownWordError
			switch {
			case tt.count != 0:
				want := max(tt.count, 0)
				if !errors.As(err, &wc) || wc.Got != want {
					t.Fatalf("got %v, want WordCountError{Got: %d}", err, want)
				}
			case tt.pos > 0:
				if !errors.As(err, &uw) || uw.Position != tt.pos {
					t.Fatalf("got %v, want UnknownWordError at %d", err, tt.pos)
				}
				if len(uw.Suggestions) > maxSuggestions {
					t.Fatalf("%d suggestions", len(uw.Suggestions))
				}
				if tt.suggest != "" && !slices.Contains(uw.Suggestions, tt.suggest) {
					t.Fatalf("suggestions %v lack %q", uw.Suggestions, tt.suggest)
				}
				for _, s := range uw.Suggestions {
					if strings.Contains(err.Error(), s) {
						t.Fatalf("error text %q shows suggestion %q", err, s)
					}
				}
				typed := strings.Fields(tt.input)[tt.pos-1]
				if strings.Contains(err.Error(), typed) {
					t.Fatalf("error text %q shows the typed word", err)
				}
			case tt.sum:
				if !errors.Is(err, ErrChecksum) {
					t.Fatalf("got %v, want ErrChecksum", err)
				}
			}
		})
	}
}

func TestParseWords(t *testing.T) {
	tests := []struct {
		name   string
		input  string
		counts []int
		want   []uint16
		count  int // > 0 or -1 (for 0): WordCountError
	}{
		{"any count", "zoo ABAN act", nil, []uint16{2047, 0, 19}, 0},
		{"27 words", strings.Repeat("zoo ", 27), []int{27}, slices.Repeat([]uint16{2047}, 27), 0},
		{"26 of 27", strings.Repeat("zoo ", 26), []int{27}, nil, 26},
		{"no checksum check", strings.Repeat("abandon ", 12), []int{12}, make([]uint16, 12), 0},
		{"none", "  ", nil, nil, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseWords([]byte(tt.input), tt.counts...)
			if tt.count != 0 {
				var wc *WordCountError
				if !errors.As(err, &wc) || wc.Got != max(tt.count, 0) {
					t.Fatalf("got %v, want WordCountError{%d}", err, tt.count)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestWordCountErrorText(t *testing.T) {
	tests := []struct {
		err  WordCountError
		want string
	}{
		{WordCountError{Got: 13, Want: wordCounts}, "bip39: 13 words, want 12, 15, 18, 21 or 24"},
		{WordCountError{Got: 26, Want: []int{27}}, "bip39: 26 words, want 27"},
		{WordCountError{}, "bip39: no words"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Fatalf("got %q", got)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(base))
	f.Add([]byte(strings.ToUpper(base)))
	f.Add([]byte("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"))
	f.Add([]byte("zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo wrong"))
	f.Add([]byte("cat\u00a0swin\u3000ﬂag econ stad alon chur spee uniq patc repo trai"))
	f.Add([]byte("aba \xff\xfe \u0301\u00a8 x"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, input []byte) {
		indices, err := Parse(input)
		var wc *WordCountError
		var uw *UnknownWordError
		switch {
		case err == nil:
			if !slices.Contains(wordCounts, len(indices)) {
				t.Fatalf("accepted %d words", len(indices))
			}
			again, err := Parse(AppendMnemonic(nil, indices))
			if err != nil || !slices.Equal(again, indices) {
				t.Fatalf("canonical form does not round-trip: %v", err)
			}
		case errors.As(err, &wc):
			if slices.Contains(wordCounts, wc.Got) {
				t.Fatalf("count error for %d words", wc.Got)
			}
		case errors.As(err, &uw):
			if uw.Position < 1 || uw.Position > Words24 || len(uw.Suggestions) > maxSuggestions {
				t.Fatalf("bad UnknownWordError %+v", uw)
			}
			for _, s := range uw.Suggestions {
				if _, ok := lookup([]byte(s)); !ok {
					t.Fatalf("suggestion %q is not a list word", s)
				}
			}
		case errors.Is(err, ErrChecksum):
		default:
			t.Fatalf("unexpected error %v", err)
		}
	})
}
