package bip39

import (
	"crypto/sha512"

	"github.com/borgios/borghui/wallet/internal/pbkdf2"
)

// seedIterations is the BIP39 PBKDF2 iteration count.
const seedIterations = 2048

// Seed writes the BIP39 seed of the mnemonic given by indices to dst:
// PBKDF2-HMAC-SHA512(password = the canonical mnemonic, salt = "mnemonic" +
// NFKD(passphrase), 2048 iterations, 64 bytes). The checksum is not checked
// here (Parse does). Every temporary is wiped; indices, passphrase and dst
// stay the caller's to wipe. It panics if an index is not below 2048.
func Seed(indices []uint16, passphrase []byte, dst *[64]byte) {
	password := AppendMnemonic(nil, indices)
	salt := appendNFKD(append(make([]byte, 0, len("mnemonic")+len(passphrase)), "mnemonic"...), passphrase)
	pbkdf2.Key(sha512.New, password, salt, seedIterations, dst[:])
	clear(password)
	clear(salt)
}
