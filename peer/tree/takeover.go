package tree

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"time"
)

// ForkID is the id of the tree that root forks from tree prev whose
// membership it holds at epoch: "f" + 31 hex digits of
// SHA-256("borgios/tree/fork" ‖ 0 ‖ prev ‖ 0 ‖ epoch (8 bytes BE) ‖ root).
// Two successors on two sides of a partition therefore never share a tree
// id, and every member can check that a takeover names its own tree.
func ForkID(prev string, epoch uint64, root NodeID) string {
	h := sha256.New()
	h.Write([]byte("borgios/tree/fork\x00"))
	h.Write([]byte(prev))
	var b [9]byte
	binary.BigEndian.PutUint64(b[1:], epoch)
	h.Write(b[:])
	h.Write([]byte(root))
	return "f" + hex.EncodeToString(h.Sum(nil))[:31]
}

// scheduleTakeover: we are a synced root-group member and our failure
// detector confirmed the root dead. The member at position p acts after
// (p−2)×TakeoverStagger unless a lower one's Assign (or a pong from the
// root) arrives first.
func (m *Machine) scheduleTakeover() { m.scheduleTakeoverAfter(0) }

func (m *Machine) scheduleTakeoverAfter(extra time.Duration) {
	if m.takeoverSeq != 0 && m.takeoverOf == m.root.ID {
		return
	}
	m.takeoverOf, m.takeoverTree = m.root.ID, m.tree
	m.takeoverSeq = m.after(extra+time.Duration(m.pos-2)*m.t.TakeoverStagger, TimerTakeover)
}

func (m *Machine) onTakeoverTimer(seq uint64) {
	if seq != m.takeoverSeq {
		return
	}
	m.takeoverSeq = 0
	if m.role != RoleMember || m.root.ID != m.takeoverOf || m.tree != m.takeoverTree {
		return
	}
	m.takeover()
}

// onHandoff: the root leaves and tells us to take over now.
func (m *Machine) onHandoff(from NodeID, msg *Message) {
	switch {
	case m.role != RoleMember || from != m.root.ID:
		m.reject(from, msg, ReasonNotRoot)
		return
	case msg.Tree != m.tree:
		m.reject(from, msg, ReasonWrongTree)
		return
	case m.pos > m.g+1 || m.rep == nil || !m.rep.synced:
		m.reject(from, msg, ReasonNotGroup)
		return
	}
	m.ack(from, msg)
	m.takeover()
}

// takeover makes this root-group member the root of a fork of its tree:
// it moves into position 1, the last node moves into the position it left
// (or that position simply goes when it was the last), the epoch continues
// from the replica's, and every member gets its Assign at once (there is no
// synced group yet to wait for). The moved last node is probed right away,
// so a last node that died with the root is dropped within one probe.
func (m *Machine) takeover() {
	r := m.rep
	if r == nil || !r.synced || len(r.members) < 2 || m.pos > len(r.members) || r.members[m.pos-1].ID != m.self.ID {
		m.startOrphan(m.root.ID)
		return
	}
	mem := r.members
	for _, mb := range mem {
		if !mb.Valid() {
			m.startOrphan(m.root.ID)
			return
		}
	}
	oldTree, oldEpoch, oldRoot, ps := m.tree, r.epoch, mem[0], m.pos
	n := len(mem)
	last := mem[n-1]
	mem[0] = m.self
	if ps != n {
		mem[ps-1] = last
	}
	mem[n-1] = Member{}
	mem = mem[:n-1]
	n--

	m.rep = nil
	m.role = RoleRoot
	m.setTree(ForkID(oldTree, oldEpoch, m.self.ID))
	m.prev, m.prevEpoch = oldTree, oldEpoch
	m.forkedAt = m.now
	m.posEpoch, m.infoEpoch = oldEpoch+1, oldEpoch+1
	m.rs = newRootState(mem)
	m.rs.logBase = m.posEpoch
	m.refreshRootView()
	m.syncGroup()
	m.orphanOf, m.orphanSeq, m.takeoverSeq = "", 0, 0
	m.disowned = nil

	// Everybody hears from us: the old root may have died with Assigns it
	// never delivered (a committed change whose targets were unreachable),
	// and we cannot tell which. One Assign per member per takeover; the
	// eviction notices of the replica's uncommitted tail go out again too.
	var gone []Member
	for _, d := range r.tail {
		if d.Epoch <= r.commit {
			continue
		}
		for _, g := range d.Gone {
			if _, ok := m.rs.index[g.ID]; !ok && g.ID != oldRoot.ID {
				gone = append(gone, g)
			}
		}
	}
	ch := heldChange{epoch: m.posEpoch, sends: make([]heldSend, 0, n-1+len(gone))}
	for p := 2; p <= n; p++ {
		mb := mem[p-1]
		ch.sends = append(ch.sends, heldSend{outKey{mb.ID, okAssign, ""}, mb, m.assignFor(p)})
	}
	for _, g := range gone {
		ch.sends = append(ch.sends, heldSend{outKey{g.ID, okEvict, ""}, g, m.evictMsg()})
	}
	m.holdChange(ch)
	m.tryCommit()
	m.replicate()
	m.addContact(oldRoot)
	m.cnt.takeovers++
	m.ensureTick()
	m.armMerge()
	if ps <= n && mem[ps-1].ID != m.self.ID {
		m.startProbe(mem[ps-1], true, "")
	}
}
