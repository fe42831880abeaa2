package wallet

import (
	"errors"
	"fmt"

	"github.com/zalando/go-keyring"
)

// The opt-in "remember my passphrase on this computer". It is off by
// default because it writes to the host (the OS keyring), which breaks the
// promise that nothing is left behind; the UI says so before it is turned on.
//
// go-keyring passes secrets as Go strings, so the passphrase briefly exists
// in an unwipeable string while it is stored or recalled. That, too, is part
// of the trade the person accepts by opting in.

const keyringService = "BorgHUI Conduit"

// ErrNoKeyring means the host has no usable keyring service (common on
// headless or minimal Linux without a Secret Service daemon).
var ErrNoKeyring = errors.New("wallet: this computer has no keyring service to remember the passphrase in")

// ErrNotRemembered means no passphrase is stored for this identity here.
var ErrNotRemembered = errors.New("wallet: the passphrase is not remembered on this computer")

// Remember stores the keystore passphrase in the host's keyring under the
// identity's MUID.
func Remember(muid string, passphrase []byte) error {
	if err := keyring.Set(keyringService, muid, string(passphrase)); err != nil {
		return keyringError(err)
	}
	return nil
}

// Recall returns the remembered passphrase as bytes the caller wipes.
func Recall(muid string) ([]byte, error) {
	s, err := keyring.Get(keyringService, muid)
	if err != nil {
		return nil, keyringError(err)
	}
	return []byte(s), nil
}

// Forget removes the remembered passphrase from the host's keyring. Forgetting
// what was never remembered is not an error.
func Forget(muid string) error {
	err := keyring.Delete(keyringService, muid)
	if err != nil && !errors.Is(err, keyring.ErrNotFound) {
		return keyringError(err)
	}
	return nil
}

func keyringError(err error) error {
	switch {
	case errors.Is(err, keyring.ErrNotFound):
		return ErrNotRemembered
	case errors.Is(err, keyring.ErrUnsupportedPlatform):
		return ErrNoKeyring
	}
	// Everything else (no D-Bus, no Secret Service, a locked collection) is
	// the host lacking a usable keyring.
	return fmt.Errorf("%w: %v", ErrNoKeyring, err)
}
