package crono

import (
	"errors"
	"fmt"

	"github.com/borgios/borghui/peer/transport"
)

// Sentinel errors. Every error of this package wraps one of them (test with
// errors.Is); an error response from a cell is mapped back to its sentinel
// by the code it carries.
var (
	// ErrMalformed: a request or answer body is not what the protocol
	// says (syntax, unknown or missing members, out-of-range times, an
	// answer for another t1, t3 before t2, a negative delay).
	ErrMalformed = errors.New("crono: malformed")
	// ErrSlow: the exchange took longer than MaxDelay; its offset error
	// bound (delay/2) is too loose to be used.
	ErrSlow = errors.New("crono: exchange too slow")
	// ErrAbsurd: the measured offset is beyond ±MaxOffset.
	ErrAbsurd = errors.New("crono: absurd clock offset")
	// ErrNoAnswer: no cell gave a usable sample.
	ErrNoAnswer = errors.New("crono: no usable time answer")
	// ErrDisagree: the cells that answered do not agree: no majority lies
	// within MaxDisagree of their median.
	ErrDisagree = errors.New("crono: time cells disagree")
	// ErrClosed: the server is closed.
	ErrClosed = errors.New("crono: closed")
)

// Error codes carried in error responses (transport.RemoteError.Code).
const (
	CodeMalformed = "malformed"
	CodeClosed    = "closed"
)

var codes = []struct {
	code string
	err  error
}{
	{CodeMalformed, ErrMalformed},
	{CodeClosed, ErrClosed},
}

// remote turns a handler error into an error response with a stable code.
func remote(err error) error {
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return &transport.RemoteError{Code: c.code, Message: err.Error()}
		}
	}
	return err
}

// fromRemote maps an error response back to this package's sentinel; other
// errors (unreachable, bad response) are returned wrapped as they are.
func fromRemote(typ string, err error) error {
	var re *transport.RemoteError
	if errors.As(err, &re) {
		for _, c := range codes {
			if re.Code == c.code {
				return fmt.Errorf("crono: %s: %w (%s)", typ, c.err, re.Message)
			}
		}
	}
	return fmt.Errorf("crono: %s: %w", typ, err)
}
