package shard

import (
	"errors"
	"fmt"

	"github.com/borgios/borghui/peer/transport"
)

// Sentinel errors. Every error of this package wraps one of them (test with
// errors.Is); an error response from a cell is mapped back to its sentinel
// by the code it carries.
var (
	// ErrMalformed: a request or response body is not what the protocol says.
	ErrMalformed = errors.New("shard: malformed")
	// ErrTooLarge: a blob or body is over its limit.
	ErrTooLarge = errors.New("shard: too large")
	// ErrHashMismatch: the blob's SHA-256 is not the id it was sent under.
	ErrHashMismatch = errors.New("shard: content hash does not match the id")
	// ErrQuota: storing the blob would take the owner over the node's quota.
	ErrQuota = errors.New("shard: owner quota exceeded")
	// ErrNotFound: the node does not hold the shard.
	ErrNotFound = errors.New("shard: not found")
	// ErrCorrupt: the node's copy failed its hash check on read; it has
	// been quarantined and the reader must fetch elsewhere and ask for repair.
	ErrCorrupt = errors.New("shard: stored copy is corrupt")
	// ErrNotOwner: the requester holds no reference to the shard.
	ErrNotOwner = errors.New("shard: requester is not an owner of the shard")
	// ErrNotMember: a node-to-node request came from a node this node does
	// not know as a member of the shard tree.
	ErrNotMember = errors.New("shard: sender is not a known member")
	// ErrUnderReplicated: fewer copies than the target answered.
	ErrUnderReplicated = errors.New("shard: fewer copies than the target")
	// ErrNoHolder: no node could serve or store the shard.
	ErrNoHolder = errors.New("shard: no node could serve the request")
	// ErrClosed: the store or server is closed.
	ErrClosed = errors.New("shard: closed")
)

// Error codes carried in error responses (transport.RemoteError.Code).
const (
	CodeMalformed    = "malformed"
	CodeTooLarge     = "too-large"
	CodeHashMismatch = "bad-hash"
	CodeQuota        = "quota"
	CodeNotFound     = "not-found"
	CodeCorrupt      = "corrupt"
	CodeNotOwner     = "not-owner"
	CodeNotMember    = "not-member"
	CodeClosed       = "closed"
)

var codes = []struct {
	code string
	err  error
}{
	{CodeMalformed, ErrMalformed},
	{CodeTooLarge, ErrTooLarge},
	{CodeHashMismatch, ErrHashMismatch},
	{CodeQuota, ErrQuota},
	{CodeNotFound, ErrNotFound},
	{CodeCorrupt, ErrCorrupt},
	{CodeNotOwner, ErrNotOwner},
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
	return err
}

// fromRemote maps an error response back to this package's sentinel; other
// errors (unreachable, bad response) are returned wrapped as they are.
func fromRemote(typ string, err error) error {
	var re *transport.RemoteError
	if errors.As(err, &re) {
		for _, c := range codes {
			if re.Code == c.code {
				return fmt.Errorf("shard: %s: %w (%s)", typ, c.err, re.Message)
			}
		}
		// A put's body is its blob: the transport's body-hash refusal is
		// the blob not matching its id.
		if re.Code == "body-hash" {
			return fmt.Errorf("shard: %s: %w (%s)", typ, ErrHashMismatch, re.Message)
		}
	}
	return fmt.Errorf("shard: %s: %w", typ, err)
}
