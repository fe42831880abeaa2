package bip32

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParsePath(t *testing.T) {
	h := HardenedOffset
	tests := []struct {
		in   string
		want []uint32
		ok   bool
	}{
		{"m", []uint32{}, true},
		{"m/44'/3'/0'/0/0", IdentityPath, true},
		{"m/44h/3h/0h/0/0", IdentityPath, true},
		{"m/44H/3H/0H/0/0", IdentityPath, true},
		{"m/0/2147483647'/1/2147483646'/2", []uint32{0, 2147483647 + h, 1, 2147483646 + h, 2}, true},
		{"m/2147483647", []uint32{2147483647}, true},
		{"m/007", []uint32{7}, true},
		{"", nil, false},
		{"M/0", nil, false},
		{"/0", nil, false},
		{"0/1", nil, false},
		{"m/", nil, false},
		{"m//1", nil, false},
		{"m/1/", nil, false},
		{"m/'", nil, false},
		{"m/1''", nil, false},
		{"m/-1", nil, false},
		{"m/+1", nil, false},
		{"m/1_0", nil, false},
		{"m/0x10", nil, false},
		{"m/ 1", nil, false},
		{"m/2147483648", nil, false},
		{"m/2147483648'", nil, false},
		{"m/99999999999999999999", nil, false},
		{"m" + strings.Repeat("/0", 255), make([]uint32, 255), true},
		{"m" + strings.Repeat("/0", 256), nil, false},
	}
	for _, tt := range tests {
		name := tt.in
		if len(name) > 40 {
			name = name[:40]
		}
		t.Run(name, func(t *testing.T) {
			got, err := ParsePath(tt.in)
			if !tt.ok {
				if !errors.Is(err, ErrInvalidPath) {
					t.Fatalf("got %v, %v; want ErrInvalidPath", got, err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestFormatPath(t *testing.T) {
	tests := []struct {
		path []uint32
		want string
	}{
		{nil, "m"},
		{IdentityPath, "m/44'/3'/0'/0/0"},
		{[]uint32{0xFFFFFFFF, 0x7FFFFFFF}, "m/2147483647'/2147483647"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := FormatPath(tt.path); got != tt.want {
				t.Fatalf("got %q", got)
			}
		})
	}
}

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"m", "m/44'/3'/0'/0/0", "m/44h/3H/0", "m/2147483648", "m//", "m/0x1", "m/1''", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		path, err := ParsePath(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidPath) {
				t.Fatalf("unwrapped error %v", err)
			}
			return
		}
		again, err := ParsePath(FormatPath(path))
		if err != nil || !slices.Equal(again, path) {
			t.Fatalf("%q: round trip gave %v, %v", s, again, err)
		}
	})
}
