package ftree

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Capability is the right to read one file or folder: the shard id of its
// encrypted manifest and the symmetric key of that manifest, with an
// optional name and size for display. Whoever holds it can read; the cell
// never sees one in clear.
type Capability struct {
	Manifest Hash   // shard id (SHA-256 of the manifest ciphertext)
	Key      []byte // KeyLen-byte symmetric key of the manifest
	Folder   bool   // the manifest lists a folder
	Size     uint64 // optional: the file's or folder's size in bytes
	Name     string // optional: up to MaxNameLen bytes of UTF-8
}

// Capability limits and format.
const (
	KeyLen     = 32
	MaxNameLen = 255
	capVersion = 1
	flagFolder = 1
	// LinkPrefix starts every link.
	LinkPrefix = "borg://cap/"
	capFixed   = 2 + KeyLen + 8 + 1 // version, flags, key, size, name length
)

// Wipe zeroes the capability's key.
func (c *Capability) Wipe() { clear(c.Key) }

func (c *Capability) check() error {
	switch {
	case c.Manifest.IsZero():
		return fmt.Errorf("%w: capability has no manifest", ErrMalformed)
	case len(c.Key) != KeyLen:
		return fmt.Errorf("%w: capability key is %d bytes, want %d", ErrMalformed, len(c.Key), KeyLen)
	case len(c.Name) > MaxNameLen || !utf8.ValidString(c.Name):
		return fmt.Errorf("%w: capability name is not 0..%d bytes of UTF-8", ErrMalformed, MaxNameLen)
	}
	return nil
}

// secretBytes encodes the capability without its manifest id:
// version(1)=1 ‖ flags(1) ‖ key(32) ‖ size(8, big-endian) ‖ nameLen(1) ‖ name.
func (c *Capability) secretBytes() []byte {
	b := make([]byte, 0, capFixed+len(c.Name))
	var flags byte
	if c.Folder {
		flags |= flagFolder
	}
	b = append(b, capVersion, flags)
	b = append(b, c.Key...)
	b = binary.BigEndian.AppendUint64(b, c.Size)
	b = append(b, byte(len(c.Name)))
	return append(b, c.Name...)
}

// MarshalBinary encodes the capability: manifest(32) ‖ secretBytes. It is
// the plaintext SealCapability encrypts.
func (c *Capability) MarshalBinary() ([]byte, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	return append(append(make([]byte, 0, 32+capFixed+len(c.Name)), c.Manifest[:]...), c.secretBytes()...), nil
}

// ParseCapability decodes MarshalBinary's output strictly.
func ParseCapability(b []byte) (*Capability, error) {
	if len(b) < 32 {
		return nil, fmt.Errorf("%w: capability too short", ErrMalformed)
	}
	c, err := parseSecret(b[32:])
	if err != nil {
		return nil, err
	}
	copy(c.Manifest[:], b[:32])
	if err := c.check(); err != nil {
		c.Wipe()
		return nil, err
	}
	return c, nil
}

func parseSecret(b []byte) (*Capability, error) {
	if len(b) < capFixed {
		return nil, fmt.Errorf("%w: capability too short", ErrMalformed)
	}
	if b[0] != capVersion {
		return nil, fmt.Errorf("%w: capability version %d", ErrMalformed, b[0])
	}
	if b[1]&^flagFolder != 0 {
		return nil, fmt.Errorf("%w: unknown capability flags %#x", ErrMalformed, b[1])
	}
	n := int(b[capFixed-1])
	if len(b) != capFixed+n {
		return nil, fmt.Errorf("%w: capability length does not match its name length", ErrMalformed)
	}
	c := &Capability{
		Key:    append([]byte(nil), b[2:2+KeyLen]...),
		Folder: b[1]&flagFolder != 0,
		Size:   binary.BigEndian.Uint64(b[2+KeyLen:]),
		Name:   string(b[capFixed:]),
	}
	return c, nil
}

// EncodeLink returns the capability as a link:
//
//	borg://cap/<manifest: 64 lowercase hex>#<base64url(secretBytes), unpadded>
//
// The key is only in the fragment, which browsers and URL handlers never
// send to a server: a gateway that resolves the path learns which manifest
// is read, never its key. The link IS the read right: anyone who sees it
// can read; treat it as a secret.
func EncodeLink(c *Capability) (string, error) {
	if err := c.check(); err != nil {
		return "", err
	}
	sec := c.secretBytes()
	defer clear(sec)
	return LinkPrefix + c.Manifest.String() + "#" + base64.RawURLEncoding.EncodeToString(sec), nil
}

// MaxLinkLen bounds a link ParseLink accepts.
var MaxLinkLen = len(LinkPrefix) + 64 + 1 + base64.RawURLEncoding.EncodedLen(capFixed+MaxNameLen)

// ParseLink decodes an EncodeLink link strictly.
func ParseLink(link string) (*Capability, error) {
	if len(link) > MaxLinkLen {
		return nil, fmt.Errorf("%w: link too long", ErrMalformed)
	}
	rest, ok := strings.CutPrefix(link, LinkPrefix)
	if !ok {
		return nil, fmt.Errorf("%w: link does not start with %s", ErrMalformed, LinkPrefix)
	}
	path, frag, ok := strings.Cut(rest, "#")
	if !ok {
		return nil, fmt.Errorf("%w: link has no key fragment", ErrMalformed)
	}
	var m Hash
	if err := m.UnmarshalText([]byte(path)); err != nil {
		return nil, err
	}
	sec, err := base64.RawURLEncoding.Strict().DecodeString(frag)
	if err != nil {
		return nil, fmt.Errorf("%w: link fragment is not unpadded base64url", ErrMalformed)
	}
	defer clear(sec)
	c, err := parseSecret(sec)
	if err != nil {
		return nil, err
	}
	c.Manifest = m
	if err := c.check(); err != nil {
		c.Wipe()
		return nil, err
	}
	return c, nil
}

// Equal reports whether c and d are the same capability (the key compared
// in constant time).
func (c *Capability) Equal(d *Capability) bool {
	return c.Manifest == d.Manifest && subtle.ConstantTimeCompare(c.Key, d.Key) == 1 &&
		c.Folder == d.Folder && c.Size == d.Size && c.Name == d.Name
}
