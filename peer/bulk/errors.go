package bulk

import (
	"errors"
	"fmt"
)

// Sentinel errors. Errors returned by this package wrap at most one of them
// (test with errors.Is) and start with "bulk: ".
var (
	// ErrRefused: the receiver refused the offer (policy hook, size limit,
	// malformed offer). Nothing was stored; Send does not retry.
	ErrRefused = errors.New("bulk: refused")
	// ErrRemote: the other side ended the transfer with a failure frame; the
	// error is a *RemoteError carrying its code and reason.
	ErrRemote = errors.New("bulk: remote failure")
	// ErrProtocol: the peer sent a malformed or unexpected frame.
	ErrProtocol = errors.New("bulk: protocol violation")
	// ErrTimeout: no progress (no frame from the peer, or a write that did
	// not complete) within the chunk timeout.
	ErrTimeout = errors.New("bulk: no progress")
	// ErrSourceChanged: a chunk read from the source no longer matches the
	// hash computed when the offer was made.
	ErrSourceChanged = errors.New("bulk: source changed")
	// ErrTooManyResends: a chunk was rejected by the receiver more often than
	// the resend limit allows.
	ErrTooManyResends = errors.New("bulk: too many resends")
	// ErrVerify: the received file did not verify (receiver side); the
	// partial data was removed.
	ErrVerify = errors.New("bulk: verification failed")
	// ErrBadOffer: an offer or its parameters are outside the protocol's
	// limits or inconsistent.
	ErrBadOffer = errors.New("bulk: bad offer")
)

// Code is the reason code of a Fail (receiver) or Abort (sender) frame.
type Code uint8

// Reason codes on the wire. Codes are stable; a frame with an unknown code is
// a protocol violation.
const (
	CodeRefused        Code = 1  // the receiver's policy hook said no
	CodeTooLarge       Code = 2  // the offer exceeds the receiver's MaxSize
	CodeBadOffer       Code = 3  // the offer is malformed or inconsistent
	CodeProtocol       Code = 4  // a malformed or unexpected frame
	CodeIO             Code = 5  // the receiver's storage failed (retryable)
	CodeVerify         Code = 6  // on-disk verification failed; partial removed (retryable)
	CodeBadChunks      Code = 7  // too many chunks failed their hash; partial removed
	CodeSourceChanged  Code = 8  // sender: its source no longer matches the offer
	CodeTooManyResends Code = 9  // sender: a chunk kept failing; gave up
	CodeShutdown       Code = 10 // the receiver is shutting down (retryable)
	maxCode                 = CodeShutdown
)

var codeNames = [...]string{
	CodeRefused:        "refused",
	CodeTooLarge:       "too-large",
	CodeBadOffer:       "bad-offer",
	CodeProtocol:       "protocol",
	CodeIO:             "io",
	CodeVerify:         "verify",
	CodeBadChunks:      "bad-chunks",
	CodeSourceChanged:  "source-changed",
	CodeTooManyResends: "too-many-resends",
	CodeShutdown:       "shutdown",
}

func (c Code) String() string {
	if c >= 1 && c <= maxCode {
		return codeNames[c]
	}
	return fmt.Sprintf("code-%d", uint8(c))
}

// retryable reports whether a sender may try the same offer again after a
// Fail with this code.
func (c Code) retryable() bool {
	return c == CodeIO || c == CodeVerify || c == CodeShutdown
}

// RemoteError is a Fail or Abort frame received from the peer. It matches
// ErrRemote, and ErrRefused when it answered an offer.
type RemoteError struct {
	Code    Code
	Reason  string // from the peer; printable UTF-8, at most MaxReasonLen bytes
	Refusal bool   // true when it answered the offer (nothing was stored)
}

func (e *RemoteError) Error() string {
	what := "remote failure"
	if e.Refusal {
		what = "refused"
	}
	if e.Reason == "" {
		return fmt.Sprintf("bulk: %s: %s", what, e.Code)
	}
	return fmt.Sprintf("bulk: %s: %s: %s", what, e.Code, e.Reason)
}

// Is makes errors.Is(err, ErrRemote) and, for refusals, ErrRefused true.
func (e *RemoteError) Is(target error) bool {
	return target == ErrRemote || (e.Refusal && target == ErrRefused)
}
