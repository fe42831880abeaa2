package transport

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// The connection preamble ("hello") follows the TLS handshake. Layout (all
// integers big-endian):
//
//	"BGT1" | kind (1) | purpose length P (1) | purpose (P) | card length C (2) | card JSON (C)
//
// kind 'M': dialler, message channel (P = 0, card present)
// kind 'S': dialler, named stream (purpose = stream name, card present)
// kind 'A': listener, accepted (P = 0, card present); the receptor sends it unasked
// kind 'X': listener, refused (purpose = reason code, C = 0); then it closes
const (
	helloMagic      = "BGT1"
	helloMessages   = 'M'
	helloStream     = 'S'
	helloAccept     = 'A'
	helloRefuse     = 'X'
	maxPurposeLen   = 64
	helloHeaderLen  = len(helloMagic) + 2
	maxHelloLen     = helloHeaderLen + maxPurposeLen + 2 + MaxCardBytes
	refuseBadCard   = "bad-card"
	refuseNoStream  = "unknown-stream"
	refuseBusy      = "busy"
	refuseBadHello  = "bad-hello"
	refuseNoChannel = "no-channel"
)

type hello struct {
	kind    byte
	purpose string // stream name (kind 'S') or reason code (kind 'X')
	card    []byte // card wire JSON (kinds 'M', 'S', 'A')
}

// purposeByte is the charset of a stream name and of a refusal reason.
func purposeByte(c byte) bool {
	return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-'
}

func (h hello) check() error {
	switch h.kind {
	case helloMessages, helloAccept:
		if h.purpose != "" {
			return fmt.Errorf("%w: kind %q carries a purpose", ErrBadHello, h.kind)
		}
	case helloStream, helloRefuse:
		if !validName(h.purpose, maxPurposeLen, purposeByte) {
			return fmt.Errorf("%w: purpose is not 1..%d bytes of [a-z0-9._-]", ErrBadHello, maxPurposeLen)
		}
	default:
		return fmt.Errorf("%w: unknown kind %#x", ErrBadHello, h.kind)
	}
	switch {
	case h.kind == helloRefuse && len(h.card) != 0:
		return fmt.Errorf("%w: a refusal carries a card", ErrBadHello)
	case h.kind != helloRefuse && (len(h.card) == 0 || len(h.card) > MaxCardBytes):
		return fmt.Errorf("%w: card length %d not in 1..%d", ErrBadHello, len(h.card), MaxCardBytes)
	}
	return nil
}

func appendHello(b []byte, h hello) ([]byte, error) {
	if err := h.check(); err != nil {
		return nil, err
	}
	b = append(b, helloMagic...)
	b = append(b, h.kind, byte(len(h.purpose)))
	b = append(b, h.purpose...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(h.card)))
	return append(b, h.card...), nil
}

func writeHello(w io.Writer, h hello) error {
	b, err := appendHello(make([]byte, 0, 64+len(h.card)), h)
	if err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("transport: write hello: %w", err)
	}
	return nil
}

// readHello reads one hello; it never reads more than maxHelloLen bytes.
func readHello(r io.Reader) (hello, error) {
	var hdr [helloHeaderLen]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return hello{}, helloReadErr(err)
	}
	if string(hdr[:len(helloMagic)]) != helloMagic {
		return hello{}, fmt.Errorf("%w: bad magic", ErrBadHello)
	}
	h := hello{kind: hdr[4]}
	p := int(hdr[5])
	if p > maxPurposeLen {
		return hello{}, fmt.Errorf("%w: purpose of %d bytes", ErrBadHello, p)
	}
	buf := make([]byte, p+2)
	if _, err := io.ReadFull(r, buf); err != nil {
		return hello{}, helloReadErr(err)
	}
	h.purpose = string(buf[:p])
	n := int(binary.BigEndian.Uint16(buf[p:]))
	if n > MaxCardBytes {
		return hello{}, fmt.Errorf("%w: card of %d bytes, limit %d", ErrBadHello, n, MaxCardBytes)
	}
	if n > 0 {
		h.card = make([]byte, n)
		if _, err := io.ReadFull(r, h.card); err != nil {
			return hello{}, helloReadErr(err)
		}
	}
	if err := h.check(); err != nil {
		return hello{}, err
	}
	return h, nil
}

func helloReadErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: truncated: %w", ErrBadHello, err)
	}
	return fmt.Errorf("transport: read hello: %w", err)
}
