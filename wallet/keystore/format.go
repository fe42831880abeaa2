package keystore

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/chacha20poly1305"
)

// Meta is the public header: readable without the passphrase, bound to the
// ciphertext as AEAD additional data.
type Meta struct {
	MUID     string
	BorgDoge string
	Kind     string // e.g. "bip39" or "legacy"
	Created  time.Time
}

// Format constants; see doc.go for the layout.
const (
	magic        = "\x89BORGKS\n"
	version1     = 1
	kdfArgon2id  = 1
	aeadXChaCha  = 1
	saltSize     = 32 // written
	minSaltSize  = 16 // accepted
	maxSaltSize  = 32 // accepted
	nonceSize    = chacha20poly1305.NonceSizeX
	tagSize      = chacha20poly1305.Overhead
	checksumSize = sha256.Size

	// MaxPayloadSize is the largest payload Create/Replace accept.
	MaxPayloadSize = 64 << 10
	// MaxMetaField is the largest MUID, BorgDoge or Kind, in bytes.
	MaxMetaField = 1024

	frozenSize    = len(magic) + 2 + checksumSize // magic, version, checksum: every version
	v1PrefixSize  = len(magic) + 2 + 4            // magic, version, header length
	maxHeaderSize = 1 + 4 + 4 + 1 + 1 + maxSaltSize + checkSize + 1 + nonceSize + 8 + 4 + 3*(2+MaxMetaField)
	maxFileSize   = 1 << 20 // read cap for any version; v1 files are far smaller
)

// file is a parsed, checksum-verified v1 keystore.
type file struct {
	params Params
	salt   []byte
	check  []byte
	nonce  []byte
	meta   Meta
	ad     []byte // everything before the ciphertext: the AEAD additional data
	ct     []byte // ciphertext with tag
}

// seal encrypts payload under passphrase into a complete v1 file.
func seal(payload, passphrase []byte, meta Meta, p Params) ([]byte, error) {
	salt := make([]byte, saltSize)
	nonce := make([]byte, nonceSize)
	rand.Read(salt)
	rand.Read(nonce)
	return sealWith(payload, passphrase, meta, p, salt, nonce)
}

// sealWith is seal with a given salt and nonce (fixed only in tests).
func sealWith(payload, passphrase []byte, meta Meta, p Params, salt, nonce []byte) ([]byte, error) {
	key, check, err := deriveKeys(passphrase, salt, p)
	if err != nil {
		return nil, err
	}
	defer clear(key)
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, fmt.Errorf("keystore: aead: %w", err)
	}

	var h []byte
	h = append(h, kdfArgon2id)
	h = binary.BigEndian.AppendUint32(h, p.Time)
	h = binary.BigEndian.AppendUint32(h, p.MemoryKiB)
	h = append(h, p.Threads, byte(len(salt)))
	h = append(h, salt...)
	h = append(h, check...)
	h = append(h, aeadXChaCha)
	h = append(h, nonce...)
	h = binary.BigEndian.AppendUint64(h, uint64(meta.Created.Unix()))
	h = binary.BigEndian.AppendUint32(h, uint32(meta.Created.Nanosecond()))
	for _, s := range []string{meta.MUID, meta.BorgDoge, meta.Kind} {
		h = binary.BigEndian.AppendUint16(h, uint16(len(s)))
		h = append(h, s...)
	}

	ctLen := len(payload) + tagSize
	out := make([]byte, 0, v1PrefixSize+len(h)+4+ctLen+checksumSize)
	out = append(out, magic...)
	out = binary.BigEndian.AppendUint16(out, version1)
	out = binary.BigEndian.AppendUint32(out, uint32(len(h)))
	out = append(out, h...)
	out = binary.BigEndian.AppendUint32(out, uint32(ctLen))
	out = aead.Seal(out, nonce, payload, out) // additional data: all bytes so far
	sum := sha256.Sum256(out)
	return append(out, sum[:]...), nil
}

// openBytes checks, decodes and decrypts a keystore image. It returns a
// fresh payload slice (the caller wipes it) only when every check passed.
func openBytes(b, passphrase []byte, l limits) ([]byte, Meta, error) {
	f, err := parse(b, l)
	if err != nil {
		return nil, Meta{}, err
	}
	key, check, err := deriveKeys(passphrase, f.salt, f.params)
	if err != nil {
		return nil, Meta{}, err
	}
	defer clear(key)
	if subtle.ConstantTimeCompare(check, f.check) != 1 {
		return nil, Meta{}, ErrWrongPassphrase
	}
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, Meta{}, fmt.Errorf("keystore: aead: %w", err)
	}
	payload, err := aead.Open(nil, f.nonce, f.ct, f.ad)
	if err != nil {
		// The passphrase is right (check matched), so the bytes are wrong.
		return nil, Meta{}, corrupt("authentication failed")
	}
	return payload, f.meta, nil
}

// looksLikeMagic reports whether b begins close enough to the magic to be a
// damaged keystore rather than a foreign file: at most one differing byte
// per four compared (so 2 of 8; an empty or 1–3 byte exact prefix counts).
func looksLikeMagic(b []byte) (exact, near bool) {
	n := min(len(b), len(magic))
	diff := 0
	for i := range n {
		if b[i] != magic[i] {
			diff++
		}
	}
	return diff == 0 && n == len(magic), diff*4 <= n
}

// parse verifies the frozen frame (magic, checksum, version) and decodes a
// v1 file, checking every field against l. It never runs the KDF.
func parse(b []byte, l limits) (*file, error) {
	exact, near := looksLikeMagic(b)
	switch {
	case !near:
		return nil, fmt.Errorf("%w: unknown file signature", ErrForeign)
	case len(b) < len(magic):
		return nil, corrupt(fmt.Sprintf("truncated to %d bytes", len(b)))
	case !exact:
		return nil, corrupt("damaged file signature")
	case len(b) > maxFileSize:
		return nil, corrupt("file larger than any keystore")
	case len(b) < frozenSize:
		return nil, corrupt(fmt.Sprintf("truncated to %d bytes", len(b)))
	}
	body, sum := b[:len(b)-checksumSize], b[len(b)-checksumSize:]
	want := sha256.Sum256(body)
	if subtle.ConstantTimeCompare(sum, want[:]) != 1 {
		return nil, corrupt("checksum mismatch (truncated or altered)")
	}
	switch v := binary.BigEndian.Uint16(b[len(magic):]); {
	case v == 0:
		return nil, corrupt("version 0")
	case v > version1:
		return nil, fmt.Errorf("%w: version %d, this build reads up to %d", ErrUnsupportedVersion, v, version1)
	}
	return parseV1(body, l)
}

// parseV1 decodes the checksum-stripped body of a v1 file.
func parseV1(body []byte, l limits) (*file, error) {
	r := reader{b: body, off: len(magic) + 2}
	hlen := r.u32()
	if r.bad || hlen > maxHeaderSize {
		return nil, corrupt("header length out of range")
	}
	hdr := r.take(int(hlen))
	ctLen := r.u32()
	if r.bad || ctLen < tagSize || ctLen > MaxPayloadSize+tagSize {
		return nil, corrupt("ciphertext length out of range")
	}
	adEnd := r.off
	ct := r.take(int(ctLen))
	if r.bad || r.off != len(body) {
		return nil, corrupt("lengths do not match the file size")
	}

	f := &file{ad: body[:adEnd], ct: ct}
	h := reader{b: hdr}
	if h.u8() != kdfArgon2id {
		return nil, corrupt("unknown kdf")
	}
	f.params = Params{Time: h.u32(), MemoryKiB: h.u32(), Threads: h.u8()}
	saltLen := int(h.u8())
	if h.bad || saltLen < minSaltSize || saltLen > maxSaltSize {
		return nil, corrupt("salt length out of range")
	}
	f.salt = h.take(saltLen)
	f.check = h.take(checkSize)
	if h.u8() != aeadXChaCha {
		return nil, corrupt("unknown cipher")
	}
	f.nonce = h.take(nonceSize)
	secs, nanos := int64(h.u64()), h.u32()
	f.meta.MUID, f.meta.BorgDoge, f.meta.Kind = h.str(), h.str(), h.str()
	if h.bad || h.off != len(hdr) {
		return nil, corrupt("malformed header")
	}
	if nanos >= 1e9 {
		return nil, corrupt("bad creation time")
	}
	f.meta.Created = time.Unix(secs, int64(nanos)).UTC()
	if err := f.meta.validate(); err != nil {
		return nil, corrupt(err.Error())
	}
	// Checked last but before any KDF run: absurd costs are never attempted.
	if err := f.params.within(l); err != nil {
		return nil, corrupt(err.Error())
	}
	return f, nil
}

// validate checks the Meta fields that the format can store.
func (m Meta) validate() error {
	for _, s := range []string{m.MUID, m.BorgDoge, m.Kind} {
		if len(s) > MaxMetaField {
			return fmt.Errorf("meta field longer than %d bytes", MaxMetaField)
		}
		if !utf8.ValidString(s) {
			return fmt.Errorf("meta field is not utf-8")
		}
	}
	return nil
}

// normalize returns m as it will read back: Created in UTC without a
// monotonic reading, the current time when it was zero.
func (m Meta) normalize() Meta {
	if m.Created.IsZero() {
		m.Created = now()
	}
	m.Created = m.Created.UTC().Round(0)
	return m
}

func (m Meta) equal(o Meta) bool {
	return m.MUID == o.MUID && m.BorgDoge == o.BorgDoge && m.Kind == o.Kind && m.Created.Equal(o.Created)
}

// reader is a bounds-checked big-endian cursor; after the first overrun it
// sets bad and returns zero values.
type reader struct {
	b   []byte
	off int
	bad bool
}

func (r *reader) take(n int) []byte {
	if r.bad || n < 0 || n > len(r.b)-r.off {
		r.bad = true
		return nil
	}
	s := r.b[r.off : r.off+n : r.off+n]
	r.off += n
	return s
}

func (r *reader) u8() byte {
	if s := r.take(1); s != nil {
		return s[0]
	}
	return 0
}

func (r *reader) u16() uint16 {
	if s := r.take(2); s != nil {
		return binary.BigEndian.Uint16(s)
	}
	return 0
}

func (r *reader) u32() uint32 {
	if s := r.take(4); s != nil {
		return binary.BigEndian.Uint32(s)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if s := r.take(8); s != nil {
		return binary.BigEndian.Uint64(s)
	}
	return 0
}

func (r *reader) str() string {
	n := int(r.u16())
	if n > MaxMetaField {
		r.bad = true
		return ""
	}
	return string(r.take(n))
}

// payloadOK checks the payload size Create/Replace accept.
func payloadOK(payload []byte) error {
	if len(payload) == 0 || len(payload) > MaxPayloadSize {
		return invalid(fmt.Sprintf("payload size %d outside 1..%d", len(payload), MaxPayloadSize))
	}
	return nil
}
