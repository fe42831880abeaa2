package mail

import (
	"errors"
	"fmt"

	"github.com/borgios/borghui/peer/transport"
)

// Sentinel errors. Errors of this package wrap one of them (test with
// errors.Is); a refusal by a cell is mapped back to its sentinel by the
// code it carries, and still wraps the *transport.RemoteError.
var (
	// ErrMalformed: a body, card, message, envelope or file is not well
	// formed (syntax, lengths, ranges, limits).
	ErrMalformed = errors.New("mail: malformed")
	// ErrTooLarge: a message is over MaxMessage (or a sealed one over
	// MaxSealed).
	ErrTooLarge = errors.New("mail: too large")
	// ErrBadSignature: a card, message or ack signature does not verify
	// against the key it names.
	ErrBadSignature = errors.New("mail: bad signature")
	// ErrForged: a message is signed, but not by the identity it claims
	// (its sender address is not its key's), or it does not belong to the
	// envelope it came in (another id or mailbox).
	ErrForged = errors.New("mail: forged sender or misaddressed message")
	// ErrOpen: a sealed message cannot be opened with the key it names
	// (tampered ciphertext or header, or sealed to someone else).
	ErrOpen = errors.New("mail: cannot open message")
	// ErrNoKey: the private key an envelope names is not held (a prekey
	// already consumed and destroyed, or lost with another stick).
	ErrNoKey = errors.New("mail: private key not held")
	// ErrForbidden: the requester may not do this (read or acknowledge
	// another's mailbox, publish another's card).
	ErrForbidden = errors.New("mail: forbidden")
	// ErrStale: a card is not newer than the one the cell holds. errors.As
	// gives the *StaleError with the current card.
	ErrStale = errors.New("mail: stale card version")
	// ErrNotFound: no card for that address.
	ErrNotFound = errors.New("mail: not found")
	// ErrConflict: a message id is already used by another message.
	ErrConflict = errors.New("mail: message id already used")
	// ErrMailboxFull: the recipient's mailbox on the cell is at its limit.
	ErrMailboxFull = errors.New("mail: mailbox full")
	// ErrNotMember: a node-to-node request came from a node this node does
	// not know as a member of the mail tree.
	ErrNotMember = errors.New("mail: sender is not a known member")
	// ErrBadResponse: a cell's answer is malformed or carries data that
	// does not verify.
	ErrBadResponse = errors.New("mail: bad response")
	// ErrNoNode: no cell could serve the request.
	ErrNoNode = errors.New("mail: no cell could serve the request")
	// ErrClosed: the server, store or file is closed.
	ErrClosed = errors.New("mail: closed")
)

// Error codes of refusals (transport.RemoteError.Code).
const (
	CodeMalformed   = "mail-malformed"
	CodeTooLarge    = "mail-too-large"
	CodeSignature   = "mail-bad-signature"
	CodeForbidden   = "mail-forbidden"
	CodeStale       = "mail-stale"
	CodeNotFound    = "mail-not-found"
	CodeConflict    = "mail-conflict"
	CodeMailboxFull = "mail-mailbox-full"
	CodeNotMember   = "mail-not-member"
	CodeClosed      = "mail-closed"
	CodeInternal    = "mail-internal"
)

var codes = []struct {
	code string
	err  error
}{
	{CodeMalformed, ErrMalformed},
	{CodeTooLarge, ErrTooLarge},
	{CodeSignature, ErrBadSignature},
	{CodeForbidden, ErrForbidden},
	{CodeStale, ErrStale},
	{CodeNotFound, ErrNotFound},
	{CodeConflict, ErrConflict},
	{CodeMailboxFull, ErrMailboxFull},
	{CodeNotMember, ErrNotMember},
	{CodeClosed, ErrClosed},
}

// remote turns a handler error into an error response with a stable code.
func remote(err error) error {
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return &transport.RemoteError{Code: c.code, Message: err.Error()}
		}
	}
	return &transport.RemoteError{Code: CodeInternal, Message: "internal error"}
}

// fromRemote maps an error response back to this package's sentinel; other
// errors (unreachable, bad response) are returned wrapped as they are.
func fromRemote(typ string, err error) error {
	var re *transport.RemoteError
	if errors.As(err, &re) {
		for _, c := range codes {
			if re.Code == c.code {
				return fmt.Errorf("mail: %s: %w: %w", typ, c.err, err)
			}
		}
		if re.Code == "too-large" {
			return fmt.Errorf("mail: %s: %w: %w", typ, ErrTooLarge, err)
		}
	}
	return fmt.Errorf("mail: %s: %w", typ, err)
}

// permanent reports whether err is a refusal that another try (or another
// cell) would repeat.
func permanent(err error) bool {
	for _, e := range []error{ErrMalformed, ErrTooLarge, ErrConflict, ErrForbidden, ErrBadSignature} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// StaleError is a refused card put: Current is the cell's card (verified by
// the client), whose version the next put must exceed.
type StaleError struct {
	Current *Card
}

// Error implements error.
func (e *StaleError) Error() string {
	if e.Current == nil {
		return ErrStale.Error()
	}
	return fmt.Sprintf("%s: the cell holds version %d", ErrStale, e.Current.Version)
}

// Is makes errors.Is(err, ErrStale) true.
func (e *StaleError) Is(target error) bool { return target == ErrStale }
