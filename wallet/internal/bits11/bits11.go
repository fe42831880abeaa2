// Package bits11 packs and unpacks the 11-bit groups of word-list encodings
// (BIP39 and the legacy borgHUI phrase), big-endian, in place.
package bits11

// Get returns the i-th 11-bit group of b. b must hold two bytes of slack
// past the group (the read window is three bytes).
func Get(b []byte, i int) uint16 {
	bit := i * 11
	k := bit / 8
	v := uint32(b[k])<<16 | uint32(b[k+1])<<8 | uint32(b[k+2])
	return uint16(v>>(13-bit%8)) & 0x7FF
}

// Put ORs the low 11 bits of x into the i-th group of b (same slack rule).
func Put(b []byte, i int, x uint16) {
	bit := i * 11
	k := bit / 8
	v := uint32(x&0x7FF) << (13 - bit%8)
	b[k] |= byte(v >> 16)
	b[k+1] |= byte(v >> 8)
	b[k+2] |= byte(v)
}
