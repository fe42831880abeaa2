package bip39

import (
	"bytes"
	"errors"
	"slices"
	"testing"
)

func TestEntropyToIndicesLengths(t *testing.T) {
	tests := []struct {
		n     int
		words int
		err   bool
	}{
		{0, 0, true}, {12, 0, true}, {15, 0, true}, {16, 12, false}, {17, 0, true},
		{20, 15, false}, {24, 18, false}, {28, 21, false}, {32, 24, false}, {36, 0, true},
	}
	for _, tt := range tests {
		t.Run("", func(t *testing.T) {
			got, err := EntropyToIndices(make([]byte, tt.n))
			if tt.err {
				if !errors.Is(err, ErrEntropyLength) {
					t.Fatalf("%d bytes: got %v, want ErrEntropyLength", tt.n, err)
				}
				return
			}
			if err != nil || len(got) != tt.words {
				t.Fatalf("%d bytes: got %d words, %v; want %d", tt.n, len(got), err, tt.words)
			}
		})
	}
}

func TestIndicesToEntropyErrors(t *testing.T) {
	valid, err := EntropyToIndices(bytes.Repeat([]byte{0x7f}, 16))
	if err != nil {
		t.Fatal(err)
	}
	swapped := slices.Clone(valid)
	swapped[0], swapped[1] = swapped[1], swapped[0]
	outOfRange := slices.Clone(valid)
	outOfRange[4] = 2048

	tests := []struct {
		name    string
		indices []uint16
		check   func(error) bool
	}{
		{"nil", nil, isCountError(0)},
		{"11 words", valid[:11], isCountError(11)},
		{"13 words", append(slices.Clone(valid), 0), isCountError(13)},
		{"out of range", outOfRange, func(err error) bool { return errors.Is(err, ErrInvalidIndex) }},
		{"swapped", swapped, func(err error) bool { return errors.Is(err, ErrChecksum) }},
		{"all abandon", make([]uint16, 12), func(err error) bool { return errors.Is(err, ErrChecksum) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := []byte{9, 9, 9}
			got, err := IndicesToEntropy(tt.indices, dst)
			if got != nil || !tt.check(err) {
				t.Fatalf("got %x, %v", got, err)
			}
			if !bytes.Equal(dst, []byte{9, 9, 9}) {
				t.Fatal("dst written on error")
			}
		})
	}
}

func TestIndicesToEntropyReusesDst(t *testing.T) {
	entropy := bytes.Repeat([]byte{0x80}, 32)
	indices, err := EntropyToIndices(entropy)
	if err != nil {
		t.Fatal(err)
	}
	var buf [Entropy24]byte
	got, err := IndicesToEntropy(indices, buf[:5])
	if err != nil {
		t.Fatal(err)
	}
	if &got[0] != &buf[0] || !bytes.Equal(got, entropy) {
		t.Fatalf("got %x (reused: %v)", got, &got[0] == &buf[0])
	}
}

func isCountError(n int) func(error) bool {
	return func(err error) bool {
		var wc *WordCountError
		return errors.As(err, &wc) && wc.Got == n
	}
}
