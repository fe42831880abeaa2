package pbkdf2

import (
	"crypto/hmac"
	"crypto/subtle"
	"encoding/binary"
	"hash"
)

// Key fills dst with the PBKDF2 output of PRF = HMAC-h over password and salt
// with the given iteration count.
//
// It panics if iterations < 1, which is a programming error: every caller uses
// a fixed count. Temporaries holding derived material are cleared before Key
// returns; password, salt and dst stay the caller's to wipe.
func Key(h func() hash.Hash, password, salt []byte, iterations int, dst []byte) {
	if iterations < 1 {
		panic("pbkdf2: iteration count must be at least 1")
	}
	prf := hmac.New(h, password)
	size := prf.Size()
	u := make([]byte, 0, size) // U_j
	t := make([]byte, size)    // T_i = U_1 xor ... xor U_c
	var counter [4]byte

	for block := uint32(1); len(dst) > 0; block++ {
		prf.Reset()
		prf.Write(salt)
		binary.BigEndian.PutUint32(counter[:], block)
		prf.Write(counter[:])
		u = prf.Sum(u[:0])
		copy(t, u)
		for n := 1; n < iterations; n++ {
			prf.Reset()
			prf.Write(u)
			u = prf.Sum(u[:0])
			subtle.XORBytes(t, t, u)
		}
		dst = dst[copy(dst, t):]
	}

	clear(u[:cap(u)])
	clear(t)
	prf.Reset()
}
