package tree

import (
	"errors"
	"math/rand/v2"
	"time"
)

const maxContacts = 16

// Machine is one node of the tree as a deterministic state machine. It is
// not safe for concurrent use: the driver serialises all calls.
type Machine struct {
	self Member
	k, g int
	t    Timing
	rnd  *rand.Rand

	base  time.Time
	based bool
	now   int64 // ns since base, never decreasing

	role Role
	// The local view (RoleMember, RoleRoot).
	tree      string
	prev      string // the tree ours forked from ("" for a founded tree), from our root
	prevEpoch uint64
	posEpoch  uint64 // epoch of the position data we hold
	infoEpoch uint64 // epoch of the tree id / root / group we hold
	pos, size int
	root      Member
	parent    Member
	children  []Member
	group     []Member

	seq      uint64 // last sequence number used (messages and probes)
	tseq     uint64 // last timer sequence number
	out      outbox
	pr       prober
	jn       *joiner
	rs       *rootState
	rep      *replica
	seen     seenSet
	contacts []Member
	cnt      counters

	tickSeq, retrySeq, batchSeq, joinSeq, orphanSeq, takeoverSeq, mergeSeq uint64
	retryAt                                                                int64

	orphanOf     NodeID // the dead parent we wait to be replaced
	orphanStage  int
	disowned     map[NodeID]int
	incarnation  uint64
	bseq         uint64
	migratedFrom string
	migrateTo    Member   // while joining after a lost merge: where we redirect joiners
	pastTrees    []string // earlier trees of our lineage (forks we followed), newest last
	takeoverOf   NodeID   // the dead root a scheduled takeover replaces
	takeoverTree string
	forkedAt     int64 // when we took over (root)
	parentOK     int64 // last pong from our parent that still counts us as its child
	orphanSince  int64
	leftTree     string   // the tree we left to (re-)join, and our children there:
	leftChildren []Member // if we end up in another tree, they follow us (tree.migrate)

	acts     []Action
	rejected bool
}

// New returns a machine for cfg.Self. Nothing happens until Start.
func New(cfg Config) *Machine {
	k := min(max(cfg.Fanout, 2), MaxFanout)
	r := cfg.Rand
	if r == nil {
		r = rand.New(rand.NewPCG(seedFrom(cfg.Self.ID), 0x7265e))
	}
	m := &Machine{self: cfg.Self, k: k, g: RootGroupSize(k), t: cfg.Timing.withDefaults(), rnd: r}
	m.seq = r.Uint64() >> 2 // a restarted node never reuses its old sequence numbers
	m.incarnation = r.Uint64()
	return m
}

// Start joins through contacts (in order; the root it knew first is best),
// or founds a one-node tree when there are none.
func (m *Machine) Start(now time.Time, contacts []Member) []Action {
	m.begin(now)
	if m.role == RoleIdle {
		for _, c := range contacts {
			m.addContact(c)
		}
		if len(m.contacts) == 0 {
			m.found()
		} else {
			m.startJoining(nil)
		}
	}
	return m.end()
}

// Handle processes one message from the authenticated sender from.
func (m *Machine) Handle(now time.Time, from NodeID, msg *Message) []Action {
	m.begin(now)
	m.handle(from, msg)
	return m.end()
}

// Timer processes a timer scheduled by an earlier After action.
func (m *Machine) Timer(now time.Time, t Timer) []Action {
	m.begin(now)
	if t.Seq == 0 { // never issued: timers count from 1
		return m.end()
	}
	switch t.Kind {
	case TimerTick:
		m.onTick(t.Seq)
	case TimerProbe:
		m.onProbeTimeout(t.Seq)
	case TimerSuspect:
		m.onSuspectTimeout(t.Seq)
	case TimerRetry:
		m.onRetry(t.Seq)
	case TimerBatch:
		m.onBatch(t.Seq)
	case TimerJoin:
		m.onJoinTimer(t.Seq)
	case TimerOrphan:
		m.onOrphan(t.Seq)
	case TimerTakeover:
		m.onTakeoverTimer(t.Seq)
	case TimerMerge:
		m.onMergeTimer(t.Seq)
	}
	return m.end()
}

// Unreachable tells the machine that the transport could not deliver to
// peer or lost its connection. A neighbour is probed at once (and only the
// failure detector can declare it dead); reliable messages keep retrying.
func (m *Machine) Unreachable(now time.Time, peer NodeID) []Action {
	m.begin(now)
	m.onUnreachable(peer)
	return m.end()
}

// Leave leaves the tree gracefully. A member tells the root, which removes
// it at once; the root hands over to its first root-group member. The
// machine then only finishes its retransmissions.
func (m *Machine) Leave(now time.Time) []Action {
	m.begin(now)
	role, root, tree, epoch := m.role, m.root, m.tree, m.posEpoch
	var group []Member
	if role == RoleRoot {
		group = append(group, m.group...)
	}
	m.clearView()
	m.role = RoleLeft
	m.jn = nil
	switch {
	case role == RoleMember:
		m.reliable(outKey{root.ID, okLeave, ""}, root, &Message{Type: TypeLeave, Tree: tree})
	case role == RoleRoot && len(group) > 0:
		m.reliable(outKey{group[0].ID, okHandoff, ""}, group[0], &Message{Type: TypeHandoff, Tree: tree, Epoch: epoch})
	}
	return m.end()
}

// View returns a copy of the local view.
func (m *Machine) View() View {
	v := View{Tree: m.tree, Epoch: m.posEpoch, Pos: m.pos, Size: m.size, Root: m.root, Parent: m.parent, Role: m.role}
	v.Children = append([]Member(nil), m.children...)
	v.Group = append([]Member(nil), m.group...)
	return v
}

// Contacts returns a copy of the nodes this machine knows outside its view
// (its start contacts, roots it joined or heard of, members it removed as
// root), newest last, at most 16: what the runtime persists and passes to
// Start after a restart.
func (m *Machine) Contacts() []Member { return append([]Member(nil), m.contacts...) }

// Counters returns a copy of the running totals.
func (m *Machine) Counters() Counters { return m.cnt.export() }

// Self returns this node.
func (m *Machine) Self() Member { return m.self }

// Role returns the current role.
func (m *Machine) Role() Role { return m.role }

// TreeID returns the current tree id ("" when not in a tree).
func (m *Machine) TreeID() string { return m.tree }

// Pos returns the current position (0 when not in a tree).
func (m *Machine) Pos() int { return m.pos }

// Epoch returns the epoch of the position data held (the root's epoch at the root).
func (m *Machine) Epoch() uint64 { return m.posEpoch }

// RootID returns the root this node follows.
func (m *Machine) RootID() NodeID { return m.root.ID }

// ParentID returns the parent ("" at the root or when not in a tree).
func (m *Machine) ParentID() NodeID { return m.parent.ID }

// NumChildren returns the number of children in the view.
func (m *Machine) NumChildren() int { return len(m.children) }

// Child returns child i (0-based, position FirstChild(Pos)+i) without copying the view.
func (m *Machine) Child(i int) Member { return m.children[i] }

// GroupIDs appends the IDs of the root group to dst.
func (m *Machine) GroupIDs(dst []NodeID) []NodeID {
	for _, g := range m.group {
		dst = append(dst, g.ID)
	}
	return dst
}

func (m *Machine) begin(now time.Time) {
	if !m.based {
		m.base, m.based = now, true
	}
	if t := int64(now.Sub(m.base)); t > m.now {
		m.now = t
	}
	m.acts = nil
}

func (m *Machine) end() []Action {
	a := m.acts
	m.acts = nil
	return a
}

func (m *Machine) emit(to Member, msg *Message) {
	m.acts = append(m.acts, Send{To: to, Msg: msg})
	m.cnt.sent++
}

func (m *Machine) nextSeq() uint64 {
	m.seq++
	if m.seq == 0 {
		m.seq = 1
	}
	return m.seq
}

// after schedules a timer of kind in d and returns its sequence number.
func (m *Machine) after(d time.Duration, kind TimerKind) uint64 {
	m.tseq++
	m.acts = append(m.acts, After{Delay: max(d, 0), Timer: Timer{Kind: kind, Seq: m.tseq}})
	return m.tseq
}

// afterSeq schedules a timer that carries a given sequence number (probes).
func (m *Machine) afterSeq(d time.Duration, kind TimerKind, seq uint64) {
	m.acts = append(m.acts, After{Delay: max(d, 0), Timer: Timer{Kind: kind, Seq: seq}})
}

func (m *Machine) jitter(d time.Duration) time.Duration {
	return d - d/10 + time.Duration(m.rnd.Int64N(int64(d/5)+1))
}

func (m *Machine) handle(from NodeID, msg *Message) {
	m.rejected = false
	if msg == nil || !ValidID(from) {
		m.cnt.rejected[reasonIndex[ReasonMalformed]]++
		return
	}
	if err := msg.Validate(); err != nil {
		if errors.Is(err, ErrUnknownType) {
			m.reject(from, msg, ReasonUnknownType)
		} else {
			m.reject(from, msg, ReasonMalformed)
		}
		return
	}
	if from == m.self.ID {
		m.reject(from, msg, ReasonSelf)
		return
	}
	if m.role == RoleLeft && msg.Type != TypeAck && msg.Type != TypeError {
		m.reject(from, msg, ReasonLeft)
		return
	}
	switch msg.Type {
	case TypeJoin:
		m.onJoin(from, msg)
	case TypeRedirect:
		m.onRedirect(from, msg)
	case TypeAssign:
		m.onAssign(from, msg)
	case TypeUpdate:
		m.onUpdate(from, msg)
	case TypeEvict:
		m.onEvict(from, msg)
	case TypeMigrate:
		m.onMigrate(from, msg)
	case TypeHandoff:
		m.onHandoff(from, msg)
	case TypeRepl:
		m.onRepl(from, msg)
	case TypeReport:
		m.onReport(from, msg)
	case TypeLeave:
		m.onLeave(from, msg)
	case TypePing:
		m.onPing(from, msg)
	case TypePingReq:
		m.onPingReq(from, msg)
	case TypePong:
		m.onPong(from, msg)
	case TypeAck:
		m.onAck(from, msg.Seq)
	case TypeError:
		m.onError(from, msg.Seq, msg.Code)
	case TypeWhois:
		m.onWhois(from, msg)
	case TypeInfo:
		m.onInfo(from, msg)
	case TypeMerge:
		m.onMerge(from, msg)
	case TypeBcast:
		m.onBcast(from, msg)
	}
	if !m.rejected {
		m.cnt.accepted[typeIndex[msg.Type]]++
	}
}

// reject counts a rejected message and, for a request, answers with a
// tree.error carrying the reason. Nothing else changes.
func (m *Machine) reject(from NodeID, msg *Message, reason string) {
	m.rejected = true
	m.cnt.rejected[reasonIndex[reason]]++
	if msg != nil && msg.Seq != 0 && isRequest(msg.Type) && from != m.self.ID {
		m.emit(m.memberOf(from), &Message{Type: TypeError, Seq: msg.Seq, Code: reason})
	}
}

// ack answers a request.
func (m *Machine) ack(from NodeID, msg *Message) {
	m.emit(m.memberOf(from), &Message{Type: TypeAck, Seq: msg.Seq})
}

// memberOf returns the best-known Member for id (with its Addr when we know it).
func (m *Machine) memberOf(id NodeID) Member {
	if m.parent.ID == id {
		return m.parent
	}
	if m.root.ID == id {
		return m.root
	}
	for _, c := range m.children {
		if c.ID == id {
			return c
		}
	}
	for _, c := range m.group {
		if c.ID == id {
			return c
		}
	}
	if m.rs != nil {
		if p, ok := m.rs.index[id]; ok {
			return m.rs.members[p-1]
		}
	}
	for _, c := range m.contacts {
		if c.ID == id {
			return c
		}
	}
	return Member{ID: id}
}

func (m *Machine) addContact(c Member) {
	if !c.Valid() || c.ID == m.self.ID {
		return
	}
	for i, x := range m.contacts {
		if x.ID == c.ID {
			if c.Addr != "" {
				m.contacts[i] = c
			}
			return
		}
	}
	if len(m.contacts) >= maxContacts {
		copy(m.contacts, m.contacts[1:])
		m.contacts = m.contacts[:maxContacts-1]
	}
	m.contacts = append(m.contacts, c)
}

// isNeighbour: id is our parent or one of our children.
func (m *Machine) isNeighbour(id NodeID) bool {
	if id == "" {
		return false
	}
	if m.parent.ID == id {
		return true
	}
	for _, c := range m.children {
		if c.ID == id {
			return true
		}
	}
	return false
}

func (m *Machine) inGroup(id NodeID) bool {
	for _, g := range m.group {
		if g.ID == id {
			return true
		}
	}
	return false
}

// inTree: a member or the root.
func (m *Machine) inTree() bool { return m.role == RoleMember || m.role == RoleRoot }

func (m *Machine) clearView() {
	m.tree, m.prev, m.prevEpoch = "", "", 0
	m.posEpoch, m.infoEpoch = 0, 0
	m.pos, m.size = 0, 0
	m.root, m.parent = Member{}, Member{}
	m.children, m.group = nil, nil
	m.rs, m.rep = nil, nil
	m.orphanOf, m.orphanStage = "", 0
	m.disowned = nil
	m.pr.dropAll()
	m.dropStructural()
}

// ensureTick arms the probe period if it is not running.
func (m *Machine) ensureTick() {
	if m.tickSeq == 0 {
		m.tickSeq = m.after(time.Duration(m.rnd.Int64N(int64(m.t.ProbeInterval))+1), TimerTick)
	}
}
