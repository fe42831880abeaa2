package transport

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/borgios/borghui/signer"
	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
)

// Node card limits and constants.
const (
	// CardVersion is the only card version this package produces and accepts.
	CardVersion = 1
	// CardDomain starts the signed bytes of a card. It differs from the
	// envelope's "BorgIOS/v1\n", so a card signature can never be taken for
	// an envelope signature or the other way round.
	CardDomain = "BorgIOS/v1/nodecard\n"
	// MaxCardBytes bounds an encoded card.
	MaxCardBytes = 4096
	// MaxCardAddrs and MaxAddrLen bound the addresses of a card.
	MaxCardAddrs = 8
	MaxAddrLen   = 128
	// MaxCardCells and MaxCellLen bound the cells of a card.
	MaxCardCells = 16
	MaxCellLen   = 64
	// MaxCardTTL is the longest validity (expires - issued) a card may claim.
	MaxCardTTL = 30 * 24 * time.Hour
	// CardSkew is how far in the future a card's issued time may lie.
	CardSkew = 5 * time.Minute
)

// NodeID is the identity of a node: the lowercase hex of its 65-byte
// uncompressed secp256k1 public key (130 characters), the same text signer
// uses for a node-key recipient.
type NodeID string

// IDOf returns the NodeID of a 65-byte public key.
func IDOf(pub []byte) NodeID { return NodeID(hex.EncodeToString(pub)) }

// Key parses id back into the 65-byte key. It fails unless id is exactly
// 130 lowercase hex characters naming a point on secp256k1.
func (id NodeID) Key() ([signer.PublicKeyLen]byte, error) {
	var k [signer.PublicKeyLen]byte
	if len(id) != 2*signer.PublicKeyLen || !isLowerHex(string(id)) {
		return k, fmt.Errorf("transport: node id is not 130 lowercase hex characters")
	}
	hex.Decode(k[:], []byte(id))
	if _, err := parseNodeKey(k[:]); err != nil {
		return k, err
	}
	return k, nil
}

// Short returns the first 12 characters of id, for logs.
func (id NodeID) Short() string {
	if len(id) > 14 {
		return string(id[2:14]) // skip the 04 prefix shared by every key
	}
	return string(id)
}

// NodeCard binds a node's identity key to its TLS key, its addresses and its
// cells for a limited time. The node key signs it; a peer accepts a TLS
// connection only when the card verifies and its TLSKeyHash is the hash of
// the certificate the peer presented in the handshake.
type NodeCard struct {
	Version    int                       // CardVersion
	NodeKey    [signer.PublicKeyLen]byte // 0x04 ‖ X ‖ Y (secp256k1)
	TLSKeyHash [32]byte                  // SHA-256 of the certificate's SubjectPublicKeyInfo
	Addrs      []string                  // netPort "host:port" addresses; empty for a NAT'ed node
	Cells      []string                  // cell types the node runs
	Issued     int64                     // network time, ms since the Unix epoch
	Expires    int64                     // network time, ms since the Unix epoch
	Sig        []byte                    // DER ECDSA over SHA-256(SignedBytes), low-S
}

// ID returns the node ID named by the card.
func (c *NodeCard) ID() NodeID { return IDOf(c.NodeKey[:]) }

// cardJSON is the decoding shape of a card. Decoding then re-encoding must
// give back the input byte for byte (see DecodeCard).
type cardJSON struct {
	Addrs      []string `json:"addrs"`
	Cells      []string `json:"cells"`
	Expires    int64    `json:"expires"`
	Issued     int64    `json:"issued"`
	NodeKey    string   `json:"nodeKey"`
	Sig        string   `json:"sig"`
	TLSKeyHash string   `json:"tlsKeyHash"`
	Version    int      `json:"version"`
}

// validate checks everything but the signature and the times against a clock.
func (c *NodeCard) validate(signed bool) error {
	if c.Version != CardVersion {
		return fmt.Errorf("%w: version %d, want %d", ErrBadCard, c.Version, CardVersion)
	}
	if _, err := parseNodeKey(c.NodeKey[:]); err != nil {
		return fmt.Errorf("%w: %w", ErrBadCard, err)
	}
	if c.TLSKeyHash == ([32]byte{}) {
		return fmt.Errorf("%w: zero TLS key hash", ErrBadCard)
	}
	if len(c.Addrs) > MaxCardAddrs {
		return fmt.Errorf("%w: %d addresses, limit %d", ErrBadCard, len(c.Addrs), MaxCardAddrs)
	}
	for _, a := range c.Addrs {
		if err := validAddr(a); err != nil {
			return fmt.Errorf("%w: %w", ErrBadCard, err)
		}
	}
	if len(c.Cells) > MaxCardCells {
		return fmt.Errorf("%w: %d cells, limit %d", ErrBadCard, len(c.Cells), MaxCardCells)
	}
	for _, s := range c.Cells {
		if !validName(s, MaxCellLen, textByte) {
			return fmt.Errorf("%w: cell %q is not 1..%d bytes of [A-Za-z0-9._:-]", ErrBadCard, s, MaxCellLen)
		}
	}
	if c.Issued < 1 || c.Issued > signer.MaxTimestamp || c.Expires < 1 || c.Expires > signer.MaxTimestamp {
		return fmt.Errorf("%w: times out of range", ErrBadCard)
	}
	if c.Expires <= c.Issued || c.Expires-c.Issued > MaxCardTTL.Milliseconds() {
		return fmt.Errorf("%w: validity must be in (0, %s]", ErrBadCard, MaxCardTTL)
	}
	if signed && (len(c.Sig) < signer.MinSigLen || len(c.Sig) > signer.MaxSigLen) {
		return fmt.Errorf("%w: signature length %d", ErrBadCard, len(c.Sig))
	}
	return nil
}

// validAddr accepts "host:port" with a numeric port and a host of
// [A-Za-z0-9.:_-] (IPv6 in brackets).
func validAddr(a string) error {
	if !validName(a, MaxAddrLen, func(b byte) bool { return textByte(b) || b == '[' || b == ']' }) {
		return fmt.Errorf("address %q is not 1..%d bytes of [A-Za-z0-9._:[]-]", a, MaxAddrLen)
	}
	host, port, err := net.SplitHostPort(a)
	if err != nil || host == "" {
		return fmt.Errorf("address %q is not host:port", a)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 || strconv.Itoa(p) != port {
		return fmt.Errorf("address %q has a bad port", a)
	}
	return nil
}

// appendJSON writes the card as RFC 8785 JSON: members sorted by key, no
// whitespace. Strings are limited to charsets that JSON never escapes.
func (c *NodeCard) appendJSON(b []byte, withSig bool) []byte {
	list := func(b []byte, xs []string) []byte {
		b = append(b, '[')
		for i, x := range xs {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '"')
			b = append(b, x...)
			b = append(b, '"')
		}
		return append(b, ']')
	}
	b = append(b, `{"addrs":`...)
	b = list(b, c.Addrs)
	b = append(b, `,"cells":`...)
	b = list(b, c.Cells)
	b = append(b, `,"expires":`...)
	b = strconv.AppendInt(b, c.Expires, 10)
	b = append(b, `,"issued":`...)
	b = strconv.AppendInt(b, c.Issued, 10)
	b = append(b, `,"nodeKey":"`...)
	b = hex.AppendEncode(b, c.NodeKey[:])
	if withSig {
		b = append(b, `","sig":"`...)
		b = hex.AppendEncode(b, c.Sig)
	}
	b = append(b, `","tlsKeyHash":"`...)
	b = hex.AppendEncode(b, c.TLSKeyHash[:])
	b = append(b, `","version":`...)
	b = strconv.AppendInt(b, int64(c.Version), 10)
	return append(b, '}')
}

// SignedBytes returns the bytes the node key signs: CardDomain followed by
// the canonical JSON of every field but the signature.
func (c *NodeCard) SignedBytes() ([]byte, error) {
	if err := c.validate(false); err != nil {
		return nil, err
	}
	return c.appendJSON([]byte(CardDomain), false), nil
}

// Encode returns the card's wire JSON (the canonical JSON with "sig").
func (c *NodeCard) Encode() ([]byte, error) {
	if err := c.validate(true); err != nil {
		return nil, err
	}
	b := c.appendJSON(make([]byte, 0, 512), true)
	if len(b) > MaxCardBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrBadCard, len(b), MaxCardBytes)
	}
	return b, nil
}

// DecodeCard parses a card's wire JSON strictly: exactly the bytes Encode
// produces are accepted (member order, no whitespace, lowercase hex, no
// unknown or duplicate members), so a card has one encoding. It does not
// verify the signature: call Verify.
func DecodeCard(b []byte) (*NodeCard, error) {
	if len(b) > MaxCardBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrBadCard, len(b), MaxCardBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var j cardJSON
	if err := dec.Decode(&j); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadCard, err)
	}
	c := &NodeCard{Version: j.Version, Addrs: j.Addrs, Cells: j.Cells, Issued: j.Issued, Expires: j.Expires}
	if c.Addrs == nil {
		c.Addrs = []string{}
	}
	if c.Cells == nil {
		c.Cells = []string{}
	}
	if !decodeHexInto(c.NodeKey[:], j.NodeKey) || !decodeHexInto(c.TLSKeyHash[:], j.TLSKeyHash) {
		return nil, fmt.Errorf("%w: nodeKey or tlsKeyHash is not lowercase hex of the right length", ErrBadCard)
	}
	if len(j.Sig)%2 != 0 || !isLowerHex(j.Sig) {
		return nil, fmt.Errorf("%w: sig is not lowercase hex", ErrBadCard)
	}
	c.Sig, _ = hex.DecodeString(j.Sig)
	if err := c.validate(true); err != nil {
		return nil, err
	}
	if !bytes.Equal(c.appendJSON(make([]byte, 0, len(b)), true), b) {
		return nil, fmt.Errorf("%w: not the canonical encoding", ErrBadCard)
	}
	return c, nil
}

// Sign sets NodeKey from k and signs the card (Version is set when zero).
func (c *NodeCard) Sign(k signer.Key) error {
	if k == nil {
		return fmt.Errorf("%w: nil key", ErrBadCard)
	}
	if c.Version == 0 {
		c.Version = CardVersion
	}
	pub := k.PublicKey()
	if len(pub) != signer.PublicKeyLen {
		return fmt.Errorf("%w: key is not 65-byte uncompressed", ErrBadCard)
	}
	copy(c.NodeKey[:], pub)
	msg, err := c.SignedBytes()
	if err != nil {
		return err
	}
	der, err := k.Sign(sha256.Sum256(msg))
	if err != nil {
		return fmt.Errorf("transport: sign card: %w", err)
	}
	sig, err := ecdsa.ParseDERSignature(der)
	if err != nil {
		return fmt.Errorf("%w: key returned a signature that is not strict DER", ErrBadCard)
	}
	c.Sig = sig.Serialize() // low-S
	return nil
}

// Verify checks the card's form, its signature by NodeKey and its validity
// at now (network time): Issued-CardSkew <= now <= Expires.
func (c *NodeCard) Verify(now time.Time) error {
	if err := c.validate(true); err != nil {
		return err
	}
	pub, err := parseNodeKey(c.NodeKey[:])
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadCard, err)
	}
	ms := now.UnixMilli()
	switch {
	case ms < c.Issued-CardSkew.Milliseconds():
		return fmt.Errorf("%w: issued %d ms in the future", ErrBadCard, c.Issued-ms)
	case ms > c.Expires:
		return fmt.Errorf("%w: expired %d ms ago", ErrBadCard, ms-c.Expires)
	}
	sig, err := ecdsa.ParseDERSignature(c.Sig)
	if err != nil {
		return fmt.Errorf("%w: signature is not strict DER", ErrBadCard)
	}
	d := sha256.Sum256(c.appendJSON([]byte(CardDomain), false))
	if !sig.Verify(d[:], pub) {
		return fmt.Errorf("%w: signature does not verify", ErrBadCard)
	}
	return nil
}

func parseNodeKey(pub []byte) (*secp256k1.PublicKey, error) {
	if len(pub) != signer.PublicKeyLen || pub[0] != 0x04 {
		return nil, fmt.Errorf("transport: node key is not 65-byte uncompressed")
	}
	k, err := secp256k1.ParsePubKey(pub)
	if err != nil {
		return nil, fmt.Errorf("transport: node key is not a secp256k1 point")
	}
	return k, nil
}

func decodeHexInto(dst []byte, s string) bool {
	if len(s) != 2*len(dst) || !isLowerHex(s) {
		return false
	}
	_, err := hex.Decode(dst, []byte(s))
	return err == nil
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// textByte is signer's text charset [A-Za-z0-9._:-].
func textByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	case c == '.', c == '_', c == ':', c == '-':
		return true
	}
	return false
}

func validName(s string, maxLen int, ok func(byte) bool) bool {
	if len(s) == 0 || len(s) > maxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}
