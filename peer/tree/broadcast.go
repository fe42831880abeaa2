package tree

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"time"
)

// seenSet remembers broadcast ids: at most SeenMax, each for SeenTTL,
// oldest first out.
type seenSet struct {
	ids   map[string]struct{}
	order []seenEntry
	head  int
}

type seenEntry struct {
	id string
	at int64
}

func (s *seenSet) has(id string) bool {
	_, ok := s.ids[id]
	return ok
}

func (s *seenSet) add(id string, now, ttl int64, max int) {
	if s.ids == nil {
		s.ids = map[string]struct{}{}
	}
	for s.head < len(s.order) && (len(s.ids) >= max || s.order[s.head].at+ttl < now) {
		delete(s.ids, s.order[s.head].id)
		s.order[s.head] = seenEntry{}
		s.head++
	}
	if s.head > 64 && s.head*2 > len(s.order) {
		s.order = append(s.order[:0:0], s.order[s.head:]...)
		s.head = 0
	}
	s.ids[id] = struct{}{}
	s.order = append(s.order, seenEntry{id, now})
}

// bcastID is the id of broadcast seq of origin in its incarnation (a random
// number drawn at New): 32 hex digits of SHA-256("borgios/tree/bcast" ‖ 0 ‖
// origin ‖ 0 ‖ incarnation ‖ seq).
func bcastID(origin NodeID, incarnation, seq uint64) string {
	h := sha256.New()
	h.Write([]byte("borgios/tree/bcast\x00"))
	h.Write([]byte(origin))
	var b [17]byte
	binary.BigEndian.PutUint64(b[1:], incarnation)
	binary.BigEndian.PutUint64(b[9:], seq)
	h.Write(b[:])
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// Broadcast starts a broadcast of payload (at most MaxPayload bytes) and
// returns its id. It goes to the parent and the children; every node
// forwards it once to its other tree neighbours. Outside a tree, or with a
// payload too large, nothing is sent and the id is "".
func (m *Machine) Broadcast(now time.Time, payload []byte) ([]Action, string) {
	m.begin(now)
	if !m.inTree() || len(payload) > MaxPayload {
		return m.end(), ""
	}
	m.bseq++
	id := bcastID(m.self.ID, m.incarnation, m.bseq)
	m.seen.add(id, m.now, int64(m.t.SeenTTL), m.t.SeenMax)
	msg := &Message{Type: TypeBcast, ID: id, Origin: m.self.ID, Hops: 1, Tree: m.tree}
	if len(payload) > 0 {
		msg.Payload = append([]byte(nil), payload...)
	}
	m.forward(msg, "")
	return m.end(), id
}

func (m *Machine) forward(msg *Message, except NodeID) {
	if m.role == RoleMember && m.parent.ID != except {
		m.emit(m.parent, msg)
	}
	for _, c := range m.children {
		if c.ID != except {
			m.emit(c, msg)
		}
	}
}

// onBcast delivers a broadcast the first time and forwards it to every tree
// neighbour but the one it came from. Accepted from a tree neighbour or from
// a node that says it is in our tree (a neighbour we have not heard of yet).
func (m *Machine) onBcast(from NodeID, msg *Message) {
	if !m.inTree() {
		m.rejected = true
		m.cnt.rejected[reasonIndex[ReasonNotMember]]++
		return
	}
	if msg.Tree != m.tree && !m.isNeighbour(from) {
		m.rejected = true
		m.cnt.rejected[reasonIndex[ReasonNotNeighbor]]++
		return
	}
	if m.seen.has(msg.ID) {
		m.cnt.duplicates++
		return
	}
	m.seen.add(msg.ID, m.now, int64(m.t.SeenTTL), m.t.SeenMax)
	m.acts = append(m.acts, Deliver{ID: msg.ID, Origin: msg.Origin, Payload: msg.Payload, Hops: msg.Hops})
	m.cnt.delivered++
	if msg.Hops >= MaxHops {
		return
	}
	m.forward(&Message{Type: TypeBcast, ID: msg.ID, Origin: msg.Origin, Hops: msg.Hops + 1, Tree: m.tree, Payload: msg.Payload}, from)
}
