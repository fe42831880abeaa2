package signer

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
)

// Frame layout (all integers big-endian):
//
//	"BGE1" | uint32 envelope length | envelope wire JSON | uint64 body length | body
const (
	// Magic starts every framed message.
	Magic = "BGE1"
	// MaxEnvelopeBytes bounds the envelope JSON of a frame (a maximal v1
	// envelope is about 1 KiB).
	MaxEnvelopeBytes = 4096
	headerLen        = len(Magic) + 4
)

// Encode returns the framed message env + body. env must be signed. Encode
// does not check the signature or the body hash.
func Encode(env *Envelope, body []byte) ([]byte, error) {
	b, err := appendHeader(make([]byte, 0, 1024+len(body)), env, int64(len(body)))
	if err != nil {
		return nil, err
	}
	return append(b, body...), nil
}

// appendHeader appends everything before the body.
func appendHeader(b []byte, env *Envelope, bodyLen int64) ([]byte, error) {
	if err := env.validate(true); err != nil {
		return nil, err
	}
	if bodyLen < 0 {
		return nil, fmt.Errorf("%w: negative body length", ErrMalformed)
	}
	b = append(b, Magic...)
	at := len(b)
	b = append(b, 0, 0, 0, 0)
	b = env.appendJSON(b, true)
	binary.BigEndian.PutUint32(b[at:], uint32(len(b)-at-4))
	return binary.BigEndian.AppendUint64(b, uint64(bodyLen)), nil
}

// Decode parses one framed message that fills b exactly. The body is a
// sub-slice of b (not copied). maxBody bounds the body length (negative
// means 0). Decode checks the form only: call Verifier.Verify next.
func Decode(b []byte, maxBody int64) (*Envelope, []byte, error) {
	env, n, err := decodeHeader(b)
	if err != nil {
		return nil, nil, err
	}
	rest := b[n:]
	if len(rest) < 8 {
		return nil, nil, fmt.Errorf("%w: body length missing", ErrTruncated)
	}
	bodyLen, err := checkBodyLen(binary.BigEndian.Uint64(rest), maxBody)
	if err != nil {
		return nil, nil, err
	}
	rest = rest[8:]
	switch {
	case int64(len(rest)) < bodyLen:
		return nil, nil, fmt.Errorf("%w: body has %d of %d bytes", ErrTruncated, len(rest), bodyLen)
	case int64(len(rest)) > bodyLen:
		return nil, nil, fmt.Errorf("%w: %d bytes after the body", ErrMalformed, int64(len(rest))-bodyLen)
	}
	return env, rest, nil
}

// decodeHeader parses magic, envelope length and envelope; it returns the
// number of bytes used.
func decodeHeader(b []byte) (*Envelope, int, error) {
	if len(b) < len(Magic) {
		return nil, 0, fmt.Errorf("%w: magic", ErrTruncated)
	}
	if string(b[:len(Magic)]) != Magic {
		return nil, 0, fmt.Errorf("%w: bad magic", ErrMalformed)
	}
	if len(b) < headerLen {
		return nil, 0, fmt.Errorf("%w: envelope length", ErrTruncated)
	}
	n, err := checkEnvLen(binary.BigEndian.Uint32(b[len(Magic):]))
	if err != nil {
		return nil, 0, err
	}
	if len(b) < headerLen+n {
		return nil, 0, fmt.Errorf("%w: envelope has %d of %d bytes", ErrTruncated, len(b)-headerLen, n)
	}
	env, err := parseWireJSON(b[headerLen : headerLen+n])
	if err != nil {
		return nil, 0, err
	}
	return env, headerLen + n, nil
}

func checkEnvLen(n uint32) (int, error) {
	switch {
	case n == 0:
		return 0, fmt.Errorf("%w: empty envelope", ErrMalformed)
	case n > MaxEnvelopeBytes:
		return 0, fmt.Errorf("%w: envelope of %d bytes, limit %d", ErrTooLarge, n, MaxEnvelopeBytes)
	}
	return int(n), nil
}

func checkBodyLen(n uint64, maxBody int64) (int64, error) {
	maxBody = max(maxBody, 0)
	if n > math.MaxInt64 || int64(n) > maxBody {
		return 0, fmt.Errorf("%w: body of %d bytes, limit %d", ErrTooLarge, n, maxBody)
	}
	return int64(n), nil
}

// WriteMessage writes the framed message env + body to w, copying exactly
// bodyLen bytes from body without buffering them. The bytes written are
// those of Encode.
func WriteMessage(w io.Writer, env *Envelope, body io.Reader, bodyLen int64) error {
	hdr, err := appendHeader(make([]byte, 0, 1024), env, bodyLen)
	if err != nil {
		return err
	}
	if _, err := w.Write(hdr); err != nil {
		return fmt.Errorf("signer: write: %w", err)
	}
	n, err := io.CopyN(w, body, bodyLen)
	if err == io.EOF {
		return fmt.Errorf("%w: body gave %d of %d bytes", ErrTruncated, n, bodyLen)
	}
	if err != nil {
		return fmt.Errorf("signer: write: %w", err)
	}
	return nil
}

// ReadMessage reads the header of one framed message from r and returns the
// envelope and a reader of exactly the body's bytes, still unread in r. It
// reads at most MaxEnvelopeBytes+16 bytes itself; the body is never
// buffered. A clean end of r before the first byte returns io.EOF.
//
// The body is unverified until Verifier.VerifyBodyHash(env, body.Sum(), ...)
// succeeds: stream it somewhere provisional until then.
func ReadMessage(r io.Reader, maxBody int64) (*Envelope, *BodyReader, error) {
	var hdr [headerLen]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, nil, readErr(err, "header")
	}
	if string(hdr[:len(Magic)]) != Magic {
		return nil, nil, fmt.Errorf("%w: bad magic", ErrMalformed)
	}
	n, err := checkEnvLen(binary.BigEndian.Uint32(hdr[len(Magic):]))
	if err != nil {
		return nil, nil, err
	}
	buf := make([]byte, n+8)
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, nil, readErr(noEOF(err), "envelope")
	}
	env, err := parseWireJSON(buf[:n])
	if err != nil {
		return nil, nil, err
	}
	bodyLen, err := checkBodyLen(binary.BigEndian.Uint64(buf[n:]), maxBody)
	if err != nil {
		return nil, nil, err
	}
	return env, &BodyReader{r: r, n: bodyLen, left: bodyLen, h: sha256.New()}, nil
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func readErr(err error, what string) error {
	switch {
	case err == io.EOF:
		return io.EOF
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: %s", ErrTruncated, what)
	}
	return fmt.Errorf("signer: read %s: %w", what, err)
}

// BodyReader reads exactly the body of a message and hashes it on the way.
type BodyReader struct {
	r    io.Reader
	n    int64
	left int64
	h    hash.Hash
}

// Read reads from the body. It returns io.EOF at the end of the body and an
// ErrTruncated error if the stream ends before it.
func (b *BodyReader) Read(p []byte) (int, error) {
	if b.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.h.Write(p[:n])
	b.left -= int64(n)
	if err == io.EOF && b.left > 0 {
		err = fmt.Errorf("%w: body ended %d bytes early", ErrTruncated, b.left)
	}
	return n, err
}

// Len returns the body length declared by the frame.
func (b *BodyReader) Len() int64 { return b.n }

// Sum returns the SHA-256 of the body. The body must have been read to the
// end; otherwise Sum returns an ErrTruncated error.
func (b *BodyReader) Sum() (Digest, error) {
	if b.left != 0 {
		return Digest{}, fmt.Errorf("%w: %d body bytes not read", ErrTruncated, b.left)
	}
	var d Digest
	b.h.Sum(d[:0])
	return d, nil
}
