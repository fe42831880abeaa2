package tree

import "fmt"

// fieldMask records which fields of a Message are present (non-zero).
type fieldMask uint32

const (
	fSeq fieldMask = 1 << iota
	fTree
	fPrev
	fPrevEpoch
	fEpoch
	fCommit
	fPos
	fSize
	fOffset
	fLast
	fRoot
	fParent
	fTarget
	fOther
	fChildren
	fGroup
	fMembers
	fDeltas
	fID
	fOrigin
	fHops
	fPayload
	fNeighbour
	fAccept
	fCode
	fInfo
	numFields = iota
)

var fieldNames = [numFields]string{
	"seq", "tree", "prev", "prevEpoch", "epoch", "commit", "pos", "size", "offset", "last",
	"root", "parent", "target", "other", "children", "group", "members", "deltas", "id",
	"origin", "hops", "payload", "neighbour", "accept", "code", "info",
}

// rule: the fields a type must carry and the ones it may carry.
type rule struct {
	must, may fieldMask
	request   bool // answered with tree.ack / tree.error (or a typed response)
}

var rules = map[string]rule{
	TypeJoin:     {must: fSeq | fTarget, request: true},
	TypeRedirect: {must: fSeq | fRoot, may: fTree | fEpoch | fSize},
	TypeAssign:   {must: fSeq | fTree | fEpoch | fPos | fSize | fRoot | fParent, may: fPrev | fPrevEpoch | fChildren | fGroup, request: true},
	TypeUpdate:   {must: fSeq | fTree | fEpoch | fRoot, may: fGroup | fPrev | fPrevEpoch, request: true},
	TypeEvict:    {must: fSeq | fTree | fEpoch, may: fPrev | fPrevEpoch, request: true},
	TypeMigrate:  {must: fSeq | fTree | fTarget | fOther, request: true},
	TypeHandoff:  {must: fSeq | fTree | fEpoch, request: true},
	TypeRepl:     {must: fSeq | fTree | fEpoch, may: fCommit | fOffset | fLast | fMembers | fDeltas, request: true},
	TypeReport:   {must: fSeq | fTree | fTarget, request: true},
	TypeLeave:    {must: fSeq | fTree, request: true},
	TypePing:     {must: fSeq, may: fTree | fEpoch | fInfo, request: true},
	TypePingReq:  {must: fSeq | fTarget, request: true},
	TypePong:     {must: fSeq, may: fTree | fEpoch | fInfo | fNeighbour | fRoot | fPos},
	TypeAck:      {must: fSeq},
	TypeError:    {must: fSeq | fCode},
	TypeWhois:    {must: fSeq, request: true},
	TypeInfo:     {must: fSeq, may: fTree | fEpoch | fSize | fRoot | fAccept},
	TypeMerge:    {must: fSeq | fTree | fEpoch | fSize | fRoot, request: true},
	TypeBcast:    {must: fID | fOrigin | fHops, may: fTree | fPayload},
}

func (m *Message) present() fieldMask {
	var f fieldMask
	set := func(b bool, bit fieldMask) {
		if b {
			f |= bit
		}
	}
	set(m.Seq != 0, fSeq)
	set(m.Tree != "", fTree)
	set(m.Prev != "", fPrev)
	set(m.PrevEpoch != 0, fPrevEpoch)
	set(m.Epoch != 0, fEpoch)
	set(m.Commit != 0, fCommit)
	set(m.Pos != 0, fPos)
	set(m.Size != 0, fSize)
	set(m.Offset != 0, fOffset)
	set(m.Last, fLast)
	set(m.Root != nil, fRoot)
	set(m.Parent != nil, fParent)
	set(m.Target != nil, fTarget)
	set(m.Other != "", fOther)
	set(len(m.Children) != 0, fChildren)
	set(len(m.Group) != 0, fGroup)
	set(len(m.Members) != 0, fMembers)
	set(len(m.Deltas) != 0, fDeltas)
	set(m.ID != "", fID)
	set(m.Origin != "", fOrigin)
	set(m.Hops != 0, fHops)
	set(len(m.Payload) != 0, fPayload)
	set(m.Neighbour, fNeighbour)
	set(m.Accept, fAccept)
	set(m.Code != "", fCode)
	set(m.Info != 0, fInfo)
	return f
}

// Validate checks m against the rules of its type: known type, required and
// allowed fields, charsets and lengths of every text, ranges of every number
// and the length of every list. It does not know the receiver's fanout or
// state; the machine checks those when it handles the message.
func (m *Message) Validate() error {
	if m == nil {
		return fmt.Errorf("%w: nil", ErrMalformed)
	}
	r, ok := rules[m.Type]
	if !ok {
		if len(m.Type) > 32 {
			return fmt.Errorf("%w: %.32q…", ErrUnknownType, m.Type)
		}
		return fmt.Errorf("%w: %q", ErrUnknownType, m.Type)
	}
	bad := func(field, reason string) error { return &FieldError{m.Type, field, reason} }
	p := m.present()
	for i := range numFields {
		bit := fieldMask(1) << i
		if r.must&bit != 0 && p&bit == 0 {
			return bad(fieldNames[i], "missing")
		}
		if (r.must|r.may)&bit == 0 && p&bit != 0 {
			return bad(fieldNames[i], "not allowed for this type")
		}
	}
	if (m.Prev == "") != (m.PrevEpoch == 0) {
		return bad("prev", "prev and prevEpoch go together")
	}
	for _, t := range []struct{ name, v string }{{"tree", m.Tree}, {"prev", m.Prev}, {"other", m.Other}} {
		if t.v != "" && !validText(t.v, MaxTreeIDLen) {
			return bad(t.name, "not a tree id")
		}
	}
	if m.ID != "" && !validText(m.ID, MaxTreeIDLen) {
		return bad("id", "not a broadcast id")
	}
	if m.Code != "" && !validText(m.Code, MaxCodeLen) {
		return bad("code", "not an error code")
	}
	if m.Origin != "" && !ValidID(m.Origin) {
		return bad("origin", "not a node id")
	}
	for _, n := range []struct {
		name string
		v    int
		max  int
	}{{"pos", m.Pos, MaxTreeSize}, {"size", m.Size, MaxTreeSize}, {"offset", m.Offset, MaxTreeSize}, {"hops", m.Hops, MaxHops}} {
		if n.v < 0 || n.v > n.max {
			return bad(n.name, "out of range")
		}
	}
	for _, mm := range []struct {
		name string
		v    *Member
	}{{"root", m.Root}, {"parent", m.Parent}, {"target", m.Target}} {
		if mm.v != nil && !mm.v.Valid() {
			return bad(mm.name, "not a valid member")
		}
	}
	for _, l := range []struct {
		name string
		v    []Member
		max  int
	}{{"children", m.Children, MaxFanout}, {"group", m.Group, MaxFanout}, {"members", m.Members, MaxChunk}} {
		if len(l.v) > l.max {
			return bad(l.name, fmt.Sprintf("more than %d entries", l.max))
		}
		for i := range l.v {
			if !l.v[i].Valid() {
				return bad(l.name, "not a valid member")
			}
		}
	}
	if len(m.Payload) > MaxPayload {
		return bad("payload", "too large")
	}
	switch m.Type {
	case TypeAssign:
		if m.Pos < 2 {
			return bad("pos", "must be at least 2 (only the root holds position 1)")
		}
		if m.Size < m.Pos {
			return bad("size", "smaller than pos")
		}
	case TypeRepl:
		if len(m.Deltas) > 0 && (m.Offset != 0 || m.Last || len(m.Members) > 0) {
			return bad("deltas", "a repl carries either deltas or a snapshot chunk")
		}
		if err := validDeltas(m.Deltas); err != "" {
			return bad("deltas", err)
		}
	}
	return nil
}

func validDeltas(ds []Delta) string {
	if len(ds) > MaxDeltas {
		return fmt.Sprintf("more than %d deltas", MaxDeltas)
	}
	slots := 0
	for i, d := range ds {
		if d.Epoch == 0 || (i > 0 && d.Epoch != ds[i-1].Epoch+1) {
			return "epochs must be consecutive and non-zero"
		}
		if d.Size < 1 || d.Size > MaxTreeSize {
			return "size out of range"
		}
		slots += len(d.Set) + len(d.Gone)
		if slots > MaxSlots {
			return fmt.Sprintf("more than %d slots", MaxSlots)
		}
		for _, s := range d.Set {
			if s.Pos < 1 || s.Pos > d.Size || !s.Member.Valid() {
				return "bad slot"
			}
		}
		for _, g := range d.Gone {
			if !g.Valid() {
				return "bad gone member"
			}
		}
	}
	return ""
}

// isRequest reports whether a message of this type expects an answer (and
// so gets a tree.error when rejected).
func isRequest(typ string) bool { return rules[typ].request }

// validText: 1…max bytes of [A-Za-z0-9._:-], the envelope's text charset.
func validText(s string, max int) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

// ValidID reports whether id is a well-formed NodeID: 1…MaxIDLen bytes of
// [A-Za-z0-9._:-].
func ValidID(id NodeID) bool { return validText(string(id), MaxIDLen) }

// Valid reports whether the member has a valid ID and an Addr of at most
// MaxAddrLen bytes of [A-Za-z0-9._:-[]%] (host:port, [v6]:port or
// relay:<NodeID>); Addr may be empty.
func (mb Member) Valid() bool {
	if !ValidID(mb.ID) || len(mb.Addr) > MaxAddrLen {
		return false
	}
	for i := 0; i < len(mb.Addr); i++ {
		c := mb.Addr[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-' || c == '[' || c == ']' || c == '%') {
			return false
		}
	}
	return true
}
