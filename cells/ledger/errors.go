package ledger

import (
	"errors"
	"fmt"

	"github.com/borgios/borghui/peer/transport"
)

// Sentinel errors. Every error of this package wraps one of them (test with
// errors.Is); an error response from a node is mapped back to its sentinel
// by the code it carries.
var (
	// ErrMalformed: a body, transfer, block, proof or amount is not well
	// formed (syntax, lengths, ranges, limits).
	ErrMalformed = errors.New("ledger: malformed")
	// ErrBadSignature: a transfer, block or proof signature does not verify.
	ErrBadSignature = errors.New("ledger: bad signature")
	// ErrInvalid: a transfer cannot apply to the state it meets (wrong seq,
	// insufficient funds, overflow), or a block breaks a chain rule.
	ErrInvalid = errors.New("ledger: invalid")
	// ErrBusy: the node's queue of pending transfers is full, or a
	// transfer's seq is too far ahead of its account; retry later.
	ErrBusy = errors.New("ledger: busy")
	// ErrNotFound: the node has no such block.
	ErrNotFound = errors.New("ledger: not found")
	// ErrProof: a storage proof does not match its challenge or content.
	ErrProof = errors.New("ledger: bad storage proof")
	// ErrClosed: the server is closed.
	ErrClosed = errors.New("ledger: closed")
	// ErrBadResponse: a node's answer is malformed or inconsistent with
	// the question.
	ErrBadResponse = errors.New("ledger: bad response")
	// ErrCorrupt: the database does not hold a consistent chain.
	ErrCorrupt = errors.New("ledger: corrupt database")
)

// Error codes carried in error responses (transport.RemoteError.Code).
const (
	CodeMalformed = "ledger-malformed"
	CodeSignature = "ledger-bad-signature"
	CodeInvalid   = "ledger-invalid"
	CodeBusy      = "ledger-busy"
	CodeNotFound  = "ledger-not-found"
	CodeClosed    = "ledger-closed"
	CodeInternal  = "ledger-internal"
)

var codes = []struct {
	code string
	err  error
}{
	{CodeMalformed, ErrMalformed},
	{CodeSignature, ErrBadSignature},
	{CodeInvalid, ErrInvalid},
	{CodeBusy, ErrBusy},
	{CodeNotFound, ErrNotFound},
	{CodeClosed, ErrClosed},
}

// remote turns a handler error into an error response with a stable code.
func remote(err error) *transport.RemoteError {
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return &transport.RemoteError{Code: c.code, Message: err.Error()}
		}
	}
	return &transport.RemoteError{Code: CodeInternal, Message: err.Error()}
}

// fromRemote maps an error response back to this package's sentinel; other
// errors (unreachable, bad response) are returned wrapped as they are.
func fromRemote(typ string, err error) error {
	var re *transport.RemoteError
	if errors.As(err, &re) {
		for _, c := range codes {
			if re.Code == c.code {
				return fmt.Errorf("ledger: %s: %w: %w", typ, c.err, err)
			}
		}
	}
	return fmt.Errorf("ledger: %s: %w", typ, err)
}
