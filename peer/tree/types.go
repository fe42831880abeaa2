package tree

import "time"

// NodeID identifies a node: the lowercase hex of its 65-byte uncompressed
// public key in the real network, any short string in the simulator.
type NodeID string

// Member is a node as the tree knows it. Addr is host:port of its netPort,
// or relay:<NodeID> for a node reached through that member; the machine
// treats it as opaque.
type Member struct {
	ID   NodeID `json:"id"`
	Addr string `json:"addr,omitempty"`
}

// Role is what a machine currently is.
type Role uint8

const (
	RoleIdle    Role = iota // not started
	RoleJoining             // looking for a tree (or re-joining)
	RoleMember              // holds a position ≥ 2
	RoleRoot                // holds position 1
	RoleLeft                // left gracefully; does nothing any more
)

func (r Role) String() string {
	switch r {
	case RoleIdle:
		return "idle"
	case RoleJoining:
		return "joining"
	case RoleMember:
		return "member"
	case RoleRoot:
		return "root"
	case RoleLeft:
		return "left"
	}
	return "unknown"
}

// View is a machine's local view of the tree. Epoch is the root epoch of the
// last Assign this node applied (its position data); Size is the tree size as
// of that Assign (exact at the root only).
type View struct {
	Tree     string
	Epoch    uint64
	Pos      int
	Size     int
	Root     Member
	Parent   Member // zero at the root
	Children []Member
	Group    []Member // the root group: the members at positions 2…1+min(k,3)
	Role     Role
}

// TimerKind says what a timer is for.
type TimerKind uint8

const (
	TimerTick     TimerKind = iota + 1 // probe period
	TimerProbe                         // direct probe timed out → indirect probes
	TimerSuspect                       // indirect probes timed out → dead
	TimerRetry                         // resend unacknowledged reliable messages
	TimerBatch                         // root: place queued joiners
	TimerJoin                          // joiner: next attempt
	TimerOrphan                        // parent gone and nobody re-assigned us
	TimerTakeover                      // root-group member: take over now
	TimerMerge                         // root: look for other trees
)

// Timer is an opaque token: the driver hands it back to Machine.Timer after
// the delay of the After action that carried it. Stale timers are ignored.
type Timer struct {
	Kind TimerKind
	Seq  uint64
}

// Action is something the driver must do: Send, After or Deliver.
type Action interface{ isAction() }

// Send asks the driver to deliver Msg to To. To.Addr may be empty when the
// machine answers a node it only knows by its authenticated ID; the
// transport then answers on the connection the request came in on.
type Send struct {
	To  Member
	Msg *Message
}

// After asks the driver to call Machine.Timer(Timer) after Delay.
type After struct {
	Delay time.Duration
	Timer Timer
}

// Deliver hands a broadcast to the application, exactly once per ID on this
// machine. Hops is the number of tree edges it travelled (1 for a neighbour
// of the origin). The origin itself gets no Deliver.
type Deliver struct {
	ID      string
	Origin  NodeID
	Payload []byte
	Hops    int
}

func (Send) isAction()    {}
func (After) isAction()   {}
func (Deliver) isAction() {}

// ParentPos returns the position of the parent of position p ≥ 2 in a
// complete k-ary tree numbered in level order.
func ParentPos(p, k int) int { return (p-2)/k + 1 }

// FirstChild returns the position of the first child of p.
func FirstChild(p, k int) int { return k*(p-1) + 2 }

// ChildCount returns how many children position p has in a tree of size.
func ChildCount(p, size, k int) int {
	f := FirstChild(p, k)
	if p < 1 || f > size {
		return 0
	}
	return min(k, size-f+1)
}

// Depth returns the number of edges between position p and the root.
func Depth(p, k int) int {
	d := 0
	for p > 1 {
		p = ParentPos(p, k)
		d++
	}
	return d
}
