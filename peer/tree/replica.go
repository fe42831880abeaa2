package tree

const (
	maxLog  = 4096 // deltas the root keeps for a lagging group member
	maxTail = 256  // uncommitted deltas a replica remembers for a takeover
)

// groupRepl is the root's replication stream to one root-group member:
// stop-and-wait, either snapshot chunks (until synced) or deltas.
type groupRepl struct {
	m         Member
	synced    bool
	acked     uint64 // the member holds every delta up to here
	snapping  bool
	snapEpoch uint64
	snapOff   int
	busy      bool
}

// replica is a root-group member's copy of the root's membership.
type replica struct {
	members   []Member
	epoch     uint64
	synced    bool
	snapEpoch uint64
	commit    uint64
	tail      []Delta // deltas after commit: their Assigns may not all have been sent
}

// syncGroup makes the replication streams follow the current root group.
func (m *Machine) syncGroup() {
	rs := m.rs
	next := make([]*groupRepl, 0, len(m.group))
	for _, mb := range m.group {
		var g *groupRepl
		for _, old := range rs.grp {
			if old.m.ID == mb.ID {
				g = old
				break
			}
		}
		if g == nil {
			g = &groupRepl{}
		}
		g.m = mb
		next = append(next, g)
	}
	for _, old := range rs.grp {
		keep := false
		for _, g := range next {
			keep = keep || g == old
		}
		if !keep {
			m.cancel(outKey{old.m.ID, okRepl, ""})
		}
	}
	rs.grp = next
}

func (m *Machine) groupOf(id NodeID) *groupRepl {
	for _, g := range m.rs.grp {
		if g.m.ID == id {
			return g
		}
	}
	return nil
}

func (m *Machine) replicate() {
	for _, g := range m.rs.grp {
		if !g.busy {
			m.replNext(g)
		}
	}
}

// replNext sends the next snapshot chunk or the deltas the member lacks.
func (m *Machine) replNext(g *groupRepl) {
	rs := m.rs
	msg := &Message{Type: TypeRepl, Tree: m.tree, Commit: rs.commit}
	var upTo uint64
	end, last := 0, false
	if !g.synced {
		if !g.snapping {
			g.snapping, g.snapEpoch, g.snapOff = true, m.posEpoch, 0
		}
		end = min(g.snapOff+MaxChunk, len(rs.members))
		if end > g.snapOff {
			msg.Members = append([]Member(nil), rs.members[g.snapOff:end]...)
		} else {
			end = g.snapOff
		}
		last = end >= len(rs.members)
		msg.Offset, msg.Epoch, msg.Last = g.snapOff, g.snapEpoch, last
	} else {
		if g.acked >= m.posEpoch {
			return
		}
		ds, ok := m.deltasAfter(g.acked)
		if !ok {
			g.synced, g.snapping = false, false
			m.replNext(g)
			return
		}
		msg.Deltas = append([]Delta(nil), ds...)
		upTo = ds[len(ds)-1].Epoch
		msg.Epoch = upTo
	}
	p := m.reliable(outKey{g.m.ID, okRepl, ""}, g.m, msg)
	p.upTo, p.snapEnd, p.last = upTo, end, last
	g.busy = true
}

// deltasAfter returns the logged deltas after epoch e, at most MaxDeltas and
// MaxSlots slots (always at least one).
func (m *Machine) deltasAfter(e uint64) ([]Delta, bool) {
	rs := m.rs
	if e < rs.logBase || int(e-rs.logBase) >= len(rs.log) {
		return nil, false
	}
	i := int(e - rs.logBase)
	j, slots := i, 0
	for j < len(rs.log) && j-i < MaxDeltas {
		s := len(rs.log[j].Set) + len(rs.log[j].Gone)
		if j > i && slots+s > MaxSlots {
			break
		}
		slots += s
		j++
	}
	return rs.log[i:j], true
}

func (m *Machine) replAcked(p *pending) {
	if m.role != RoleRoot {
		return
	}
	g := m.groupOf(p.to.ID)
	if g == nil {
		return
	}
	g.busy = false
	if len(p.msg.Deltas) > 0 {
		if g.synced {
			g.acked = max(g.acked, p.upTo)
		}
	} else if g.snapping && p.msg.Epoch == g.snapEpoch {
		g.snapOff = p.snapEnd
		if p.last {
			g.synced, g.snapping, g.acked = true, false, g.snapEpoch
		}
	}
	m.tryCommit()
	m.replNext(g)
}

// replRejected: the member lost its replica or never acknowledged: start
// over with a snapshot (now if it answered, at the next change otherwise).
func (m *Machine) replRejected(p *pending) {
	if m.role != RoleRoot {
		return
	}
	g := m.groupOf(p.to.ID)
	if g == nil {
		return
	}
	g.busy, g.synced, g.snapping = false, false, false
	m.tryCommit()
	if p.attempts < m.t.RetryLimit {
		m.replNext(g)
	}
}

// trimLog drops the deltas every group member has.
func (m *Machine) trimLog() {
	rs := m.rs
	need := m.posEpoch
	for _, g := range rs.grp {
		switch {
		case g.synced:
			need = min(need, g.acked)
		case g.snapping:
			need = min(need, g.snapEpoch)
		}
	}
	if len(rs.log) > maxLog {
		need = max(need, rs.logBase+uint64(len(rs.log)-maxLog))
	}
	if need <= rs.logBase {
		return
	}
	cut := min(int(need-rs.logBase), len(rs.log))
	clear(rs.log[:cut])
	rs.log = rs.log[cut:]
	if len(rs.log) == 0 {
		rs.log = nil
	}
	rs.logBase = need
}

// onRepl: a root-group member applies a snapshot chunk or deltas.
func (m *Machine) onRepl(from NodeID, msg *Message) {
	switch {
	case m.role != RoleMember || from != m.root.ID:
		m.reject(from, msg, ReasonNotRoot)
		return
	case msg.Tree != m.tree:
		m.reject(from, msg, ReasonWrongTree)
		return
	case m.pos > m.g+1:
		m.reject(from, msg, ReasonNotGroup)
		return
	}
	r := m.rep
	if len(msg.Deltas) == 0 {
		switch {
		case msg.Offset == 0 && !(r != nil && !r.synced && r.snapEpoch == msg.Epoch && len(r.members) >= len(msg.Members)):
			r = &replica{snapEpoch: msg.Epoch}
			m.rep = r
			r.members = append(r.members, msg.Members...)
		case r == nil || r.synced || r.snapEpoch != msg.Epoch || msg.Offset > len(r.members):
			m.reject(from, msg, ReasonGap)
			return
		case msg.Offset == len(r.members):
			r.members = append(r.members, msg.Members...)
		}
		if msg.Last && msg.Offset+len(msg.Members) >= len(r.members) {
			r.synced, r.epoch = true, r.snapEpoch
		}
	} else {
		if r == nil || !r.synced {
			m.reject(from, msg, ReasonGap)
			return
		}
		for _, d := range msg.Deltas {
			if d.Epoch <= r.epoch {
				continue
			}
			if d.Epoch != r.epoch+1 || !r.apply(d) {
				m.rep.synced = false
				m.reject(from, msg, ReasonGap)
				return
			}
			r.tail = append(r.tail, d)
		}
	}
	r.commit = max(r.commit, msg.Commit)
	i := 0
	for i < len(r.tail) && (r.tail[i].Epoch <= r.commit || len(r.tail)-i > maxTail) {
		i++
	}
	if i > 0 {
		r.tail = append(r.tail[:0:0], r.tail[i:]...)
	}
	m.ack(from, msg)
}

// apply applies one delta; it refuses to grow the replica by more than
// MaxSlots positions at once (a bound on what one message can allocate).
func (r *replica) apply(d Delta) bool {
	if d.Size > len(r.members) {
		if d.Size-len(r.members) > MaxSlots {
			return false
		}
		r.members = append(r.members, make([]Member, d.Size-len(r.members))...)
	}
	for _, s := range d.Set {
		r.members[s.Pos-1] = s.Member
	}
	clear(r.members[d.Size:])
	r.members = r.members[:d.Size]
	r.epoch = d.Epoch
	return true
}
