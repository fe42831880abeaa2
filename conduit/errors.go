package conduit

import (
	"errors"
	"fmt"
	"strings"

	"github.com/borgios/borghui/wallet"
	"github.com/borgios/borghui/wallet/bip39"
	"github.com/borgios/borghui/wallet/keystore"
	"github.com/borgios/borghui/wallet/legacy"
)

// Sentinel errors callers branch on.
var (
	// ErrIdentityExists: the stick already holds an identity and the caller
	// did not confirm replacing it.
	ErrIdentityExists = errors.New("conduit: an identity already exists on this stick")
	// ErrNoIdentity: there is nothing to unlock.
	ErrNoIdentity = errors.New("conduit: no identity on this stick")
	// ErrLocked: the action needs an unlocked identity.
	ErrLocked = errors.New("conduit: the identity is locked")
	// ErrNoDraft: the create flow was not started or has been finished.
	ErrNoDraft = errors.New("conduit: no identity is being created")
	// ErrWordsShown: the new words are shown only once.
	ErrWordsShown = errors.New("conduit: the new words were already shown")
	// ErrQuizNotPassed: the passphrase step came before the quiz.
	ErrQuizNotPassed = errors.New("conduit: the word check was not passed")
)

// errKeystore marks errors that come from the keystore on the stick, so
// UserMessage can let package keystore word them.
var errKeystore = errors.New("keystore")

// fromKeystore marks err (nil stays nil) as coming from the keystore.
func fromKeystore(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("conduit: %w: %w", errKeystore, err)
}

// QuizError says which checked words were wrong (1-based word positions).
type QuizError struct{ Wrong []int }

func (e *QuizError) Error() string { return fmt.Sprintf("conduit: word check failed at %v", e.Wrong) }

// PassphraseError says why a new passphrase was refused.
type PassphraseError struct{ Reason string }

func (e *PassphraseError) Error() string { return "conduit: passphrase refused: " + e.Reason }

// UserMessage turns an error of this package (or of the wallet beneath it)
// into one short sentence for the person, saying what to do. It never
// contains a secret.
func UserMessage(err error) string {
	var (
		count *bip39.WordCountError
		word  *bip39.UnknownWordError
		quiz  *QuizError
		pass  *PassphraseError
	)
	switch {
	case err == nil:
		return ""
	case errors.As(err, &count):
		return fmt.Sprintf("You entered %d words. Enter all of them, in order: 24 for a BorgHUI identity, 27 for an old borgHUI phrase.", count.Got)
	case errors.As(err, &word):
		msg := fmt.Sprintf("Word %d is not in the word list.", word.Position)
		if len(word.Suggestions) > 0 {
			msg += " Did you mean " + strings.Join(word.Suggestions, ", ") + "?"
		}
		return msg
	case errors.Is(err, bip39.ErrChecksum), errors.Is(err, legacy.ErrChecksum):
		return "Every word is valid, but together they do not form an identity. Check the order and the spelling of each word."
	case errors.As(err, &quiz):
		return fmt.Sprintf("Word %s does not match what was shown. Check your written copy and try again.", joinInts(quiz.Wrong))
	case errors.As(err, &pass):
		return pass.Reason
	case errors.Is(err, ErrIdentityExists):
		return "This stick already holds an identity. Confirm that you want to replace it; a backup copy of the old one stays on the stick."
	case errors.Is(err, ErrNoIdentity):
		return "There is no identity on this stick yet. Create one or restore yours."
	case errors.Is(err, ErrLocked), errors.Is(err, wallet.ErrLocked):
		return "Your identity is locked. Unlock it with your passphrase."
	case errors.Is(err, ErrNoWords):
		return NoWordsMessage
	case errors.Is(err, ErrNoDraft):
		return "That step belongs to creating an identity, which is not under way. Start again."
	case errors.Is(err, ErrWordsShown):
		return "For your safety the new words are shown only once. If you did not write them down, start again with new words."
	case errors.Is(err, ErrQuizNotPassed):
		return "Confirm three of your words first."
	case errors.Is(err, legacy.ErrPassphraseRequired):
		return "This wallet file is encrypted. Enter the passphrase you used with borgHUI."
	case errors.Is(err, legacy.ErrWrongPassphrase):
		return "That passphrase does not open this wallet file. Check it and try again."
	case errors.Is(err, legacy.ErrUnknownFormat):
		return "This file is not a borgHUI wallet, passport or PeerTree key file."
	case errors.Is(err, legacy.ErrMismatch):
		return "This wallet file is inconsistent: its key does not match the address written in it. It may be damaged."
	case errors.Is(err, wallet.ErrNoKeyring):
		return "This computer has no keyring service, so the passphrase cannot be remembered here. You will type it each time."
	case errors.Is(err, wallet.ErrNotRemembered):
		return "The passphrase is not remembered on this computer. Type it to unlock."
	}
	if errors.Is(err, errKeystore) {
		return keystore.UserMessage(err)
	}
	if msg := networkMessage(err); msg != "" {
		return msg
	}
	return "Something went wrong. Details are in the log on your stick."
}

func joinInts(ns []int) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = fmt.Sprint(n)
	}
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}
