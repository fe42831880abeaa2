package bulk

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"unicode/utf8"
)

// Protocol limits. Decoders reject anything outside them before allocating.
const (
	MinChunkSize     = 4 << 10  // smallest chunk size an offer may use
	MaxChunkSize     = 16 << 20 // largest chunk size an offer may use
	DefaultChunkSize = 1 << 20  // chunk size when Options.ChunkSize is 0
	MaxChunks        = 1 << 18  // most chunks in one offer (8 MiB of hashes)
	MaxNameLen       = 255      // longest offer name, bytes
	MaxReasonLen     = 255      // longest Fail/Abort reason, bytes
)

// Frame types.
const (
	frameOffer     byte = 1 // S→R
	frameAccept    byte = 2 // R→S
	frameFail      byte = 3 // R→S: refusal (before Accept) or failure (after)
	frameChunk     byte = 4 // S→R
	frameAck       byte = 5 // R→S
	frameNack      byte = 6 // R→S
	frameDone      byte = 7 // R→S
	frameKeepalive byte = 8 // R→S
	frameAbort     byte = 9 // S→R
)

const (
	frameHeaderLen = 5                      // type u8, payload length u32
	chunkHeaderLen = frameHeaderLen + 4     // + chunk index u32
	offerMagic     = "BLK1"                 // first bytes of an offer payload
	offerHeadLen   = 4 + 32 + 8 + 4 + 4 + 2 // magic, id, size, chunk size, count, name length
	statusHeadLen  = 1 + 2                  // code, reason length
	maxOfferLen    = offerHeadLen + MaxNameLen + 32*MaxChunks
	maxAcceptLen   = 4 + (MaxChunks+7)/8 // count, bitmap
	maxStatusLen   = statusHeadLen + MaxReasonLen
	maxChunkLen    = 4 + MaxChunkSize // index, data
)

// maxPayload returns the largest payload a frame of type typ may carry, or
// -1 for an unknown type.
func maxPayload(typ byte) int {
	switch typ {
	case frameOffer:
		return maxOfferLen
	case frameAccept:
		return maxAcceptLen
	case frameFail, frameAbort:
		return maxStatusLen
	case frameChunk:
		return maxChunkLen
	case frameAck, frameNack:
		return 4
	case frameDone:
		return 32
	case frameKeepalive:
		return 0
	}
	return -1
}

// putFrameHeader writes a frame header into b[:frameHeaderLen].
func putFrameHeader(b []byte, typ byte, n int) {
	b[0] = typ
	binary.BigEndian.PutUint32(b[1:5], uint32(n))
}

// decodeFrameHeader parses a frame header and checks the payload length
// against the type's limit.
func decodeFrameHeader(h []byte) (typ byte, n int, err error) {
	if len(h) != frameHeaderLen {
		return 0, 0, fmt.Errorf("%w: frame header of %d bytes", ErrProtocol, len(h))
	}
	typ = h[0]
	max := maxPayload(typ)
	if max < 0 {
		return 0, 0, fmt.Errorf("%w: unknown frame type %d", ErrProtocol, typ)
	}
	n64 := int64(binary.BigEndian.Uint32(h[1:5]))
	if n64 > int64(max) {
		return 0, 0, fmt.Errorf("%w: frame type %d of %d bytes (limit %d)", ErrProtocol, typ, n64, max)
	}
	return typ, int(n64), nil
}

// readFrame reads one frame other than Offer and Chunk into *scratch (grown
// as needed; such frames are at most maxAcceptLen bytes) and returns its type
// and payload.
func readFrame(br *bufio.Reader, scratch *[]byte) (byte, []byte, error) {
	var h [frameHeaderLen]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		return 0, nil, err
	}
	typ, n, err := decodeFrameHeader(h[:])
	if err != nil {
		return 0, nil, err
	}
	if typ == frameOffer || typ == frameChunk {
		return 0, nil, fmt.Errorf("%w: unexpected frame type %d", ErrProtocol, typ)
	}
	if cap(*scratch) < n {
		*scratch = make([]byte, n)
	}
	p := (*scratch)[:n]
	if _, err := io.ReadFull(br, p); err != nil {
		return 0, nil, unexpectedEOF(err)
	}
	return typ, p, nil
}

// unexpectedEOF turns an io.EOF in the middle of a frame into
// io.ErrUnexpectedEOF.
func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// chunkCount is the number of chunks of size bytes cut in chunkSize pieces.
func chunkCount(size int64, chunkSize int) int64 {
	if size <= 0 {
		return 0
	}
	return (size + int64(chunkSize) - 1) / int64(chunkSize)
}

// validName reports whether s is an acceptable offer name or reason:
// valid UTF-8, no control characters, at most max bytes.
func validName(s string, max int) bool {
	if len(s) > max || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return false
		}
	}
	return true
}

// offerHead is the fixed part of an offer payload.
type offerHead struct {
	id        [32]byte
	size      int64
	chunkSize int
	count     int
	nameLen   int
}

// decodeOfferHead parses and checks the fixed part of an offer whose whole
// payload is n bytes: magic, limits, count = ⌈size/chunkSize⌉, and n equal to
// the exact length the head implies. It allocates nothing.
func decodeOfferHead(b []byte, n int) (offerHead, error) {
	var h offerHead
	if len(b) < offerHeadLen || n < offerHeadLen {
		return h, fmt.Errorf("%w: offer of %d bytes", ErrBadOffer, n)
	}
	if string(b[:4]) != offerMagic {
		return h, fmt.Errorf("%w: bad magic", ErrBadOffer)
	}
	copy(h.id[:], b[4:36])
	size := binary.BigEndian.Uint64(b[36:44])
	cs := binary.BigEndian.Uint32(b[44:48])
	count := binary.BigEndian.Uint32(b[48:52])
	nameLen := int(binary.BigEndian.Uint16(b[52:54]))
	if cs < MinChunkSize || cs > MaxChunkSize {
		return h, fmt.Errorf("%w: chunk size %d outside [%d, %d]", ErrBadOffer, cs, MinChunkSize, MaxChunkSize)
	}
	if count > MaxChunks {
		return h, fmt.Errorf("%w: %d chunks (limit %d)", ErrBadOffer, count, MaxChunks)
	}
	if size > uint64(MaxChunks)*uint64(MaxChunkSize) {
		return h, fmt.Errorf("%w: size %d", ErrBadOffer, size)
	}
	if c := chunkCount(int64(size), int(cs)); c != int64(count) {
		return h, fmt.Errorf("%w: %d chunks for size %d and chunk size %d (want %d)", ErrBadOffer, count, size, cs, c)
	}
	if nameLen > MaxNameLen {
		return h, fmt.Errorf("%w: name of %d bytes", ErrBadOffer, nameLen)
	}
	if want := offerHeadLen + nameLen + 32*int(count); n != want {
		return h, fmt.Errorf("%w: offer of %d bytes, want %d", ErrBadOffer, n, want)
	}
	h.size, h.chunkSize, h.count, h.nameLen = int64(size), int(cs), int(count), nameLen
	return h, nil
}

// decodeOffer parses a whole offer payload strictly, including the check that
// the id is the SHA-256 of the manifest.
func decodeOffer(p []byte) (Offer, error) {
	h, err := decodeOfferHead(p, len(p))
	if err != nil {
		return Offer{}, err
	}
	name := string(p[offerHeadLen : offerHeadLen+h.nameLen])
	if !validName(name, MaxNameLen) {
		return Offer{}, fmt.Errorf("%w: name is not printable UTF-8", ErrBadOffer)
	}
	o := Offer{ID: h.id, Name: name, Size: h.size, ChunkSize: h.chunkSize, Hashes: make([][32]byte, h.count)}
	hp := p[offerHeadLen+h.nameLen:]
	for i := range o.Hashes {
		copy(o.Hashes[i][:], hp[32*i:])
	}
	if manifestID(p[36:]) != o.ID {
		return Offer{}, fmt.Errorf("%w: id is not the manifest hash", ErrBadOffer)
	}
	return o, nil
}

// manifestID is the transfer id: SHA-256 of the magic followed by the offer
// payload after its id field (size, chunk size, count, name, hashes).
func manifestID(afterID []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte(offerMagic))
	h.Write(afterID)
	var id [32]byte
	h.Sum(id[:0])
	return id
}

// appendOfferPayload appends the payload of o (with its ID field as given).
func appendOfferPayload(b []byte, o *Offer) []byte {
	b = append(b, offerMagic...)
	b = append(b, o.ID[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(o.Size))
	b = binary.BigEndian.AppendUint32(b, uint32(o.ChunkSize))
	b = binary.BigEndian.AppendUint32(b, uint32(len(o.Hashes)))
	b = binary.BigEndian.AppendUint16(b, uint16(len(o.Name)))
	b = append(b, o.Name...)
	for i := range o.Hashes {
		b = append(b, o.Hashes[i][:]...)
	}
	return b
}

// encodeAccept returns the payload of an Accept frame.
func appendAccept(b []byte, have bitmap, count int) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(count))
	return append(b, have...)
}

// decodeAccept parses an Accept payload for an offer of count chunks. The
// bitmap must be exactly ⌈count/8⌉ bytes with the bits past count clear.
func decodeAccept(p []byte, count int) (bitmap, error) {
	if len(p) < 4 {
		return nil, fmt.Errorf("%w: accept of %d bytes", ErrProtocol, len(p))
	}
	if c := binary.BigEndian.Uint32(p); int64(c) != int64(count) {
		return nil, fmt.Errorf("%w: accept for %d chunks, offered %d", ErrProtocol, c, count)
	}
	bm := bitmap(p[4:])
	if len(bm) != bitmapLen(count) || !bm.validFor(count) {
		return nil, fmt.Errorf("%w: malformed accept bitmap", ErrProtocol)
	}
	return bm, nil
}

// appendStatus appends a Fail/Abort payload; reason is cleaned and cut to
// MaxReasonLen bytes.
func appendStatus(b []byte, code Code, reason string) []byte {
	reason = cleanReason(reason)
	b = append(b, byte(code))
	b = binary.BigEndian.AppendUint16(b, uint16(len(reason)))
	return append(b, reason...)
}

// cleanReason replaces control characters and invalid UTF-8 and cuts the
// result to at most MaxReasonLen bytes on a rune boundary.
func cleanReason(s string) string {
	out := make([]byte, 0, min(len(s), MaxReasonLen))
	for _, r := range s {
		if r == utf8.RuneError || r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			r = '?'
		}
		if len(out)+utf8.RuneLen(r) > MaxReasonLen {
			break
		}
		out = utf8.AppendRune(out, r)
	}
	return string(out)
}

// decodeStatus parses a Fail/Abort payload strictly.
func decodeStatus(p []byte) (Code, string, error) {
	if len(p) < statusHeadLen {
		return 0, "", fmt.Errorf("%w: status of %d bytes", ErrProtocol, len(p))
	}
	code := Code(p[0])
	n := int(binary.BigEndian.Uint16(p[1:3]))
	if code < 1 || code > maxCode {
		return 0, "", fmt.Errorf("%w: unknown code %d", ErrProtocol, p[0])
	}
	if n > MaxReasonLen || len(p) != statusHeadLen+n {
		return 0, "", fmt.Errorf("%w: status length mismatch", ErrProtocol)
	}
	reason := string(p[statusHeadLen:])
	if !validName(reason, MaxReasonLen) {
		return 0, "", fmt.Errorf("%w: reason is not printable UTF-8", ErrProtocol)
	}
	return code, reason, nil
}

// decodeIndex parses an Ack/Nack payload (or a chunk frame's index) and
// checks it against the chunk count.
func decodeIndex(p []byte, count int) (int, error) {
	if len(p) != 4 {
		return 0, fmt.Errorf("%w: index of %d bytes", ErrProtocol, len(p))
	}
	i := binary.BigEndian.Uint32(p)
	if int64(i) >= int64(count) {
		return 0, fmt.Errorf("%w: chunk index %d of %d", ErrProtocol, i, count)
	}
	return int(i), nil
}

// decodeDone parses a Done payload and checks it names the transfer.
func decodeDone(p []byte, id [32]byte) error {
	if len(p) != 32 || [32]byte(p) != id {
		return fmt.Errorf("%w: done for another transfer", ErrProtocol)
	}
	return nil
}
