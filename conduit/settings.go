package conduit

import (
	"errors"
	"fmt"

	"github.com/borgios/borghui/wallet"
	"github.com/borgios/borghui/wallet/keystore"
)

// ErrNoWords: the identity was imported from a legacy key (an old borgHUI
// phrase or wallet file) and has no 24 words to show. NoWordsMessage is
// its sentence for the person.
var ErrNoWords = errors.New("conduit: this identity has no 24 words")

// NoWordsMessage is what the person is told for ErrNoWords.
const NoWordsMessage = "This identity was imported from an old borgHUI key, so it has no 24 words. Keep a copy of your old phrase or wallet file, or create a new 24-word identity from the home page."

// errOtherIdentity: the keystore on the stick holds another identity than
// the unlocked one (it was replaced behind this session's back).
var errOtherIdentity = errors.New("conduit: the keystore on the stick holds another identity than the unlocked one")

// openUnlocked checks passphrase against the keystore on the stick and that
// the keystore holds the unlocked identity. It returns the decrypted
// payload (the caller wipes it) and the keystore's header.
func (c *Conduit) openUnlocked(passphrase []byte) ([]byte, keystore.Meta, IdentityInfo, error) {
	info, err := c.Identity()
	if err != nil {
		return nil, keystore.Meta{}, info, err
	}
	payload, meta, err := c.store.Open(passphrase)
	if err != nil {
		if errors.Is(err, keystore.ErrNotFound) {
			return nil, keystore.Meta{}, info, ErrNoIdentity
		}
		return nil, keystore.Meta{}, info, fromKeystore(err)
	}
	if meta.MUID != info.MUID {
		clear(payload)
		return nil, keystore.Meta{}, info, errOtherIdentity
	}
	return payload, meta, info, nil
}

// ChangePassphrase re-encrypts the identity on the stick under a new
// passphrase (newPass, typed again as confirm). oldPass must open the keystore (else the keystore's
// wrong-passphrase error); newPass is held to the same rules as when creating.
// The same identity payload is written again and the old keystore is kept
// as a backup on the stick (it still opens with the old passphrase). A
// passphrase remembered on this computer is updated, or forgotten when the
// keyring refuses the update. The caller wipes the three slices.
func (c *Conduit) ChangePassphrase(oldPass, newPass, confirm []byte) error {
	payload, meta, info, err := c.openUnlocked(oldPass)
	if err != nil {
		if errors.Is(err, errKeystore) {
			c.log.Warn("passphrase change refused", "reason", keystore.UserMessage(err))
		}
		return err
	}
	defer clear(payload)
	if err := checkNewPassphrase(newPass, confirm); err != nil {
		return err
	}
	backup, err := c.store.Replace(payload, newPass, meta)
	if err != nil {
		return fromKeystore(err)
	}
	c.log.Info("passphrase changed; the old keystore was kept", "backup", backup)
	if c.Remembered() {
		if err := wallet.Remember(info.MUID, newPass); err != nil {
			c.log.Warn("the remembered passphrase could not be updated; forgetting it", "err", err)
			if err := wallet.Forget(info.MUID); err != nil {
				c.log.Warn("the old remembered passphrase could not be removed from this computer's keyring", "err", err)
			}
			if err := c.cfg.Remember.set(info.MUID, false); err != nil {
				c.log.Warn("remember list not updated", "err", err)
			}
		} else {
			c.log.Info("the passphrase remembered on this computer was updated")
		}
	}
	return nil
}

// RevealWords returns the unlocked identity's 24 words, space-separated,
// once passphrase has opened the keystore on the stick. The caller wipes
// the result. A legacy identity has none: ErrNoWords.
func (c *Conduit) RevealWords(passphrase []byte) ([]byte, error) {
	payload, _, _, err := c.openUnlocked(passphrase)
	if err != nil {
		return nil, err
	}
	clear(payload)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.id == nil {
		return nil, ErrLocked
	}
	if c.id.Kind() != wallet.KindWords {
		return nil, ErrNoWords
	}
	words, err := c.id.AppendWords(nil)
	if err != nil {
		clear(words)
		return nil, fmt.Errorf("conduit: reading the words: %w", err)
	}
	c.log.Info("the 24 words were shown at the person's request")
	return words, nil
}
