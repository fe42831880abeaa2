package address

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
)

// checksum returns the first four bytes of SHA256(SHA256(data)).
func checksum(data []byte) [4]byte {
	first := sha256.Sum256(data)
	second := sha256.Sum256(first[:])
	var c [4]byte
	copy(c[:], second[:4])
	clear(first[:])
	clear(second[:])
	return c
}

// AppendBase58Check appends Base58(data ‖ checksum(data)) to dst and returns
// the extended slice. data carries its own version prefix of any length (one
// byte for addresses, four for BIP32 extended keys).
//
// It is safe for secret data: dst is grown at most once and every internal
// buffer is wiped; data and the result remain the caller's to wipe.
func AppendBase58Check(dst, data []byte) []byte {
	buf := make([]byte, len(data)+4)
	copy(buf, data)
	c := checksum(data)
	copy(buf[len(data):], c[:])
	dst = appendBase58(dst, buf)
	clear(buf)
	clear(c[:])
	return dst
}

// Base58CheckEncode returns Base58Check(version ‖ payload) for public data.
func Base58CheckEncode(version byte, payload []byte) string {
	data := make([]byte, 0, 1+len(payload))
	data = append(data, version)
	data = append(data, payload...)
	return string(AppendBase58Check(nil, data))
}

// Base58CheckDecode decodes a Base58Check string into its version byte and
// payload. Errors wrap ErrTooLong, ErrInvalidCharacter, ErrTooShort or
// ErrChecksum.
func Base58CheckDecode(s string) (version byte, payload []byte, err error) {
	raw, err := decodeBase58(s)
	if err != nil {
		return 0, nil, err
	}
	if len(raw) < 5 {
		return 0, nil, fmt.Errorf("%w: %d bytes decoded, need at least 5", ErrTooShort, len(raw))
	}
	body := raw[:len(raw)-4]
	want := checksum(body)
	if subtle.ConstantTimeCompare(want[:], raw[len(raw)-4:]) != 1 {
		return 0, nil, ErrChecksum
	}
	return body[0], body[1:len(body):len(body)], nil
}
