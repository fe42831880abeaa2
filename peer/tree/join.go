package tree

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"slices"
)

const (
	maxJoinTargets = 20
	maxAsked       = 32
)

// joiner is the state of a node looking for a tree: an ordered list of
// nodes to ask, one at a time.
type joiner struct {
	targets []Member
	idx     int
	rounds  int
	seq     uint64 // sequence number of the join in flight
	cur     NodeID // whom we asked
	queued  bool   // cur acknowledged: we are in its join queue
	asked   []NodeID
}

func (j *joiner) add(c Member) {
	if !c.Valid() || len(j.targets) >= maxJoinTargets {
		return
	}
	for _, t := range j.targets {
		if t.ID == c.ID {
			return
		}
	}
	j.targets = append(j.targets, c)
}

func (j *joiner) wasAsked(id NodeID) bool {
	for _, a := range j.asked {
		if a == id {
			return true
		}
	}
	return false
}

// startJoining leaves the current view and looks for a tree: first the
// given nodes, then the contacts.
func (m *Machine) startJoining(first []Member) {
	if m.inTree() && m.migratedFrom != m.tree {
		m.leftTree, m.leftChildren = m.tree, append([]Member(nil), m.children...)
	}
	m.clearView()
	m.role = RoleJoining
	j := &joiner{}
	for _, c := range first {
		if c.ID != m.self.ID {
			j.add(c)
		}
	}
	for _, c := range m.contacts {
		j.add(c)
	}
	if len(j.targets) == 0 {
		m.found()
		return
	}
	m.jn = j
	m.sendJoin()
}

func (m *Machine) sendJoin() {
	j := m.jn
	t := j.targets[j.idx]
	j.cur, j.queued = t.ID, false
	j.seq = m.nextSeq()
	if !j.wasAsked(t.ID) {
		if len(j.asked) >= maxAsked {
			j.asked = j.asked[1:]
		}
		j.asked = append(j.asked, t.ID)
	}
	self := m.self
	m.emit(t, &Message{Type: TypeJoin, Seq: j.seq, Target: &self})
	m.joinSeq = m.after(m.t.JoinRetry, TimerJoin)
}

// nextJoinTarget moves to the next node to ask; after JoinRounds rounds in
// which no root took us into its queue, found a one-node tree.
func (m *Machine) nextJoinTarget() {
	j := m.jn
	j.idx++
	if j.idx >= len(j.targets) {
		j.idx = 0
		j.rounds++
		if j.rounds >= m.t.JoinRounds {
			m.found()
			return
		}
	}
	m.sendJoin()
}

func (m *Machine) onJoinTimer(seq uint64) {
	if seq != m.joinSeq || m.role != RoleJoining || m.jn == nil {
		return
	}
	if m.jn.queued {
		m.sendJoin() // still queued? ask the same root again (it deduplicates)
		return
	}
	m.nextJoinTarget()
}

// joinAcked: a root put us in its queue.
func (m *Machine) joinAcked(from NodeID, seq uint64) bool {
	j := m.jn
	if m.role != RoleJoining || j == nil || from != j.cur || seq != j.seq {
		return false
	}
	j.queued, j.rounds = true, 0
	m.joinSeq = m.after(m.t.JoinWait, TimerJoin)
	return true
}

// joinRejected: the node we asked is in no tree; ask the next one.
func (m *Machine) joinRejected(from NodeID, seq uint64) bool {
	j := m.jn
	if m.role != RoleJoining || j == nil || from != j.cur || seq != j.seq {
		return false
	}
	m.nextJoinTarget()
	return true
}

func (m *Machine) onRedirect(from NodeID, msg *Message) {
	j := m.jn
	if m.role != RoleJoining || j == nil || from != j.cur || msg.Seq != j.seq {
		m.cnt.unmatched++
		return
	}
	r := *msg.Root
	if r.ID == m.self.ID || r.ID == from {
		m.nextJoinTarget()
		return
	}
	m.addContact(r)
	// Ask the root next.
	for i, t := range j.targets {
		if t.ID == r.ID {
			j.targets = slices.Delete(j.targets, i, i+1)
			if i < j.idx {
				j.idx--
			}
			break
		}
	}
	at := min(j.idx+1, len(j.targets))
	j.targets = slices.Insert(j.targets, at, r)
	if len(j.targets) > maxJoinTargets {
		j.targets = j.targets[:maxJoinTargets]
	}
	j.idx = at
	m.sendJoin()
}

// onJoin: the root queues a joiner (or re-sends a member its Assign); a
// member redirects to its root; anyone else says "not a member".
func (m *Machine) onJoin(from NodeID, msg *Message) {
	if msg.Target.ID != from {
		m.reject(from, msg, ReasonMalformed)
		return
	}
	switch m.role {
	case RoleRoot:
		rs := m.rs
		if p, ok := rs.index[from]; ok {
			if rs.members[p-1].Addr != msg.Target.Addr {
				m.setAddr(p, *msg.Target)
			}
			m.resyncMember(from)
			m.ack(from, msg)
			return
		}
		m.ack(from, msg)
		if rs.queued[from] {
			return
		}
		if rs.queued == nil {
			rs.queued = map[NodeID]bool{}
		}
		rs.queued[from] = true
		rs.queue = append(rs.queue, *msg.Target)
		if m.batchSeq == 0 {
			m.batchSeq = m.after(m.t.JoinBatch, TimerBatch)
		}
	case RoleMember:
		r := m.root
		m.emit(m.memberOf(from), &Message{Type: TypeRedirect, Seq: msg.Seq, Root: &r, Tree: m.tree, Epoch: m.posEpoch, Size: m.size})
	default:
		if m.role == RoleJoining && m.migrateTo.ID != "" && m.migrateTo.ID != from {
			r := m.migrateTo
			m.emit(m.memberOf(from), &Message{Type: TypeRedirect, Seq: msg.Seq, Root: &r})
			return
		}
		m.reject(from, msg, ReasonNotMember)
	}
}

func (m *Machine) onBatch(seq uint64) {
	if seq != m.batchSeq {
		return
	}
	m.batchSeq = 0
	if m.role != RoleRoot {
		return
	}
	m.placeBatch()
	if len(m.rs.queue) > 0 {
		m.batchSeq = m.after(m.t.JoinBatch, TimerBatch)
	}
}

// found makes this node the root of a new one-node tree.
func (m *Machine) found() {
	m.clearView()
	m.jn = nil
	m.joinSeq = 0
	m.migrateTo = Member{}
	m.pastTrees = nil
	m.role = RoleRoot
	m.tree = foundID(m.self.ID, m.now, m.rnd.Uint64())
	m.posEpoch, m.infoEpoch = 1, 1
	m.rs = newRootState([]Member{m.self})
	m.rs.logBase = m.posEpoch
	m.refreshRootView()
	m.cnt.founded++
	m.ensureTick()
	m.armMerge()
}

// foundID is the id of a tree founded by self: "t" + 31 hex digits of
// SHA-256("borgios/tree/found" ‖ 0 ‖ self ‖ 0 ‖ now ‖ random).
func foundID(self NodeID, now int64, r uint64) string {
	h := sha256.New()
	h.Write([]byte("borgios/tree/found\x00"))
	h.Write([]byte(self))
	var b [17]byte
	binary.BigEndian.PutUint64(b[1:], uint64(now))
	binary.BigEndian.PutUint64(b[9:], r)
	h.Write(b[:])
	return "t" + hex.EncodeToString(h.Sum(nil))[:31]
}
