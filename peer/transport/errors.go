package transport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Sentinel errors. Errors of this package wrap one of them or a signer
// sentinel (test with errors.Is).
var (
	// ErrClosed: the Transport or Client is closed.
	ErrClosed = errors.New("transport: closed")
	// ErrUnreachable: the peer could not be dialled, the message could not
	// be written, or the connection was lost before the answer came.
	ErrUnreachable = errors.New("transport: peer unreachable")
	// ErrBadCard: a node card is malformed, expired, badly signed, not bound
	// to the TLS certificate the peer presented, or not the expected node.
	ErrBadCard = errors.New("transport: bad node card")
	// ErrRefused: the remote side refused the connection preamble.
	ErrRefused = errors.New("transport: refused")
	// ErrBadHello: the connection preamble is malformed.
	ErrBadHello = errors.New("transport: bad hello")
	// ErrBadResponse: a response failed verification (unsigned, mis-signed,
	// wrong sender, wrong inReplyTo, stale, replayed). It also wraps the
	// signer sentinel. It counts as a failure of that peer.
	ErrBadResponse = errors.New("transport: bad response")
	// ErrRemote: the peer answered with an error response; errors.As gives
	// the *RemoteError.
	ErrRemote = errors.New("transport: remote error")
	// ErrBadRelayFrame: a relay body is malformed.
	ErrBadRelayFrame = errors.New("transport: bad relay frame")
	// ErrBadErrorBody: an error response body is malformed.
	ErrBadErrorBody = errors.New("transport: bad error body")
	// ErrNoRoute: no address is known for the peer.
	ErrNoRoute = errors.New("transport: no route to peer")
)

// Error codes carried in error responses besides the signer codes
// (signer.ErrorCode: malformed, truncated, too-large, unexpected, stale,
// bad-signature, body-hash, replay, busy).
const (
	CodeUnknownType = "unknown-type" // no handler for the request type
	CodeHandler     = "handler"      // the handler returned an error
	CodeInternal    = "internal"     // the handler panicked or the node failed
	CodeUnreachable = "unreachable"  // a relay could not deliver to its target
)

// RemoteError is the content of an error response: a stable code and a
// short text. A Handler may return a *RemoteError to choose the code.
type RemoteError struct {
	Code    string `json:"code"`
	Message string `json:"error"`
}

func (e *RemoteError) Error() string {
	return fmt.Sprintf("transport: remote error %s: %s", e.Code, e.Message)
}

// Is makes errors.Is(err, ErrRemote) true for every *RemoteError.
func (e *RemoteError) Is(target error) bool { return target == ErrRemote }

// Limits of an error body.
const (
	MaxErrorBody    = 1024
	maxErrorCodeLen = 32
	maxErrorMsgLen  = 512
)

// EncodeErrorBody returns the JSON body of an error response,
// {"code":"…","error":"…"}. The text is cut to 512 bytes (at a rune
// boundary) and an invalid code becomes "internal".
func EncodeErrorBody(code, msg string) []byte {
	if !validName(code, maxErrorCodeLen, codeByte) {
		code = CodeInternal
	}
	if len(msg) > maxErrorMsgLen {
		msg = msg[:maxErrorMsgLen]
		for !utf8.ValidString(msg) {
			msg = msg[:len(msg)-1]
		}
	}
	msg = string(bytes.ToValidUTF8([]byte(msg), []byte("?")))
	b, _ := json.Marshal(RemoteError{Code: code, Message: msg})
	return b
}

// DecodeErrorBody parses an error response body strictly: at most 1024
// bytes, exactly the members code and error, a code of 1..32 bytes of
// [a-z0-9-], a text of at most 512 bytes, nothing after the object.
func DecodeErrorBody(b []byte) (*RemoteError, error) {
	if len(b) > MaxErrorBody {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrBadErrorBody, len(b), MaxErrorBody)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var e struct {
		Code    *string `json:"code"`
		Message *string `json:"error"`
	}
	if err := dec.Decode(&e); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadErrorBody, err)
	}
	if dec.More() || dec.InputOffset() != int64(len(bytes.TrimRight(b, " \t\r\n"))) {
		return nil, fmt.Errorf("%w: trailing bytes", ErrBadErrorBody)
	}
	switch {
	case e.Code == nil || e.Message == nil:
		return nil, fmt.Errorf("%w: code and error are required", ErrBadErrorBody)
	case !validName(*e.Code, maxErrorCodeLen, codeByte):
		return nil, fmt.Errorf("%w: code is not 1..%d bytes of [a-z0-9-]", ErrBadErrorBody, maxErrorCodeLen)
	case len(*e.Message) > maxErrorMsgLen:
		return nil, fmt.Errorf("%w: error text longer than %d bytes", ErrBadErrorBody, maxErrorMsgLen)
	}
	return &RemoteError{Code: *e.Code, Message: *e.Message}, nil
}

func codeByte(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' }
