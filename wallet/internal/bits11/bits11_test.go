package bits11

import "testing"

func TestRoundTrip(t *testing.T) {
	for n := 1; n <= 27; n++ {
		b := make([]byte, (n*11+7)/8+2)
		for i := 0; i < n; i++ {
			Put(b, i, uint16((i*733+5)%2048))
		}
		for i := 0; i < n; i++ {
			if got, want := Get(b, i), uint16((i*733+5)%2048); got != want {
				t.Fatalf("n=%d group %d = %d, want %d", n, i, got, want)
			}
		}
	}
	// Big-endian: the first group is the top 11 bits.
	b := []byte{0xFF, 0xE0, 0, 0}
	if Get(b, 0) != 0x7FF || Get(b, 1) != 0 {
		t.Fatalf("bit order: %x %x", Get(b, 0), Get(b, 1))
	}
}
