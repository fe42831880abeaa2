package conduit

import (
	"github.com/borgios/borghui/wallet"
	"github.com/borgios/borghui/wallet/legacy"
)

// Inspect derives the public face of an identity from its words without
// storing anything: 24 BIP39 words and an optional BIP39 passphrase, or, with
// legacyPhrase, an old borgHUI 27-word phrase (which takes no passphrase).
func Inspect(words, bip39Passphrase []byte, legacyPhrase bool) (IdentityInfo, error) {
	var (
		id  *wallet.Identity
		err error
	)
	if legacyPhrase {
		var key [32]byte
		if err = legacy.DecodePhrase(words, &key); err != nil {
			clear(key[:])
			return IdentityInfo{}, err
		}
		id, err = wallet.FromLegacyKey(&key)
	} else {
		id, err = wallet.FromWords(words, bip39Passphrase)
	}
	if err != nil {
		return IdentityInfo{}, err
	}
	defer id.Destroy()
	return infoOf(id), nil
}
