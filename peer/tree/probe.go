package tree

const (
	maxProbes = 64  // concurrent probes (own round + root confirmations)
	maxRelays = 256 // concurrent indirect probes done for others
)

// probe is one SWIM probe: a ping, after ProbeTimeout ping-reqs through
// helpers, after SuspectTimeout the verdict "dead".
type probe struct {
	seq      uint64
	target   Member
	indirect bool
	confirm  bool // root: confirming a report before evicting
	reporter NodeID
}

type relay struct {
	requester Member
	seq       uint64 // the requester's probe sequence number
	target    NodeID
	until     int64
}

type prober struct {
	probes []*probe
	relays map[uint64]relay
	rr     int
}

func (p *prober) dropAll() { p.probes = nil }

func (p *prober) find(seq uint64) (int, *probe) {
	for i, x := range p.probes {
		if x.seq == seq {
			return i, x
		}
	}
	return -1, nil
}

func (p *prober) remove(i int) {
	p.probes = append(p.probes[:i], p.probes[i+1:]...)
}

// onTick runs one probe round: a root-group member probes the root every
// round and one child; everyone else probes one neighbour, round robin.
func (m *Machine) onTick(seq uint64) {
	if seq != m.tickSeq {
		return
	}
	m.tickSeq = 0
	if !m.inTree() {
		return
	}
	m.tickSeq = m.after(m.jitter(m.t.ProbeInterval), TimerTick)
	m.expireRelays()
	inGroup := m.role == RoleMember && m.pos <= m.g+1
	if inGroup {
		m.startProbe(m.root, false, "")
		if n := len(m.children); n > 0 {
			m.startProbe(m.children[m.pr.rr%n], false, "")
			m.pr.rr++
		}
		return
	}
	n := len(m.children)
	hasParent := m.role == RoleMember
	if hasParent {
		n++
	}
	if n == 0 {
		return
	}
	i := m.pr.rr % n
	m.pr.rr++
	if hasParent {
		if i == 0 {
			m.startProbe(m.parent, false, "")
			return
		}
		i--
	}
	m.startProbe(m.children[i], false, "")
}

func (m *Machine) startProbe(target Member, confirm bool, reporter NodeID) {
	if target.ID == "" || target.ID == m.self.ID {
		return
	}
	for _, p := range m.pr.probes {
		if p.target.ID == target.ID {
			if confirm && !p.confirm {
				p.confirm, p.reporter = true, reporter
			}
			return
		}
	}
	if len(m.pr.probes) >= maxProbes {
		return
	}
	p := &probe{seq: m.nextSeq(), target: target, confirm: confirm, reporter: reporter}
	m.pr.probes = append(m.pr.probes, p)
	m.emit(target, &Message{Type: TypePing, Seq: p.seq, Tree: m.tree, Epoch: m.posEpoch, Info: m.infoEpoch})
	m.afterSeq(m.t.ProbeTimeout, TimerProbe, p.seq)
}

func (m *Machine) onProbeTimeout(seq uint64) {
	if _, p := m.pr.find(seq); p != nil && !p.indirect {
		m.goIndirect(p)
	}
}

func (m *Machine) goIndirect(p *probe) {
	p.indirect = true
	target := p.target
	for _, h := range m.helpers(p) {
		m.emit(h, &Message{Type: TypePingReq, Seq: p.seq, Target: &target})
	}
	m.afterSeq(m.t.SuspectTimeout, TimerSuspect, p.seq)
}

// helpers picks up to IndirectProbes members (not us, not the target) to
// probe the target for us: for a root confirmation the target's own tree
// neighbours and the reporter, otherwise our neighbours and contacts.
func (m *Machine) helpers(p *probe) []Member {
	var cand []Member
	add := func(c Member) {
		if c.ID == "" || c.ID == m.self.ID || c.ID == p.target.ID {
			return
		}
		for _, x := range cand {
			if x.ID == c.ID {
				return
			}
		}
		cand = append(cand, c)
	}
	if m.role == RoleRoot {
		rs := m.rs
		if tp, ok := rs.index[p.target.ID]; ok {
			n := len(rs.members)
			if tp > 1 {
				add(rs.members[ParentPos(tp, m.k)-1])
			}
			fc := FirstChild(tp, m.k)
			for c := fc; c < fc+ChildCount(tp, n, m.k); c++ {
				add(rs.members[c-1])
			}
		}
		if p.reporter != "" {
			add(m.memberOf(p.reporter))
		}
	}
	if m.role == RoleMember {
		add(m.parent)
	}
	for _, c := range m.children {
		add(c)
	}
	for _, c := range m.group {
		add(c)
	}
	for _, c := range m.contacts {
		add(c)
	}
	n := m.t.IndirectProbes
	if len(cand) <= n {
		return cand
	}
	for i := 0; i < n; i++ { // partial Fisher–Yates
		j := i + m.rnd.IntN(len(cand)-i)
		cand[i], cand[j] = cand[j], cand[i]
	}
	return cand[:n]
}

func (m *Machine) onSuspectTimeout(seq uint64) {
	i, p := m.pr.find(seq)
	if p == nil {
		return
	}
	m.pr.remove(i)
	m.peerDead(p)
}

func (m *Machine) onPing(from NodeID, msg *Message) {
	pong := &Message{Type: TypePong, Seq: msg.Seq, Tree: m.tree, Epoch: m.posEpoch, Info: m.infoEpoch, Pos: m.pos,
		Neighbour: m.inTree() && m.isNeighbour(from)}
	if !pong.Neighbour && m.inTree() {
		r := m.root // a stranger learns which root we follow (merge discovery)
		pong.Root = &r
	}
	m.emit(m.memberOf(from), pong)
	m.childLags(from, msg)
}

// childLags re-sends a child our tree id / root / root group when its ping
// or pong shows an older tree or an older info epoch (a cascade it missed).
func (m *Machine) childLags(from NodeID, msg *Message) {
	if !m.inTree() || m.parent.ID == from || !m.isNeighbour(from) {
		return
	}
	if msg.Tree != m.tree || msg.Info < m.infoEpoch {
		if m.out.byKey[outKey{from, okUpdate, ""}] == nil && m.out.byKey[outKey{from, okAssign, ""}] == nil {
			m.reliable(outKey{from, okUpdate, ""}, m.memberOf(from), m.updateFor())
		}
	}
}

func (m *Machine) onPingReq(from NodeID, msg *Message) {
	if msg.Target.ID == m.self.ID {
		m.onPing(from, msg)
		return
	}
	if m.pr.relays == nil {
		m.pr.relays = map[uint64]relay{}
	}
	if len(m.pr.relays) >= maxRelays {
		m.expireRelays()
		if len(m.pr.relays) >= maxRelays {
			return
		}
	}
	s := m.nextSeq()
	m.pr.relays[s] = relay{requester: m.memberOf(from), seq: msg.Seq, target: msg.Target.ID,
		until: m.now + int64(m.t.ProbeTimeout+m.t.SuspectTimeout)}
	m.emit(*msg.Target, &Message{Type: TypePing, Seq: s})
}

func (m *Machine) expireRelays() {
	for s, r := range m.pr.relays {
		if r.until < m.now {
			delete(m.pr.relays, s)
		}
	}
}

func (m *Machine) onPong(from NodeID, msg *Message) {
	if r, ok := m.pr.relays[msg.Seq]; ok && r.target == from {
		delete(m.pr.relays, msg.Seq)
		m.emit(r.requester, &Message{Type: TypePong, Seq: r.seq, Tree: msg.Tree, Epoch: msg.Epoch, Info: msg.Info, Pos: msg.Pos, Neighbour: msg.Neighbour, Root: msg.Root})
		return
	}
	i, p := m.pr.find(msg.Seq)
	if p == nil {
		m.cnt.unmatched++
		return
	}
	m.pr.remove(i)
	m.peerAlive(p, from == p.target.ID, msg)
	if from == p.target.ID && msg.Neighbour {
		m.childLags(from, msg)
	}
}

// peerAlive: the target answered (directly or through a helper).
func (m *Machine) peerAlive(p *probe, direct bool, msg *Message) {
	id := p.target.ID
	if m.takeoverSeq != 0 && id == m.takeoverOf {
		m.takeoverSeq = 0 // the root is alive after all
	}
	switch {
	case p.confirm && m.role == RoleRoot:
		// Alive; but a member that follows another tree is not ours any more
		// (shortly after our takeover, one still on the tree we forked from
		// is only waiting for our cascade).
		waiting := msg.Tree == m.prev && m.now-m.forkedAt < int64(m.t.OrphanTimeout)
		switch {
		case msg.Tree != m.tree && !waiting:
			m.evict(id, true)
			if msg.Root != nil && msg.Tree != "" {
				m.heardOfTree(*msg.Root)
			}
		default:
			// Not failed (following us, or our fork's cascade is on its
			// way): whatever we could not deliver, deliver it again.
			m.resyncMember(id)
		}
	case !m.inTree():
	case !msg.Neighbour && msg.Tree != m.tree && (m.isNeighbour(id) || id == m.root.ID):
		m.peerGone(p)
	case direct && m.isNeighbour(id) && (!msg.Neighbour || msg.Pos != m.expectedPos(id)):
		m.disown(id)
	default:
		delete(m.disowned, id)
		if id == m.parent.ID && msg.Neighbour && msg.Tree == m.tree {
			m.parentOK = m.now
		}
	}
}

// peerGone: the target answers but from outside our tree (it restarted, or
// it is migrating after a lost merge). For us it is gone like a dead node,
// except that a root-group member gives a migrating root's tree.migrate time
// to arrive before it takes over.
func (m *Machine) peerGone(p *probe) {
	if m.role == RoleMember && p.target.ID == m.root.ID && m.pos <= m.g+1 {
		if m.rep != nil && m.rep.synced {
			m.scheduleTakeoverAfter(m.t.TakeoverStagger)
		}
		m.startOrphan(p.target.ID)
		return
	}
	m.peerDead(p)
}

// peerDead: the failure detector confirmed that target is gone.
func (m *Machine) peerDead(p *probe) {
	id := p.target.ID
	switch m.role {
	case RoleRoot:
		if _, ok := m.rs.index[id]; ok {
			m.evict(id, true)
		}
	case RoleMember:
		switch {
		case id == m.root.ID && m.pos <= m.g+1:
			if m.rep != nil && m.rep.synced {
				m.scheduleTakeover()
			}
			m.startOrphan(id)
		case id == m.parent.ID:
			m.report(p.target)
			m.startOrphan(id)
		case m.isNeighbour(id):
			m.report(p.target)
		}
	}
}

func (m *Machine) report(target Member) {
	m.reliable(outKey{m.root.ID, okReport, target.ID}, m.root, &Message{Type: TypeReport, Tree: m.tree, Target: &target})
}

// expectedPos is the position level order gives our neighbour id.
func (m *Machine) expectedPos(id NodeID) int {
	if m.role == RoleMember && id == m.parent.ID {
		return ParentPos(m.pos, m.k)
	}
	for i, c := range m.children {
		if c.ID == id {
			return FirstChild(m.pos, m.k) + i
		}
	}
	return -1
}

// disown: a neighbour answers but does not count us as its neighbour, or
// sits at another position than level order says. Twice in a row → ask the
// root for our current Assign (the root re-sends a child its own). Still so
// four probes later → the neighbour is lost to us: a parent as if dead
// (orphan), a child reported.
func (m *Machine) disown(id NodeID) {
	if m.disowned == nil {
		m.disowned = map[NodeID]int{}
	}
	m.disowned[id]++
	switch n := m.disowned[id]; {
	case n == 2 && m.role == RoleRoot:
		m.resyncMember(id)
		delete(m.disowned, id)
	case n == 2:
		m.resync()
	case n >= 6 && m.role == RoleMember:
		delete(m.disowned, id)
		if id == m.parent.ID {
			m.startOrphan(id)
		} else {
			m.report(m.memberOf(id))
		}
	}
}

// resync asks our root to re-send our Assign (a tree.join from a member).
func (m *Machine) resync() {
	self := m.self
	m.emit(m.root, &Message{Type: TypeJoin, Seq: m.nextSeq(), Target: &self})
}

func (m *Machine) onUnreachable(peer NodeID) {
	for _, p := range m.pr.probes {
		if p.target.ID == peer {
			if !p.indirect {
				m.goIndirect(p)
			}
			return
		}
	}
	if m.inTree() && (m.isNeighbour(peer) || (peer == m.root.ID && m.role == RoleMember && m.pos <= m.g+1)) {
		m.startProbe(m.memberOf(peer), false, "")
	}
}

// startOrphan: our parent is gone. Wait OrphanTimeout for an Assign with a
// new parent (or for the parent to count us again); then ask the root for
// our Assign; 2×JoinRetry later re-join (root first, then contacts).
func (m *Machine) startOrphan(dead NodeID) {
	if m.orphanOf == dead {
		return
	}
	m.orphanOf, m.orphanStage, m.orphanSince = dead, 0, m.now
	m.orphanSeq = m.after(m.t.OrphanTimeout, TimerOrphan)
}

func (m *Machine) onOrphan(seq uint64) {
	if seq != m.orphanSeq {
		return
	}
	m.orphanSeq = 0
	if m.role != RoleMember || m.orphanOf == "" || m.parent.ID != m.orphanOf || m.parentOK > m.orphanSince {
		m.orphanOf = ""
		return
	}
	if m.orphanStage == 0 && m.root.ID != m.orphanOf {
		m.orphanStage = 1
		m.resync()
		m.orphanSeq = m.after(2*m.t.JoinRetry, TimerOrphan)
		return
	}
	var first []Member
	if m.root.ID != m.orphanOf {
		first = append(first, m.root)
	}
	m.startJoining(first)
}

// orphanReset is called when a new Assign arrives.
func (m *Machine) orphanReset() {
	if m.orphanOf != "" && m.parent.ID != m.orphanOf {
		m.orphanOf, m.orphanSeq = "", 0
	}
}
