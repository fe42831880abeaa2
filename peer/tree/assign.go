package tree

const maxPastTrees = 4

// onAssign applies a new local view. Accepted only from:
//   - our root, for our tree, with an epoch not older than the one we hold;
//   - a root-group member of our tree that took over (a fork: Prev is our
//     tree and Tree = ForkID(Prev, PrevEpoch, sender));
//   - while joining, a root we asked.
func (m *Machine) onAssign(from NodeID, msg *Message) {
	if msg.Root.ID != from {
		m.reject(from, msg, ReasonNotRoot)
		return
	}
	if !m.checkAssign(msg) {
		m.reject(from, msg, ReasonMalformed)
		return
	}
	switch m.role {
	case RoleJoining:
		if !m.jn.wasAsked(from) {
			m.reject(from, msg, ReasonNotRoot)
			return
		}
	case RoleMember:
		if reason := m.authority(from, msg); reason != "" {
			m.reject(from, msg, reason)
			return
		}
	default:
		m.reject(from, msg, ReasonRole)
		return
	}
	m.ack(from, msg)
	m.applyAssign(msg)
}

// authority checks that from may order a structural change of ours: our
// root for our tree with an epoch not older than ours, or a root-group member
// that took over (Prev is our tree, Tree = ForkID(Prev, PrevEpoch, from),
// a newer epoch). It returns the rejection reason, or "".
func (m *Machine) authority(from NodeID, msg *Message) string {
	switch {
	case msg.Tree == m.tree:
		if from != m.root.ID {
			return ReasonNotRoot
		}
		if msg.Epoch < m.posEpoch {
			return ReasonStaleEpoch
		}
	case m.isPast(msg.Tree):
		return ReasonStaleEpoch
	case msg.Prev == m.tree && msg.Tree == ForkID(msg.Prev, msg.PrevEpoch, from):
		if !m.inGroup(from) {
			return ReasonUnknownFork
		}
		if msg.Epoch <= m.posEpoch {
			return ReasonStaleEpoch
		}
	case msg.Prev != "":
		return ReasonUnknownFork
	default:
		return ReasonWrongTree
	}
	return ""
}

// checkAssign verifies that the Assign is a consistent local view for this
// machine: the child count that position and size imply for our fanout, the
// root group, the parent, no node twice.
func (m *Machine) checkAssign(msg *Message) bool {
	k, g := m.k, m.g
	if msg.Pos < 2 || msg.Size < msg.Pos || msg.Size > MaxTreeSize {
		return false
	}
	if len(msg.Children) != ChildCount(msg.Pos, msg.Size, k) || len(msg.Group) != min(msg.Size-1, g) {
		return false
	}
	if msg.Pos <= g+1 && msg.Group[msg.Pos-2].ID != m.self.ID {
		return false
	}
	pp := ParentPos(msg.Pos, k)
	if (pp == 1) != (msg.Parent.ID == msg.Root.ID) {
		return false
	}
	if pp >= 2 && pp <= g+1 && msg.Group[pp-2].ID != msg.Parent.ID {
		return false
	}
	ids := make([]NodeID, 0, 2+len(msg.Children))
	ids = append(ids, m.self.ID, msg.Root.ID)
	if pp != 1 {
		ids = append(ids, msg.Parent.ID)
	}
	for _, c := range msg.Children {
		ids = append(ids, c.ID)
	}
	if !distinct(ids) {
		return false
	}
	gids := make([]NodeID, 0, len(msg.Group)+1)
	gids = append(gids, msg.Root.ID)
	for _, x := range msg.Group {
		gids = append(gids, x.ID)
	}
	return distinct(gids)
}

func distinct(ids []NodeID) bool {
	if len(ids) > 16 {
		seen := make(map[NodeID]bool, len(ids))
		for _, id := range ids {
			if seen[id] {
				return false
			}
			seen[id] = true
		}
		return true
	}
	for i := range ids {
		for j := i + 1; j < len(ids); j++ {
			if ids[i] == ids[j] {
				return false
			}
		}
	}
	return true
}

func (m *Machine) isPast(tree string) bool {
	for _, t := range m.pastTrees {
		if t == tree {
			return true
		}
	}
	return false
}

func (m *Machine) setTree(tree string) {
	if tree == m.tree {
		return
	}
	if m.tree != "" {
		if len(m.pastTrees) >= maxPastTrees {
			m.pastTrees = m.pastTrees[1:]
		}
		m.pastTrees = append(m.pastTrees, m.tree)
	}
	m.tree = tree
	m.rep = nil // a replica of another tree is worthless
	m.dropStructural()
}

func (m *Machine) applyAssign(msg *Message) {
	joined := m.role != RoleMember
	if joined {
		m.jn, m.joinSeq = nil, 0
		m.migrateTo = Member{}
		m.pastTrees = nil
		m.addContact(*msg.Root)
	}
	oldTree, oldRoot, oldGroup := m.tree, m.root, m.group
	m.role = RoleMember
	m.setTree(msg.Tree)
	m.prev, m.prevEpoch = msg.Prev, msg.PrevEpoch
	m.posEpoch = msg.Epoch
	if msg.Tree != oldTree || msg.Epoch >= m.infoEpoch {
		m.infoEpoch = msg.Epoch
		m.root = *msg.Root
		m.group = append([]Member(nil), msg.Group...)
	}
	m.pos, m.size, m.parent = msg.Pos, msg.Size, *msg.Parent
	m.children = append(m.children[:0:0], msg.Children...)
	if m.pos > m.g+1 {
		m.rep = nil
	}
	m.orphanReset()
	if m.takeoverSeq != 0 && m.root.ID != m.takeoverOf {
		m.takeoverSeq = 0
	}
	m.disowned = nil
	m.ensureTick()
	m.armMerge()
	if joined && m.leftTree != "" {
		// We left a tree and landed in another: our old subtree comes along.
		if m.leftTree != m.tree {
			for _, c := range m.leftChildren {
				r := m.root
				m.reliable(outKey{c.ID, okMigrate, ""}, c, &Message{Type: TypeMigrate, Tree: m.leftTree, Target: &r, Other: m.tree})
			}
		}
		m.leftTree, m.leftChildren = "", nil
	}
	if !joined && (m.tree != oldTree || m.root != oldRoot || !sameIDs(oldGroup, m.group)) {
		m.cascade()
	}
}

// cascade tells our children the tree id, root and root group we now hold.
func (m *Machine) cascade() {
	for _, c := range m.children {
		m.reliable(outKey{c.ID, okUpdate, ""}, c, m.updateFor())
	}
}

// onUpdate: our parent passes on a new tree id / root / root group.
func (m *Machine) onUpdate(from NodeID, msg *Message) {
	switch {
	case m.role != RoleMember:
		m.reject(from, msg, ReasonRole)
		return
	case from != m.parent.ID:
		m.reject(from, msg, ReasonNotParent)
		return
	case msg.Root.ID == m.self.ID || len(msg.Group) > m.g:
		m.reject(from, msg, ReasonMalformed)
		return
	}
	if (msg.Tree == m.tree && msg.Epoch <= m.infoEpoch) || m.isPast(msg.Tree) {
		m.ack(from, msg) // we hold something newer
		return
	}
	m.ack(from, msg)
	if msg.Tree != m.tree {
		if msg.Prev != m.tree || m.posEpoch > msg.PrevEpoch {
			// Our parent is in a tree we cannot connect to ours (several
			// forks at once), or our position data is younger than the fork
			// (it comes from the other branch): ask that tree's root.
			m.startJoining([]Member{*msg.Root})
			return
		}
		m.setTree(msg.Tree)
		m.prev, m.prevEpoch = msg.Prev, msg.PrevEpoch
	}
	m.infoEpoch = msg.Epoch
	m.root = *msg.Root
	m.group = append([]Member(nil), msg.Group...)
	m.cascade()
}

// onEvict: our root removed us; join again (through it).
func (m *Machine) onEvict(from NodeID, msg *Message) {
	if m.role != RoleMember {
		m.reject(from, msg, ReasonNotRoot)
		return
	}
	if reason := m.authority(from, msg); reason != "" {
		m.reject(from, msg, reason)
		return
	}
	m.ack(from, msg)
	m.startJoining([]Member{m.root, m.memberOf(from)})
}
