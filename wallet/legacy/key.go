package legacy

import (
	"github.com/borgios/borghui/wallet/address"
	"github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// validKey reports whether key is in [1, n-1].
func validKey(key *[32]byte) bool {
	var s secp256k1.ModNScalar
	overflow := s.SetBytes(key)
	ok := overflow == 0 && !s.IsZero()
	s.Zero()
	return ok
}

// publicKey65 returns the uncompressed public key of the scalar s.
func publicKey65(s *secp256k1.ModNScalar) []byte {
	var p secp256k1.JacobianPoint
	secp256k1.ScalarBaseMultNonConst(s, &p)
	p.ToAffine()
	return secp256k1.NewPublicKey(&p.X, &p.Y).SerializeUncompressed()
}

// identity returns the uncompressed public key and the MUID of a valid key.
func identity(key *[32]byte) (pub []byte, muid string, err error) {
	var s secp256k1.ModNScalar
	defer s.Zero()
	s.SetBytes(key)
	pub = publicKey65(&s)
	muid, err = address.MUID(pub)
	return pub, muid, err
}

// nibble decodes one hex digit.
func nibble(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// decodeKeyHex decodes 1..64 hex digits (left-padded with zeros, since
// elliptic and bn.js drop leading zeros) into dst. It reports only whether
// the text was valid, so no digit can reach an error message. dst is zeroed
// on failure; the padded copy is always wiped.
func decodeKeyHex(digits []byte, dst *[32]byte) bool {
	if len(digits) == 0 || len(digits) > 64 {
		return false
	}
	var padded [64]byte
	defer clear(padded[:])
	for i := range 64 - len(digits) {
		padded[i] = '0'
	}
	copy(padded[64-len(digits):], digits)
	ok := true
	for i := range dst {
		hi, ok1 := nibble(padded[2*i])
		lo, ok2 := nibble(padded[2*i+1])
		ok = ok && ok1 && ok2
		dst[i] = hi<<4 | lo
	}
	if !ok {
		clear(dst[:])
	}
	return ok
}
