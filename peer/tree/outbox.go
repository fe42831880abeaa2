package tree

import (
	"container/heap"
	"time"
)

// outKind is the channel of a reliable message. At most one message per
// (target, kind, about) is outstanding: a newer one supersedes the older.
type outKind uint8

const (
	okAssign outKind = iota + 1
	okUpdate
	okEvict
	okMigrate
	okHandoff
	okRepl
	okReport
	okLeave
)

type outKey struct {
	to    NodeID
	kind  outKind
	about NodeID
}

// pending is one reliable message waiting for its tree.ack.
type pending struct {
	key      outKey
	to       Member
	msg      *Message
	attempts int
	due      int64
	done     bool
	// replication bookkeeping
	upTo    uint64
	snapEnd int
	last    bool
}

type pendingHeap []*pending

func (h pendingHeap) Len() int { return len(h) }
func (h pendingHeap) Less(i, j int) bool {
	if h[i].due != h[j].due {
		return h[i].due < h[j].due
	}
	return h[i].msg.Seq < h[j].msg.Seq
}
func (h pendingHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *pendingHeap) Push(x any)   { *h = append(*h, x.(*pending)) }
func (h *pendingHeap) Pop() any {
	old := *h
	p := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return p
}

// outbox holds the reliable messages in flight, retried with exponential
// backoff until acknowledged, superseded, or RetryLimit transmissions.
type outbox struct {
	byKey map[outKey]*pending
	bySeq map[uint64]*pending
	due   pendingHeap // by due time; entries acknowledged meanwhile are skipped
}

func (o *outbox) remove(p *pending) {
	p.done = true
	if o.byKey[p.key] == p {
		delete(o.byKey, p.key)
	}
	delete(o.bySeq, p.msg.Seq)
}

// reliable sends msg to `to` on channel key and keeps retrying it.
func (m *Machine) reliable(key outKey, to Member, msg *Message) *pending {
	o := &m.out
	if o.byKey == nil {
		o.byKey = map[outKey]*pending{}
		o.bySeq = map[uint64]*pending{}
	}
	if old := o.byKey[key]; old != nil {
		o.remove(old)
	}
	msg.Seq = m.nextSeq()
	p := &pending{key: key, to: to, msg: msg, due: m.now + int64(m.t.RetryBase)}
	o.byKey[key] = p
	o.bySeq[msg.Seq] = p
	heap.Push(&o.due, p)
	m.emit(to, msg)
	m.armRetry(p.due)
	return p
}

// cancel drops any outstanding message on key.
func (m *Machine) cancel(key outKey) {
	if p := m.out.byKey[key]; p != nil {
		m.out.remove(p)
	}
}

// cancelTo drops every outstanding message to id.
func (m *Machine) cancelTo(id NodeID) {
	for _, k := range []outKind{okAssign, okUpdate, okEvict, okMigrate, okHandoff, okRepl, okLeave} {
		m.cancel(outKey{id, k, ""})
	}
}

// dropStructural drops the pending messages that speak for the tree we are
// leaving (assign, update, evict, repl, handoff, report): retransmitted
// later they would carry a tree we no longer hold. Migrate and leave go on.
func (m *Machine) dropStructural() {
	for _, p := range m.out.byKey {
		switch p.key.kind {
		case okAssign, okUpdate, okEvict, okRepl, okHandoff, okReport:
			m.out.remove(p)
		}
	}
}

// Awaiting reports whether this machine waits for an acknowledgement of a
// structural message (assign, update, evict, migrate, handoff) to id, or —
// at the root — holds one for id until the root group has the change.
func (m *Machine) Awaiting(id NodeID) bool {
	for _, k := range []outKind{okAssign, okUpdate, okEvict, okMigrate, okHandoff} {
		if m.out.byKey[outKey{id, k, ""}] != nil {
			return true
		}
	}
	return m.rs != nil && m.rs.heldTo[id] > 0
}

// Outstanding returns the number of reliable messages not yet acknowledged.
func (m *Machine) Outstanding() int { return len(m.out.byKey) }

func (m *Machine) armRetry(due int64) {
	if m.retryAt != 0 && m.retryAt <= due {
		return
	}
	due = max(due, m.now+int64(time.Millisecond))
	m.retryAt = due
	m.retrySeq = m.after(time.Duration(due-m.now), TimerRetry)
}

func (m *Machine) backoff(attempts int) time.Duration {
	d := m.t.RetryBase
	for i := 0; i < attempts && d < m.t.RetryMax; i++ {
		d *= 2
	}
	return m.jitter(min(d, m.t.RetryMax))
}

func (m *Machine) onRetry(seq uint64) {
	if seq != m.retrySeq {
		return
	}
	m.retryAt = 0
	o := &m.out
	for o.due.Len() > 0 {
		p := o.due[0]
		if p.done {
			heap.Pop(&o.due)
			continue
		}
		if p.due > m.now {
			break
		}
		heap.Pop(&o.due)
		p.attempts++
		if p.attempts >= m.t.RetryLimit {
			o.remove(p)
			m.cnt.giveUps++
			m.gaveUp(p)
			continue
		}
		m.cnt.retries++
		p.due = m.now + int64(m.backoff(p.attempts))
		heap.Push(&o.due, p)
		m.emit(p.to, p.msg)
	}
	for o.due.Len() > 0 && o.due[0].done {
		heap.Pop(&o.due)
	}
	if o.due.Len() > 0 {
		m.armRetry(o.due[0].due)
	}
}

func (m *Machine) onAck(from NodeID, seq uint64) {
	p := m.out.bySeq[seq]
	if p == nil || p.to.ID != from {
		if !m.joinAcked(from, seq) {
			m.cnt.unmatched++
		}
		return
	}
	m.out.remove(p)
	if p.key.kind == okRepl {
		m.replAcked(p)
	}
}

// transient rejections leave the message outstanding: the receiver is
// expected to accept it after a cascade it has not seen yet.
func transient(code string) bool {
	return code == ReasonWrongTree || code == ReasonUnknownFork || code == ReasonNotRoot ||
		code == ReasonNotParent || code == ReasonRole || code == ReasonNotMember
}

func (m *Machine) onError(from NodeID, seq uint64, code string) {
	p := m.out.bySeq[seq]
	if p == nil || p.to.ID != from {
		if !m.joinRejected(from, seq) {
			m.cnt.unmatched++
		}
		return
	}
	if p.key.kind == okReport && code == ReasonNotMember && m.role == RoleMember && from == m.root.ID {
		m.out.remove(p)
		m.startJoining([]Member{m.root}) // our root no longer has us
		return
	}
	if transient(code) {
		return
	}
	m.out.remove(p)
	if p.key.kind == okRepl {
		m.replRejected(p)
	}
}

// gaveUp: the target never acknowledged. The root checks whether it is
// dead; anyone else lets its failure detector decide.
func (m *Machine) gaveUp(p *pending) {
	switch p.key.kind {
	case okAssign, okRepl, okEvict:
		if m.role == RoleRoot {
			if p.key.kind == okRepl {
				m.replRejected(p)
			}
			if _, ok := m.rs.index[p.to.ID]; ok {
				m.startProbe(p.to, true, "")
			}
		}
	case okUpdate, okMigrate:
		if m.isNeighbour(p.to.ID) {
			m.startProbe(p.to, false, "")
		}
	}
}
