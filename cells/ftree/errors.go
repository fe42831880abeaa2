package ftree

import "errors"

// Sentinel errors. Errors of this package wrap one of them (test with
// errors.Is); a remote refusal wraps both the sentinel and the
// *transport.RemoteError that carried it.
var (
	// ErrMalformed: a body, record, share, capability or link is not well
	// formed (syntax, lengths, ranges, limits).
	ErrMalformed = errors.New("ftree: malformed")
	// ErrBadSignature: a record or share signature does not verify against
	// the key it names.
	ErrBadSignature = errors.New("ftree: bad signature")
	// ErrForbidden: the requester is not allowed to do this (writing another
	// owner's record, sharing in another's name, revoking another's share).
	ErrForbidden = errors.New("ftree: forbidden")
	// ErrConflict: a root write does not extend the node's current record.
	// errors.As gives the *ConflictError with the current record.
	ErrConflict = errors.New("ftree: conflict")
	// ErrNotFound: the node holds no record for that owner, or no such share.
	ErrNotFound = errors.New("ftree: not found")
	// ErrInboxFull: the recipient's inbox holds the maximum number of shares.
	ErrInboxFull = errors.New("ftree: inbox full")
	// ErrOpen: a sealed capability cannot be opened with this key (wrong
	// recipient, tampered box, bad format).
	ErrOpen = errors.New("ftree: cannot open capability")
	// ErrBadResponse: a node's answer is malformed or carries data that does
	// not verify (a record of another owner, a forged share).
	ErrBadResponse = errors.New("ftree: bad response")
)

// ConflictError is a refused root write. Current is the node's current
// record (verified by the client), so the caller can merge and retry with
// Current.Version+1.
type ConflictError struct {
	Current *RootRecord
}

func (e *ConflictError) Error() string {
	if e.Current == nil {
		return "ftree: conflict: the node holds no record"
	}
	return "ftree: conflict: the node's current version is " + uitoa(e.Current.Version)
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }
