package tree

// Merging split trees. A root asks two contacts outside its membership
// "which tree are you in?" every MergeInterval. Told about another root, it
// asks that root itself. With the other root's own numbers in hand:
//   - if the other tree wins, it sends tree.merge ("you win; may I come?");
//     the winner re-checks with its live numbers and answers tree.info with
//     Accept, and holds back from migrating to us for 2×MergeInterval; on
//     Accept the loser migrates;
//   - if our tree wins, it sends the other root our numbers (tree.info), so
//     the other side runs the same rule and asks us.
// The rule: the larger size wins; on a tie the older (smaller) epoch; then
// the lower root ID.

// wins reports whether tree a beats tree b.
func wins(aSize int, aEpoch uint64, aRoot NodeID, bSize int, bEpoch uint64, bRoot NodeID) bool {
	if aSize != bSize {
		return aSize > bSize
	}
	if aEpoch != bEpoch {
		return aEpoch < bEpoch
	}
	return aRoot < bRoot
}

func (m *Machine) armMerge() {
	if m.mergeSeq == 0 {
		d := m.t.MergeInterval
		if m.role == RoleMember {
			d *= memberScanFactor
		}
		m.mergeSeq = m.after(m.jitter(d), TimerMerge)
	}
}

// memberScanFactor: a member asks one random contact which tree it is in
// every memberScanFactor×MergeInterval; an answer naming another tree goes
// to our root as a hint (tree.info from a member).
const memberScanFactor = 8

func (m *Machine) memberScan() {
	m.armMerge()
	var cand []Member
	for _, c := range m.contacts {
		if c.ID != m.root.ID && !m.isNeighbour(c.ID) {
			cand = append(cand, c)
		}
	}
	if len(cand) > 0 {
		m.emit(cand[m.rnd.IntN(len(cand))], &Message{Type: TypeWhois, Seq: m.nextSeq()})
	}
}

func (m *Machine) onMergeTimer(seq uint64) {
	if seq != m.mergeSeq {
		return
	}
	m.mergeSeq = 0
	switch m.role {
	case RoleMember:
		m.memberScan()
		return
	case RoleRoot:
	default:
		return
	}
	m.armMerge()
	var cand []Member
	for _, c := range m.contacts {
		if _, member := m.rs.index[c.ID]; !member {
			cand = append(cand, c)
		}
	}
	for i := 0; i < 2 && len(cand) > 0; i++ {
		j := m.rnd.IntN(len(cand))
		m.emit(cand[j], &Message{Type: TypeWhois, Seq: m.nextSeq()})
		cand = append(cand[:j], cand[j+1:]...)
	}
}

func (m *Machine) onWhois(from NodeID, msg *Message) {
	if !m.inTree() {
		m.reject(from, msg, ReasonNotMember)
		return
	}
	m.emit(m.memberOf(from), m.info(msg.Seq, false))
}

func (m *Machine) info(seq uint64, accept bool) *Message {
	r := m.root
	return &Message{Type: TypeInfo, Seq: seq, Tree: m.tree, Epoch: m.posEpoch, Size: m.size, Root: &r, Accept: accept}
}

// heardOfTree: a node of ours follows root r of another tree; ask r.
func (m *Machine) heardOfTree(r Member) {
	if r.ID == m.self.ID || !r.Valid() {
		return
	}
	if _, member := m.rs.index[r.ID]; member {
		return
	}
	m.addContact(r)
	if m.mayWrite(&m.rs.lastAsk, r.ID) {
		m.emit(r, &Message{Type: TypeWhois, Seq: m.nextSeq()})
	}
}

// mayWrite rate-limits one kind of merge traffic (asks or offers) to one
// message per root per MergeInterval.
func (m *Machine) mayWrite(last *map[NodeID]int64, to NodeID) bool {
	if *last == nil {
		*last = map[NodeID]int64{}
	}
	if t, ok := (*last)[to]; ok && m.now-t < int64(m.t.MergeInterval) {
		return false
	}
	if len(*last) > 64 {
		clear(*last)
	}
	(*last)[to] = m.now
	return true
}

func (m *Machine) onInfo(from NodeID, msg *Message) {
	if m.role == RoleMember && msg.Root != nil && msg.Tree != "" && msg.Tree != m.tree && !m.isPast(msg.Tree) &&
		msg.Root.ID != m.root.ID && msg.Root.ID != m.self.ID && from != m.root.ID {
		r := *msg.Root
		m.emit(m.root, &Message{Type: TypeInfo, Seq: m.nextSeq(), Tree: msg.Tree, Epoch: msg.Epoch, Size: msg.Size, Root: &r})
		return
	}
	if m.role != RoleRoot || msg.Root == nil || msg.Tree == "" || msg.Tree == m.tree || msg.Root.ID == m.self.ID {
		m.cnt.unmatched++
		return
	}
	other := *msg.Root
	if _, member := m.rs.index[other.ID]; member {
		return // one of ours with an old idea of its root
	}
	if from != other.ID { // a hint: ask that root itself
		m.heardOfTree(other)
		return
	}
	m.addContact(other)
	if msg.Accept {
		if t, held := m.rs.hold[other.ID]; held && m.now-t < 2*int64(m.t.MergeInterval) {
			return // we just accepted its merge: it comes to us
		}
		m.migrate(other, msg.Tree)
		return
	}
	if !m.mayWrite(&m.rs.lastOffer, other.ID) {
		return
	}
	self := m.self
	if wins(msg.Size, msg.Epoch, other.ID, m.size, m.posEpoch, m.self.ID) {
		m.emit(other, &Message{Type: TypeMerge, Seq: m.nextSeq(), Tree: m.tree, Epoch: m.posEpoch, Size: m.size, Root: &self})
	} else {
		m.emit(other, m.info(m.nextSeq(), false))
	}
}

// onMerge: another root thinks we win. Accept if we do by our live numbers.
func (m *Machine) onMerge(from NodeID, msg *Message) {
	if m.role != RoleRoot {
		m.reject(from, msg, ReasonNotRoot)
		return
	}
	if msg.Root.ID != from || msg.Tree == m.tree {
		m.reject(from, msg, ReasonMalformed)
		return
	}
	m.addContact(*msg.Root)
	if wins(m.size, m.posEpoch, m.self.ID, msg.Size, msg.Epoch, from) {
		if m.rs.hold == nil {
			m.rs.hold = map[NodeID]int64{}
		}
		if len(m.rs.hold) > 64 {
			clear(m.rs.hold)
		}
		m.rs.hold[from] = m.now
		m.emit(*msg.Root, m.info(msg.Seq, true))
		return
	}
	m.emit(*msg.Root, m.info(msg.Seq, false))
	if m.mayWrite(&m.rs.lastOffer, from) {
		self := m.self
		m.emit(*msg.Root, &Message{Type: TypeMerge, Seq: m.nextSeq(), Tree: m.tree, Epoch: m.posEpoch, Size: m.size, Root: &self})
	}
}

// migrate: our tree lost a merge. Tell our children (who tell theirs) and
// join the winner's root as an ordinary joiner.
func (m *Machine) migrate(winner Member, winnerTree string) {
	m.cnt.migrations++
	m.sendMigrate(winner, winnerTree)
	m.migratedFrom = m.tree
	m.startJoining([]Member{winner})
	m.migrateTo = winner
}

func (m *Machine) sendMigrate(winner Member, winnerTree string) {
	for _, c := range m.children {
		w := winner
		m.reliable(outKey{c.ID, okMigrate, ""}, c, &Message{Type: TypeMigrate, Tree: m.tree, Target: &w, Other: winnerTree})
	}
}

func (m *Machine) onMigrate(from NodeID, msg *Message) {
	if m.role == RoleJoining && m.migratedFrom == msg.Tree {
		m.ack(from, msg) // a retransmission
		return
	}
	switch {
	case m.role != RoleMember:
		m.reject(from, msg, ReasonRole)
		return
	case from != m.parent.ID:
		m.reject(from, msg, ReasonNotParent)
		return
	case msg.Tree != m.tree:
		m.reject(from, msg, ReasonWrongTree)
		return
	case msg.Target.ID == m.self.ID:
		m.reject(from, msg, ReasonMalformed)
		return
	}
	m.ack(from, msg)
	m.sendMigrate(*msg.Target, msg.Other)
	m.migratedFrom = m.tree
	m.startJoining([]Member{*msg.Target})
	m.migrateTo = *msg.Target
}
