package signer

import (
	"fmt"
)

// parseWireJSON parses the wire JSON of an envelope. Exactly one byte string
// is accepted per envelope: the output of appendJSON(withSig=true). Member
// order, hex case, number form and whitespace are therefore all fixed, and
// a decoder cannot be confused by duplicate keys or escapes.
func parseWireJSON(b []byte) (*Envelope, error) {
	p := jsonParser{b: b}
	e := new(Envelope)
	p.lit(`{"bodyHash":"`)
	p.hex("bodyHash", e.BodyHash[:])
	p.lit(`","cell":"`)
	e.Cell = p.text("cell")
	p.lit(`","inReplyTo":"`)
	if p.err == nil && p.i < len(b) && b[p.i] != '"' {
		p.hex("inReplyTo", e.InReplyTo[:])
		if p.err == nil && e.InReplyTo.IsZero() {
			p.fail("inReplyTo: zero digest must be written as \"\"")
		}
	}
	p.lit(`","nonce":"`)
	p.hex("nonce", e.Nonce[:])
	p.lit(`","recipient":"`)
	e.Recipient = p.text("recipient")
	p.lit(`","sender":"`)
	p.hex("sender", e.Sender[:])
	p.lit(`","sig":"`)
	e.Signature = p.sig()
	p.lit(`","timestamp":`)
	e.Timestamp = p.int("timestamp")
	p.lit(`,"type":"`)
	e.Type = p.text("type")
	p.lit(`","version":`)
	e.Version = int(p.int("version"))
	p.lit(`}`)
	if p.err == nil && p.i != len(b) {
		p.fail("trailing bytes after the envelope JSON")
	}
	if p.err != nil {
		return nil, p.err
	}
	if err := e.validate(true); err != nil {
		return nil, err
	}
	return e, nil
}

// jsonParser is a cursor that records the first error and then does nothing.
type jsonParser struct {
	b   []byte
	i   int
	err error
}

func (p *jsonParser) fail(msg string) {
	if p.err == nil {
		p.err = fmt.Errorf("%w: envelope JSON at byte %d: %s", ErrMalformed, p.i, msg)
	}
}

func (p *jsonParser) lit(s string) {
	if p.err != nil {
		return
	}
	if len(p.b)-p.i < len(s) || string(p.b[p.i:p.i+len(s)]) != s {
		p.fail(fmt.Sprintf("want %q", s))
		return
	}
	p.i += len(s)
}

// span returns the bytes up to the next '"' (not consumed).
func (p *jsonParser) span() []byte {
	if p.err != nil {
		return nil
	}
	for j := p.i; j < len(p.b); j++ {
		if p.b[j] == '"' {
			s := p.b[p.i:j]
			p.i = j
			return s
		}
	}
	p.fail("unterminated string")
	return nil
}

// hex decodes exactly len(dst) bytes of lowercase hex.
func (p *jsonParser) hex(field string, dst []byte) {
	s := p.span()
	if p.err != nil {
		return
	}
	if len(s) != 2*len(dst) {
		p.fail(fmt.Sprintf("%s: %d hex digits, want %d", field, len(s), 2*len(dst)))
		return
	}
	if !decodeLowerHex(dst, s) {
		p.fail(field + ": not lowercase hex")
	}
}

// sig decodes a signature of MinSigLen..MaxSigLen bytes of lowercase hex.
func (p *jsonParser) sig() []byte {
	s := p.span()
	if p.err != nil {
		return nil
	}
	if len(s)%2 != 0 || len(s) < 2*MinSigLen || len(s) > 2*MaxSigLen {
		p.fail(fmt.Sprintf("sig: %d hex digits, want an even number in %d..%d", len(s), 2*MinSigLen, 2*MaxSigLen))
		return nil
	}
	dst := make([]byte, len(s)/2)
	if !decodeLowerHex(dst, s) {
		p.fail("sig: not lowercase hex")
		return nil
	}
	return dst
}

func (p *jsonParser) text(field string) string {
	s := p.span()
	if p.err != nil {
		return ""
	}
	if err := validText(field, string(s)); err != nil {
		p.err = err
		return ""
	}
	return string(s)
}

// int parses a positive decimal integer without sign, leading zeros or
// fraction, at most MaxTimestamp.
func (p *jsonParser) int(field string) int64 {
	if p.err != nil {
		return 0
	}
	j := p.i
	var v int64
	for j < len(p.b) && '0' <= p.b[j] && p.b[j] <= '9' {
		if j-p.i >= 16 {
			p.fail(field + ": too many digits")
			return 0
		}
		v = v*10 + int64(p.b[j]-'0')
		j++
	}
	switch {
	case j == p.i:
		p.fail(field + ": want a decimal integer")
	case p.b[p.i] == '0':
		p.fail(field + ": leading zero")
	case v > MaxTimestamp:
		p.fail(field + ": larger than 2^53-1")
	}
	p.i = j
	return v
}

func decodeLowerHex(dst, src []byte) bool {
	for i := range dst {
		hi, ok1 := lowerNibble(src[2*i])
		lo, ok2 := lowerNibble(src[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

func lowerNibble(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}
