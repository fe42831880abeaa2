package address

import "fmt"

const alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

// MaxEncodedLen bounds the text Base58CheckDecode accepts. The longest value
// the project decodes is a 111-character BIP32 extended key.
const MaxEncodedLen = 128

// digitOf maps an ASCII byte to its Base58 digit, or 0xFF.
var digitOf = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xFF
	}
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

// appendBase58 appends the Base58 text of data to dst. dst is grown once, so
// no partial copy of the output is left behind; the working buffer is wiped.
func appendBase58(dst, data []byte) []byte {
	zeros := 0
	for zeros < len(data) && data[zeros] == 0 {
		zeros++
	}
	// log(256)/log(58) < 1.38: enough base-58 digits for the rest.
	size := (len(data)-zeros)*138/100 + 1
	digits := make([]byte, size)
	high := size - 1
	for _, b := range data[zeros:] {
		carry := uint32(b)
		j := size - 1
		for ; j > high || carry != 0; j-- {
			carry += 256 * uint32(digits[j])
			digits[j] = byte(carry % 58)
			carry /= 58
		}
		high = j
	}
	start := 0
	for start < size && digits[start] == 0 {
		start++
	}

	need := zeros + size - start
	if cap(dst)-len(dst) < need {
		grown := make([]byte, len(dst), len(dst)+need)
		copy(grown, dst)
		dst = grown
	}
	for range zeros {
		dst = append(dst, alphabet[0])
	}
	for _, d := range digits[start:] {
		dst = append(dst, alphabet[d])
	}
	clear(digits)
	return dst
}

// decodeBase58 returns the bytes s encodes.
func decodeBase58(s string) ([]byte, error) {
	if len(s) > MaxEncodedLen {
		return nil, fmt.Errorf("%w: %d characters, at most %d", ErrTooLong, len(s), MaxEncodedLen)
	}
	zeros := 0
	for zeros < len(s) && s[zeros] == alphabet[0] {
		zeros++
	}
	// log(58)/log(256) < 0.733.
	size := (len(s)-zeros)*733/1000 + 1
	out := make([]byte, size)
	high := size - 1
	for i := zeros; i < len(s); i++ {
		d := digitOf[s[i]]
		if d == 0xFF {
			return nil, fmt.Errorf("%w at position %d", ErrInvalidCharacter, i+1)
		}
		carry := uint32(d)
		j := size - 1
		for ; j > high || carry != 0; j-- {
			carry += 58 * uint32(out[j])
			out[j] = byte(carry)
			carry >>= 8
		}
		high = j
	}
	start := 0
	for start < size && out[start] == 0 {
		start++
	}
	res := make([]byte, zeros+size-start)
	copy(res[zeros:], out[start:])
	return res, nil
}
