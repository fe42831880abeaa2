package tree

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Message types. Each is the envelope's request type on the wire.
const (
	TypeJoin     = "tree.join"     // joiner → any node: let me in (also a member's "re-send my Assign")
	TypeRedirect = "tree.redirect" // non-root → joiner: ask this root
	TypeAssign   = "tree.assign"   // root → node: your complete local view (structural)
	TypeUpdate   = "tree.update"   // parent → child: new tree id / root / root group (structural cascade)
	TypeEvict    = "tree.evict"    // root → node: you were removed; join again (structural)
	TypeMigrate  = "tree.migrate"  // parent → child: our tree lost a merge; join the winner (structural cascade)
	TypeHandoff  = "tree.handoff"  // root → root-group member: take over now, I am leaving (structural)
	TypeRepl     = "tree.repl"     // root → root-group member: membership snapshot chunk or deltas
	TypeReport   = "tree.report"   // member → root: I believe Target is dead
	TypeLeave    = "tree.leave"    // member → root: I am leaving
	TypePing     = "tree.ping"     // failure detector probe
	TypePingReq  = "tree.pingreq"  // ask a helper to probe Target for me
	TypePong     = "tree.pong"     // answer to a ping (or relayed by a helper)
	TypeAck      = "tree.ack"      // a request with this Seq was accepted
	TypeError    = "tree.error"    // a request with this Seq was rejected; Code says why
	TypeWhois    = "tree.whois"    // which tree are you in?
	TypeInfo     = "tree.info"     // answer to whois / merge
	TypeMerge    = "tree.merge"    // root → root: I think you win; may I bring my tree?
	TypeBcast    = "tree.bcast"    // a broadcast hop
)

// Limits enforced by Decode and Validate.
const (
	MaxMessageSize = 16 << 20 // encoded bytes
	MaxPayload     = 64 << 10 // broadcast payload bytes
	MaxFanout      = 64       // children per node (k)
	MaxIDLen       = 160      // NodeID bytes (a 130-char hex key fits)
	MaxAddrLen     = 200      // Member.Addr bytes
	MaxTreeIDLen   = 64       // tree id bytes
	MaxCodeLen     = 64       // error code bytes
	MaxChunk       = 1024     // members in one snapshot chunk
	MaxDeltas      = 64       // deltas in one replication message
	MaxSlots       = 65536    // slots (set + gone) across the deltas of one message; also caps Timing.MaxBatch
	MaxTreeSize    = 1 << 24  // positions and sizes (k·MaxTreeSize fits a 32-bit int)
	MaxHops        = 1024     // broadcast hop count
)

// Sentinel errors of Decode and Validate (test with errors.Is).
var (
	ErrTooLarge    = errors.New("tree: message too large")
	ErrMalformed   = errors.New("tree: malformed message")
	ErrUnknownType = errors.New("tree: unknown message type")
)

// FieldError says which field of which message type is wrong. It wraps
// ErrMalformed.
type FieldError struct {
	Type   string
	Field  string
	Reason string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("tree: %s: field %s: %s", e.Type, e.Field, e.Reason)
}

func (e *FieldError) Unwrap() error { return ErrMalformed }

// Message is every message of the tree protocol: one flat struct, tagged by
// Type. Which fields a type may and must carry is fixed (see the table in
// doc.go); Validate rejects anything else. Payload (broadcasts only) travels
// raw after the JSON line, never base64.
type Message struct {
	Type      string   `json:"type"`
	Seq       uint64   `json:"seq,omitempty"`
	Tree      string   `json:"tree,omitempty"`
	Prev      string   `json:"prev,omitempty"`
	PrevEpoch uint64   `json:"prevEpoch,omitempty"`
	Epoch     uint64   `json:"epoch,omitempty"`
	Info      uint64   `json:"info,omitempty"`
	Commit    uint64   `json:"commit,omitempty"`
	Pos       int      `json:"pos,omitempty"`
	Size      int      `json:"size,omitempty"`
	Offset    int      `json:"offset,omitempty"`
	Last      bool     `json:"last,omitempty"`
	Root      *Member  `json:"root,omitempty"`
	Parent    *Member  `json:"parent,omitempty"`
	Target    *Member  `json:"target,omitempty"`
	Other     string   `json:"other,omitempty"`
	Children  []Member `json:"children,omitempty"`
	Group     []Member `json:"group,omitempty"`
	Members   []Member `json:"members,omitempty"`
	Deltas    []Delta  `json:"deltas,omitempty"`
	ID        string   `json:"id,omitempty"`
	Origin    NodeID   `json:"origin,omitempty"`
	Hops      int      `json:"hops,omitempty"`
	Neighbour bool     `json:"neighbour,omitempty"`
	Accept    bool     `json:"accept,omitempty"`
	Code      string   `json:"code,omitempty"`
	Payload   []byte   `json:"-"`
}

// Delta is one structural change of the root's membership, as replicated to
// the root group: positions Set to members, then the size becomes Size.
// Gone lists members removed by the change (for eviction notices).
type Delta struct {
	Epoch uint64   `json:"epoch"`
	Size  int      `json:"size"`
	Set   []Slot   `json:"set,omitempty"`
	Gone  []Member `json:"gone,omitempty"`
}

// Slot is one position of the membership.
type Slot struct {
	Pos    int    `json:"pos"`
	Member Member `json:"member"`
}

// knownKeys are all JSON object keys of Message, Member, Delta and Slot. Decode
// rejects any other key, a key in another letter case, and duplicates.
var knownKeys = map[string]bool{
	"type": true, "seq": true, "info": true, "tree": true, "prev": true, "prevEpoch": true, "epoch": true,
	"commit": true, "pos": true, "size": true, "offset": true, "last": true, "root": true,
	"parent": true, "target": true, "other": true, "children": true, "group": true,
	"members": true, "deltas": true, "id": true, "origin": true, "hops": true,
	"neighbour": true, "accept": true, "code": true, "addr": true, "set": true, "gone": true,
	"member": true,
}

// Encode validates m and returns its wire form: one line of JSON, then (for a
// broadcast with a payload) a line feed and the raw payload bytes.
func (m *Message) Encode() ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("tree: encode %s: %w", m.Type, err)
	}
	if len(m.Payload) > 0 {
		b = append(b, '\n')
		b = append(b, m.Payload...)
	}
	if len(b) > MaxMessageSize {
		return nil, ErrTooLarge
	}
	return b, nil
}

// Decode parses and validates one message. It is strict: unknown or
// duplicate keys, keys in another case, trailing data, a payload on anything
// but a broadcast, wrong field sizes, fields a type may not carry and lists
// over their limits are all errors (wrapping ErrMalformed, ErrUnknownType or
// ErrTooLarge).
func Decode(b []byte) (*Message, error) {
	if len(b) > MaxMessageSize {
		return nil, ErrTooLarge
	}
	head, payload, hasPayload := bytes.Cut(b, []byte{'\n'})
	if err := checkKeys(json.NewDecoder(bytes.NewReader(head)), 0); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	dec := json.NewDecoder(bytes.NewReader(head))
	dec.DisallowUnknownFields()
	var m Message
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: trailing data", ErrMalformed)
	}
	if hasPayload {
		if m.Type != TypeBcast {
			return nil, &FieldError{m.Type, "payload", "only a broadcast carries a payload"}
		}
		if len(payload) > 0 {
			m.Payload = append([]byte(nil), payload...)
		}
	}
	m.normalize()
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// normalize turns empty lists into nil so that a decoded message and its
// re-encoding decode equal.
func (m *Message) normalize() {
	if len(m.Children) == 0 {
		m.Children = nil
	}
	if len(m.Group) == 0 {
		m.Group = nil
	}
	if len(m.Members) == 0 {
		m.Members = nil
	}
	if len(m.Deltas) == 0 {
		m.Deltas = nil
	}
	for i := range m.Deltas {
		if len(m.Deltas[i].Set) == 0 {
			m.Deltas[i].Set = nil
		}
		if len(m.Deltas[i].Gone) == 0 {
			m.Deltas[i].Gone = nil
		}
	}
	if len(m.Payload) == 0 {
		m.Payload = nil
	}
}

// checkKeys walks one JSON value and rejects object keys that are not
// exactly one of knownKeys, duplicate keys and nesting deeper than 6.
func checkKeys(dec *json.Decoder, depth int) error {
	if depth > 6 {
		return errors.New("nested too deep")
	}
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	switch d {
	case '{':
		var seen []string
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return err
			}
			key, _ := kt.(string)
			if !knownKeys[key] {
				return fmt.Errorf("unknown field %q", key)
			}
			for _, s := range seen {
				if s == key {
					return fmt.Errorf("duplicate field %q", key)
				}
			}
			seen = append(seen, key)
			if err := checkKeys(dec, depth+1); err != nil {
				return err
			}
		}
	case '[':
		for dec.More() {
			if err := checkKeys(dec, depth+1); err != nil {
				return err
			}
		}
	}
	_, err = dec.Token() // the closing delimiter
	return err
}
