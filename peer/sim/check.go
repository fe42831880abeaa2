package sim

import (
	"fmt"
	"strconv"

	"github.com/borgios/borghui/peer/tree"
)

// check runs the incremental invariants after an event at node i: only
// what the event could have changed.
func (w *world) check(i int32) {
	n := &w.nodes[i]
	if !n.up {
		return
	}
	m := n.m
	role := m.Role()
	rt := ""
	if role == tree.RoleRoot {
		rt = m.TreeID()
	}
	w.setRoot(i, rt)
	if rt != "" {
		w.checkMembership(i)
	}
	if role != tree.RoleMember && role != tree.RoleRoot {
		return
	}
	if role == tree.RoleMember {
		w.checkEdge(i, w.index(m.ParentID()), -1)
	}
	for x := range m.NumChildren() {
		w.checkEdge(i, w.index(m.Child(x).ID), x)
	}
}

// setRoot keeps the set of live roots per tree id (invariant 3: at most one).
func (w *world) setRoot(i int32, tr string) {
	n := &w.nodes[i]
	if n.rootTree == tr {
		return
	}
	if old := n.rootTree; old != "" {
		rs := w.roots[old]
		for x, r := range rs {
			if r == i {
				rs = append(rs[:x], rs[x+1:]...)
				break
			}
		}
		if len(rs) == 0 {
			delete(w.roots, old)
		} else {
			w.roots[old] = rs
		}
	}
	n.rootTree = tr
	if tr != "" {
		w.roots[tr] = append(w.roots[tr], i)
		if len(w.roots[tr]) > 1 {
			w.violate("tree %s has %d live roots", tr, len(w.roots[tr]))
		}
	}
}

// checkMembership (invariant 1): the positions the root changed since the
// last check hold valid, unique members and the index agrees with the
// membership; a full pass when the tree id changed or the change log does
// not reach back.
func (w *world) checkMembership(i int32) {
	n := &w.nodes[i]
	m := n.m
	ep, tr := m.Epoch(), m.TreeID()
	if tr == n.lastTree && ep == n.lastEp {
		return
	}
	mem := m.Members()
	ds, ok := m.DeltasSince(n.lastEp)
	if tr != n.lastTree || !ok {
		for p := range mem {
			w.checkSlot(i, mem, p+1)
		}
	} else {
		for _, d := range ds {
			for _, s := range d.Set {
				if s.Pos <= len(mem) {
					w.checkSlot(i, mem, s.Pos)
				}
			}
			for _, g := range d.Gone {
				if p, in := m.MemberPos(g.ID); in && (p > len(mem) || mem[p-1].ID != g.ID) {
					w.violate("root %s: gone member %s still indexed at %d", n.mem.ID, g.ID, p)
				}
			}
		}
	}
	if m.IndexLen() != len(mem) {
		w.violate("root %s: %d members but %d indexed", n.mem.ID, len(mem), m.IndexLen())
	}
	if len(mem) == 0 || mem[0].ID != n.mem.ID {
		w.violate("root %s is not at position 1 of its membership", n.mem.ID)
	}
	n.lastTree, n.lastEp = tr, ep
}

func (w *world) checkSlot(i int32, mem []tree.Member, p int) {
	id := mem[p-1].ID
	if id == "" {
		w.violate("root %s: position %d empty (size %d)", w.nodes[i].mem.ID, p, len(mem))
		return
	}
	if q, ok := w.nodes[i].m.MemberPos(id); !ok || q != p {
		w.violate("root %s: member %s at %d indexed at %d", w.nodes[i].mem.ID, id, p, q)
	}
}

// checkEdge (invariant 2): node i and its parent (x < 0) or its child x
// agree on the edge: same tree, the positions level order implies, each
// names the other. A disagreement counts only when it is not excused.
func (w *world) checkEdge(i, j int32, x int) {
	mi := w.nodes[i].m
	if j < 0 {
		w.violate("node %s names an unknown neighbour", w.nodes[i].mem.ID)
		return
	}
	nj := &w.nodes[j]
	agree := false
	if nj.up && nj.started {
		mj := nj.m
		if (mj.Role() == tree.RoleMember || mj.Role() == tree.RoleRoot) && mj.TreeID() == mi.TreeID() {
			if x < 0 {
				c := mi.Pos() - tree.FirstChild(mj.Pos(), w.k)
				agree = mj.Pos() == tree.ParentPos(mi.Pos(), w.k) && c >= 0 && c < mj.NumChildren() &&
					mj.Child(c).ID == w.nodes[i].mem.ID
			} else {
				agree = mj.ParentID() == w.nodes[i].mem.ID && mj.Pos() == tree.FirstChild(mi.Pos(), w.k)+x
			}
		}
	}
	if !agree && !w.excused(i, j) {
		rel := "parent"
		if x >= 0 {
			rel = "child"
		}
		w.violate("edge %s → %s %s disagrees: %s | %s", w.nodes[i].mem.ID, rel, nj.mem.ID, w.describe(i), w.describe(j))
	}
}

// excused: a disagreement between i and j is no violation while
//   - i and j follow different trees: a split's residue (a fork that has not
//     reached one side yet, or a root that did not hear of a partition's far
//     side); failure detection and the merge resolve it, invariant 3 and the
//     check at quiescence cover it;
//   - either side is stale: down or not started, not in a tree (joining: no
//     claims), its root is down, cut off from it by the partition or now the
//     root of another tree, or its root no longer holds it (it was removed while unreachable and has not
//     heard yet; its neighbours' pongs tell it); or a partition separates i
//     and j;
//   - a structural message (assign, update, evict, migrate, handoff) to i or
//     j is in the network;
//   - a machine that sends them structural messages — the live root of i's
//     or of j's tree, i's or j's parent, i or j — waits for the
//     acknowledgement of one, or (a root) holds one until its root group has
//     the change.
func (w *world) excused(i, j int32) bool {
	if w.cut(i, j) || w.stale(i) || w.stale(j) || w.nodes[i].m.TreeID() != w.nodes[j].m.TreeID() {
		return true
	}
	if w.inflight[i] > 0 || w.inflight[j] > 0 {
		return true
	}
	nj := &w.nodes[j]
	idI, idJ := w.nodes[i].mem.ID, nj.mem.ID
	senders := [6]int32{i, j, w.index(w.nodes[i].m.ParentID()), w.index(nj.m.ParentID()), -1, -1}
	if rs := w.roots[w.nodes[i].m.TreeID()]; len(rs) > 0 {
		senders[4] = rs[0]
	}
	if rs := w.roots[nj.m.TreeID()]; len(rs) > 0 {
		senders[5] = rs[0]
	}
	for _, s := range senders {
		if s >= 0 && w.nodes[s].up && w.nodes[s].started && (w.nodes[s].m.Awaiting(idI) || w.nodes[s].m.Awaiting(idJ)) {
			return true
		}
	}
	return false
}

// stale: see excused.
func (w *world) stale(i int32) bool {
	n := &w.nodes[i]
	if !n.up || !n.started {
		return true
	}
	switch n.m.Role() {
	case tree.RoleRoot:
		return false
	case tree.RoleMember:
	default:
		return true
	}
	r := w.index(n.m.RootID())
	if r < 0 || !w.nodes[r].up || w.cut(i, r) || w.nodes[r].m.Role() != tree.RoleRoot || w.nodes[r].m.TreeID() != n.m.TreeID() {
		return true
	}
	_, member := w.nodes[r].m.MemberPos(n.mem.ID)
	return !member
}

// fullCheck is the check at quiescence: every live node is in exactly one
// tree, at the position its root's membership gives it, with the parent,
// children, root and root group that membership implies; every member is
// alive; with single, there is exactly one tree. It returns the number of
// problems and a few descriptions.
func (w *world) fullCheck(single bool) (problems int, notes []string) {
	note := func(s string) {
		problems++
		if len(notes) < 5 {
			notes = append(notes, s)
		}
	}
	claimed := make([]uint8, len(w.nodes))
	var gbuf []tree.NodeID
	for tr, rs := range w.roots {
		r := rs[0]
		mem := w.nodes[r].m.Members()
		g := tree.RootGroupSize(w.k)
		for p := 2; p <= len(mem); p++ {
			j := w.index(mem[p-1].ID)
			if j < 0 || !w.nodes[j].up {
				note("tree " + tr + ": member " + string(mem[p-1].ID) + " is down")
				continue
			}
			claimed[j]++
			mj := w.nodes[j].m
			gbuf = mj.GroupIDs(gbuf[:0])
			ok := mj.Role() == tree.RoleMember && mj.TreeID() == tr && mj.Pos() == p && mj.RootID() == mem[0].ID &&
				mj.ParentID() == mem[tree.ParentPos(p, w.k)-1].ID && mj.NumChildren() == tree.ChildCount(p, len(mem), w.k) &&
				len(gbuf) == min(len(mem)-1, g)
			for c := 0; ok && c < mj.NumChildren(); c++ {
				ok = mj.Child(c).ID == mem[tree.FirstChild(p, w.k)+c-1].ID
			}
			for c := 0; ok && c < len(gbuf); c++ {
				ok = gbuf[c] == mem[c+1].ID
			}
			if !ok {
				note(fmt.Sprintf("tree %.8s: position %d (parent %s, %d children, size %d) but %s", tr, p,
					mem[tree.ParentPos(p, w.k)-1].ID, tree.ChildCount(p, len(mem), w.k), len(mem), w.describe(j)))
			}
		}
		claimed[r]++
	}
	trees := len(w.roots)
	for i := range w.nodes {
		if w.nodes[i].up && w.nodes[i].m.Role() != tree.RoleLeft && claimed[i] != 1 {
			note(w.describe(int32(i)) + " is in " + strconv.Itoa(int(claimed[i])) + " trees")
		}
	}
	if single && trees != 1 {
		note(strconv.Itoa(trees) + " trees instead of one")
	}
	return problems, notes
}

// describe summarises a node for a violation note.
func (w *world) describe(i int32) string {
	n := &w.nodes[i]
	if !n.up || !n.started {
		return string(n.mem.ID) + " down"
	}
	m := n.m
	s := fmt.Sprintf("%s %s tree=%.8s ep=%d pos=%d parent=%s root=%s kids=%d", n.mem.ID, m.Role(), m.TreeID(), m.Epoch(), m.Pos(), m.ParentID(), m.RootID(), m.NumChildren())
	if r := w.index(m.RootID()); r >= 0 && w.nodes[r].up && w.nodes[r].m.Role() == tree.RoleRoot {
		p, ok := w.nodes[r].m.MemberPos(n.mem.ID)
		s += fmt.Sprintf(" rootHas=%v@%d rootTree=%.8s", ok, p, w.nodes[r].m.TreeID())
	}
	return s
}
