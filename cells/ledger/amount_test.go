package ledger

import (
	"encoding/json"
	"errors"
	"math"
	"testing"
)

func TestFormatAmount(t *testing.T) {
	tests := []struct {
		in   Amount
		want string
	}{
		{0, "0.000000000"},
		{1, "0.000000001"},
		{123456000, "0.123456000"},
		{NanoPerShell, "1.000000000"},
		{5 * NanoPerShell, "5.000000000"},
		{123*NanoPerShell + 456000000, "123.456000000"},
		{GenesisSupply, "20000000.000000000"},
		{math.MaxUint64, "18446744073.709551615"},
	}
	for _, tc := range tests {
		if got := FormatAmount(tc.in); got != tc.want {
			t.Errorf("FormatAmount(%d) = %q, want %q", uint64(tc.in), got, tc.want)
		}
		if got, err := ParseAmount(tc.want); err != nil || got != tc.in {
			t.Errorf("ParseAmount(%q) = %d, %v", tc.want, uint64(got), err)
		}
	}
}

func TestParseAmount(t *testing.T) {
	tests := []struct {
		in   string
		want Amount
		ok   bool
	}{
		{"5", 5 * NanoPerShell, true},
		{"5.", 5 * NanoPerShell, true},
		{"0.1", 100000000, true},
		{".5", 500000000, true},
		{"1.123456789", 1123456789, true},
		{"123.456000000", 123456000000, true},
		{"0", 0, true},
		{"007", 7 * NanoPerShell, true},
		{"18446744073.709551615", math.MaxUint64, true},
		{"1.1234567891", 0, false}, // ten decimals: refused, not truncated
		{"18446744073.709551616", 0, false},
		{"18446744074", 0, false},
		{"99999999999999999999999", 0, false},
		{"-3", 0, false},
		{"+3", 0, false},
		{"abc", 0, false},
		{"", 0, false},
		{".", 0, false},
		{"1.2.3", 0, false},
		{"1e9", 0, false},
		{" 1", 0, false},
		{"1,5", 0, false},
		{"1.5 ", 0, false},
	}
	for _, tc := range tests {
		got, err := ParseAmount(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseAmount(%q) = %d, %v; want %d, ok %v", tc.in, uint64(got), err, uint64(tc.want), tc.ok)
		}
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseAmount(%q): error %v does not wrap ErrMalformed", tc.in, err)
		}
	}
}

func TestAmountJSONIsCanonical(t *testing.T) {
	b, err := json.Marshal(struct {
		A Amount `json:"a"`
	}{5 * NanoPerShell})
	if err != nil || string(b) != `{"a":"5.000000000"}` {
		t.Fatalf("marshal: %s %v", b, err)
	}
	for _, in := range []string{`"5"`, `"5.0"`, `"05.000000000"`, `".500000000"`, `5`, `"5.0000000000"`} {
		var a Amount
		if err := json.Unmarshal([]byte(in), &a); err == nil {
			t.Errorf("non-canonical %s accepted as %s", in, a)
		}
	}
	var a Amount
	if err := json.Unmarshal([]byte(`"0.000000001"`), &a); err != nil || a != 1 {
		t.Fatalf("canonical refused: %v", err)
	}
}
