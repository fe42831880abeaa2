package address

import (
	"crypto/sha256"

	//lint:ignore SA1019 RIPEMD-160 is fixed by the Bitcoin/Dogecoin P2PKH address format; it is not used for anything else.
	"golang.org/x/crypto/ripemd160"
)

// Hash160 returns RIPEMD160(SHA256(b)), the hash inside P2PKH addresses and
// BIP32 key fingerprints.
func Hash160(b []byte) [20]byte {
	sha := sha256.Sum256(b)
	h := ripemd160.New()
	h.Write(sha[:])
	var out [20]byte
	h.Sum(out[:0])
	clear(sha[:])
	return out
}
