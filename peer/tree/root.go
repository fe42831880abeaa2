package tree

import "slices"

// rootState is what only the root holds: the authoritative membership
// (position p is members[p-1]), the join queue, the change log replicated to
// the root group, and the Assigns held until the group has their change.
type rootState struct {
	members []Member
	index   map[NodeID]int // ID → position
	queue   []Member
	queued  map[NodeID]bool
	log     []Delta // deltas with epoch > logBase, consecutive
	logBase uint64
	grp     []*groupRepl
	held    []heldChange
	heldTo  map[NodeID]int
	commit  uint64  // every change up to here is in every synced replica
	recent  []Delta // the last maxRecent deltas, for DeltasSince

	hold      map[NodeID]int64 // merge: roots whose merge we accepted, until
	lastOffer map[NodeID]int64 // merge: when we last offered or answered this root
	lastAsk   map[NodeID]int64 // merge: when we last asked this root whois
}

// heldChange is the set of structural messages of one change, released in
// order once the root group acknowledged the change.
type heldChange struct {
	epoch uint64
	sends []heldSend
}

type heldSend struct {
	key outKey
	to  Member
	msg *Message
}

func newRootState(members []Member) *rootState {
	rs := &rootState{members: members, index: make(map[NodeID]int, len(members)), heldTo: map[NodeID]int{}}
	for i, mb := range members {
		rs.index[mb.ID] = i + 1
	}
	return rs
}

// Members returns the root's membership, position p at index p−1 (nil when
// this machine is not a root). The slice is the machine's own: read only,
// valid until the next call into the machine.
func (m *Machine) Members() []Member {
	if m.rs == nil {
		return nil
	}
	return m.rs.members
}

// MemberPos returns the position of id in the root's membership.
func (m *Machine) MemberPos(id NodeID) (int, bool) {
	if m.rs == nil {
		return 0, false
	}
	p, ok := m.rs.index[id]
	return p, ok
}

// IndexLen returns the number of entries of the root's ID → position index
// (equal to the size in a consistent membership).
func (m *Machine) IndexLen() int {
	if m.rs == nil {
		return 0
	}
	return len(m.rs.index)
}

const maxRecent = 64

// DeltasSince returns the root's recent deltas with epoch > e (read only);
// ok is false when they no longer reach back to e (or this is no root).
func (m *Machine) DeltasSince(e uint64) (ds []Delta, ok bool) {
	if m.rs == nil || e > m.posEpoch {
		return nil, false
	}
	r := m.rs.recent
	if e == m.posEpoch {
		return nil, true
	}
	if len(r) == 0 || r[0].Epoch > e+1 {
		return nil, false
	}
	return r[e+1-r[0].Epoch:], true
}

// QueueLen returns the number of joiners waiting at the root.
func (m *Machine) QueueLen() int {
	if m.rs == nil {
		return 0
	}
	return len(m.rs.queue)
}

// refreshRootView derives the root's own view from the membership.
func (m *Machine) refreshRootView() {
	rs := m.rs
	n := len(rs.members)
	m.pos, m.size, m.root, m.parent = 1, n, m.self, Member{}
	m.children = append(m.children[:0], rs.members[1:1+ChildCount(1, n, m.k)]...)
	m.group = append([]Member(nil), rs.members[1:1+min(m.g, n-1)]...)
}

// assignFor builds the Assign of position p from the current membership.
func (m *Machine) assignFor(p int) *Message {
	rs := m.rs
	n := len(rs.members)
	root := m.self
	parent := rs.members[ParentPos(p, m.k)-1]
	msg := &Message{Type: TypeAssign, Tree: m.tree, Prev: m.prev, PrevEpoch: m.prevEpoch, Epoch: m.posEpoch,
		Pos: p, Size: n, Root: &root, Parent: &parent}
	fc := FirstChild(p, m.k)
	if c := ChildCount(p, n, m.k); c > 0 {
		msg.Children = append([]Member(nil), rs.members[fc-1:fc-1+c]...)
	}
	msg.Group = append([]Member(nil), m.group...)
	return msg
}

func (m *Machine) evictMsg() *Message {
	return &Message{Type: TypeEvict, Tree: m.tree, Prev: m.prev, PrevEpoch: m.prevEpoch, Epoch: m.posEpoch}
}

func (m *Machine) updateFor() *Message {
	root := m.root
	return &Message{Type: TypeUpdate, Tree: m.tree, Prev: m.prev, PrevEpoch: m.prevEpoch, Epoch: m.infoEpoch, Root: &root,
		Group: append([]Member(nil), m.group...)}
}

// changed records a change already applied to rs.members: a new epoch, the
// delta logged for the root group, the root's own view, and the Assigns of
// the affected positions (plus eviction notices to gone members, plus a
// tree.update to the root's other children when the root group changed),
// held until the group has the delta.
func (m *Machine) changed(d Delta, affected []int, gone []Member, notify bool) {
	rs := m.rs
	m.posEpoch++
	d.Epoch, d.Size, d.Gone = m.posEpoch, len(rs.members), gone
	rs.log = append(rs.log, d)
	if len(rs.recent) >= maxRecent {
		rs.recent = append(rs.recent[:0:0], rs.recent[len(rs.recent)-maxRecent/2:]...)
	}
	rs.recent = append(rs.recent, d)
	oldGroup := m.group
	m.refreshRootView()
	groupChanged := !sameIDs(oldGroup, m.group)
	ch := heldChange{epoch: m.posEpoch}
	slices.Sort(affected)
	affected = slices.Compact(affected)
	n := len(rs.members)
	for _, p := range affected {
		if p >= 2 && p <= n {
			mb := rs.members[p-1]
			ch.sends = append(ch.sends, heldSend{outKey{mb.ID, okAssign, ""}, mb, m.assignFor(p)})
		}
	}
	if notify {
		for _, g := range gone {
			ch.sends = append(ch.sends, heldSend{outKey{g.ID, okEvict, ""}, g, m.evictMsg()})
		}
	}
	if groupChanged {
		m.infoEpoch = m.posEpoch
		for i, c := range m.children {
			if _, hit := slices.BinarySearch(affected, i+2); !hit {
				ch.sends = append(ch.sends, heldSend{outKey{c.ID, okUpdate, ""}, c, m.updateFor()})
			}
		}
		m.syncGroup()
	}
	m.holdChange(ch)
	m.replicate()
	m.tryCommit()
}

func (m *Machine) holdChange(ch heldChange) {
	if len(ch.sends) == 0 {
		return
	}
	m.rs.held = append(m.rs.held, ch)
	for _, s := range ch.sends {
		m.rs.heldTo[s.to.ID]++
	}
}

// tryCommit advances the commit point to the lowest epoch acknowledged by a
// synced root-group member and releases the held messages up to it.
func (m *Machine) tryCommit() {
	rs := m.rs
	c := m.posEpoch
	for _, g := range rs.grp {
		if g.synced && g.acked < c {
			c = g.acked
		}
	}
	rs.commit = max(rs.commit, c)
	i := 0
	for ; i < len(rs.held) && rs.held[i].epoch <= rs.commit; i++ {
		for _, s := range rs.held[i].sends {
			if rs.heldTo[s.to.ID]--; rs.heldTo[s.to.ID] <= 0 {
				delete(rs.heldTo, s.to.ID)
			}
			m.reliable(s.key, s.to, s.msg)
		}
	}
	if i > 0 {
		rs.held = append(rs.held[:0:0], rs.held[i:]...)
	}
	m.trimLog()
}

// evict removes id: the last node moves into its position (or the position
// simply goes when it is the last), the size shrinks by one.
func (m *Machine) evict(id NodeID, notify bool) {
	rs := m.rs
	p, ok := rs.index[id]
	if !ok || p == 1 {
		return
	}
	n := len(rs.members)
	gone := rs.members[p-1]
	delete(rs.index, id)
	var d Delta
	affected := []int{ParentPos(n, m.k)}
	if p != n {
		last := rs.members[n-1]
		rs.members[p-1] = last
		rs.index[last.ID] = p
		d.Set = []Slot{{Pos: p, Member: last}}
		affected = append(affected, p, ParentPos(p, m.k))
		fc := FirstChild(p, m.k)
		for c := fc; c < fc+ChildCount(p, n-1, m.k); c++ {
			affected = append(affected, c)
		}
	}
	rs.members[n-1] = Member{}
	rs.members = rs.members[:n-1]
	m.cancelTo(id)
	m.addContact(gone)
	m.cnt.evicted++
	m.changed(d, affected, []Member{gone}, notify)
}

// placeBatch gives the next positions to up to MaxBatch queued joiners.
func (m *Machine) placeBatch() {
	rs := m.rs
	b := min(len(rs.queue), m.t.MaxBatch)
	if b == 0 {
		return
	}
	batch := rs.queue[:b]
	var d Delta
	affected := make([]int, 0, b+b/m.k+2)
	for _, j := range batch {
		delete(rs.queued, j.ID)
		if _, dup := rs.index[j.ID]; dup {
			m.resyncMember(j.ID)
			continue
		}
		p := len(rs.members) + 1
		rs.members = append(rs.members, j)
		rs.index[j.ID] = p
		d.Set = append(d.Set, Slot{Pos: p, Member: j})
		affected = append(affected, p, ParentPos(p, m.k))
	}
	if b == len(rs.queue) {
		rs.queue = nil
	} else {
		rs.queue = rs.queue[b:]
	}
	if len(d.Set) == 0 {
		return
	}
	m.cnt.placed += uint64(len(d.Set))
	m.changed(d, affected, nil, false)
}

// resyncMember re-sends id its current Assign (after the root group has
// everything up to now).
func (m *Machine) resyncMember(id NodeID) {
	p, ok := m.rs.index[id]
	if !ok || p == 1 {
		return
	}
	mb := m.rs.members[p-1]
	m.holdChange(heldChange{epoch: m.posEpoch, sends: []heldSend{{outKey{id, okAssign, ""}, mb, m.assignFor(p)}}})
	m.tryCommit()
}

// setAddr records a member's new address (a restarted node on another port).
func (m *Machine) setAddr(p int, mb Member) {
	m.rs.members[p-1] = mb
	affected := []int{p, ParentPos(p, m.k)}
	fc := FirstChild(p, m.k)
	for c := fc; c < fc+ChildCount(p, len(m.rs.members), m.k); c++ {
		affected = append(affected, c)
	}
	m.changed(Delta{Set: []Slot{{Pos: p, Member: mb}}}, affected, nil, false)
}

func (m *Machine) onReport(from NodeID, msg *Message) {
	if m.role != RoleRoot {
		m.reject(from, msg, ReasonNotRoot)
		return
	}
	if msg.Tree != m.tree && (msg.Tree != m.prev || m.now-m.forkedAt > int64(m.t.OrphanTimeout)) {
		m.reject(from, msg, ReasonWrongTree)
		return
	}
	if msg.Target.ID == m.self.ID {
		m.reject(from, msg, ReasonAlive)
		return
	}
	if _, ok := m.rs.index[from]; !ok {
		m.reject(from, msg, ReasonNotMember) // the reporter was removed: it re-joins
		return
	}
	m.ack(from, msg)
	if p, ok := m.rs.index[msg.Target.ID]; ok {
		m.startProbe(m.rs.members[p-1], true, from)
	}
}

func (m *Machine) onLeave(from NodeID, msg *Message) {
	if m.role != RoleRoot {
		m.reject(from, msg, ReasonNotRoot)
		return
	}
	m.ack(from, msg)
	rs := m.rs
	if _, ok := rs.index[from]; ok {
		m.evict(from, false)
	}
	if rs.queued[from] {
		delete(rs.queued, from)
		rs.queue = slices.DeleteFunc(rs.queue, func(x Member) bool { return x.ID == from })
	}
}

func sameIDs(a, b []Member) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].ID != b[i].ID || a[i].Addr != b[i].Addr {
			return false
		}
	}
	return true
}
