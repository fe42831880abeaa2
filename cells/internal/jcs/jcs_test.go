package jcs

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

func TestAppendString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", `""`},
		{"plain", `"plain"`},
		{`quote " and \ backslash`, `"quote \" and \\ backslash"`},
		{"\b\t\n\f\r", `"\b\t\n\f\r"`},
		{"\x00\x01\x1f", `"\u0000\u0001\u001f"`},
		{"<script>&", `"<script>&"`},   // not HTML-escaped (encoding/json would)
		{"é €\u2028", "\"é €\u2028\""}, // literal UTF-8, U+2028 too
		{"\x7f", "\"\x7f\""},
	}
	for _, tc := range tests {
		if got := string(AppendString(nil, tc.in)); got != tc.want {
			t.Errorf("AppendString(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// FuzzAppendString: the output is a JSON string that decodes back to the
// input.
func FuzzAppendString(f *testing.F) {
	f.Add("a\"b\\c\n\x00é")
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		var back string
		if err := json.Unmarshal(AppendString(nil, s), &back); err != nil || back != s {
			t.Fatalf("%q: %q, %v", s, back, err)
		}
	})
}
