package tree

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

var t0 = time.Unix(1_700_000_000, 0)

func newMachine(id string, k int) *Machine {
	return New(Config{Self: mem(id), Fanout: k, Rand: rand.New(rand.NewPCG(1, 2))})
}

// assignFixture places n5 at position 5 of tree tA (k = 3, size 20, epoch
// 7) under root r: parent n2, children n14 n15 n16, root group n2 n3 n4.
func assignFixture() *Message {
	return &Message{Type: TypeAssign, Seq: 100, Tree: "tA", Epoch: 7, Pos: 5, Size: 20, Root: memp("r"), Parent: memp("n2"),
		Children: []Member{mem("n14"), mem("n15"), mem("n16")}, Group: []Member{mem("n2"), mem("n3"), mem("n4")}}
}

func memberFixture(t *testing.T) *Machine {
	t.Helper()
	m := newMachine("n5", 3)
	m.Start(t0, []Member{mem("r")})
	m.Handle(t0, "r", assignFixture())
	if v := m.View(); v.Role != RoleMember || v.Pos != 5 || v.Tree != "tA" || v.Epoch != 7 {
		t.Fatalf("fixture view %+v", v)
	}
	return m
}

func withAssign(f func(*Message)) *Message {
	m := assignFixture()
	m.Seq = 200
	m.Epoch = 8
	f(m)
	return m
}

func sends(acts []Action) []Send {
	var out []Send
	for _, a := range acts {
		if s, ok := a.(Send); ok {
			out = append(out, s)
		}
	}
	return out
}

// TestRejectForgedAndStale: one crafted message each; the view must not
// change, the reason's counter must go up by one, and a request must be
// answered with a tree.error naming the reason.
func TestRejectForgedAndStale(t *testing.T) {
	forkByN9 := ForkID("tA", 7, "n9")
	tests := []struct {
		name   string
		from   NodeID
		msg    *Message
		reason string
	}{
		{"structural order from a non-root member", "n9", withAssign(func(m *Message) { m.Root = memp("n9") }), ReasonNotRoot},
		{"assign naming the root, sent by another", "n2", withAssign(func(*Message) {}), ReasonNotRoot},
		{"stale epoch", "r", withAssign(func(m *Message) { m.Epoch = 6 }), ReasonStaleEpoch},
		{"restart-like command does not exist", "r", &Message{Type: "tree.rootDeath", Seq: 5}, ReasonUnknownType},
		{"legacy crash command", "r", &Message{Type: "rootDropThisNode", Seq: 6}, ReasonUnknownType},
		{"unknown type", "n2", &Message{Type: "tree.restart", Seq: 7}, ReasonUnknownType},
		{"more children than k", "r", withAssign(func(m *Message) { m.Children = append(m.Children, mem("n17")) }), ReasonMalformed},
		{"fewer children than the size implies", "r", withAssign(func(m *Message) { m.Children = m.Children[:2] }), ReasonMalformed},
		{"position 0", "r", withAssign(func(m *Message) { m.Pos = 0 }), ReasonMalformed},
		{"position 1 (nobody is assigned the root)", "r", withAssign(func(m *Message) { m.Pos = 1 }), ReasonMalformed},
		{"size below position", "r", withAssign(func(m *Message) { m.Size = 4 }), ReasonMalformed},
		{"wrong parent for the position", "r", withAssign(func(m *Message) { m.Parent = memp("n3") }), ReasonMalformed},
		{"a node twice", "r", withAssign(func(m *Message) { m.Children[1] = mem("n14") }), ReasonMalformed},
		{"another tree", "r", withAssign(func(m *Message) { m.Tree = "tB" }), ReasonWrongTree},
		{"takeover claim from outside the root group", "n9", withAssign(func(m *Message) {
			m.Tree, m.Prev, m.PrevEpoch, m.Root = forkByN9, "tA", 7, memp("n9")
		}), ReasonUnknownFork},
		{"takeover claim with a made-up tree id", "n3", withAssign(func(m *Message) {
			m.Tree, m.Prev, m.PrevEpoch, m.Root = "fdeadbeef", "tA", 7, memp("n3")
			m.Group = []Member{mem("n2"), mem("r2"), mem("n4")}
		}), ReasonUnknownFork},
		{"eviction from a non-root", "n2", &Message{Type: TypeEvict, Seq: 8, Tree: "tA", Epoch: 9}, ReasonNotRoot},
		{"stale eviction", "r", &Message{Type: TypeEvict, Seq: 9, Tree: "tA", Epoch: 3}, ReasonStaleEpoch},
		{"migrate from a non-parent", "n14", &Message{Type: TypeMigrate, Seq: 10, Tree: "tA", Target: memp("w"), Other: "tB"}, ReasonNotParent},
		{"migrate for another tree", "n2", &Message{Type: TypeMigrate, Seq: 11, Tree: "tB", Target: memp("w"), Other: "tC"}, ReasonWrongTree},
		{"handoff from a non-root", "n2", &Message{Type: TypeHandoff, Seq: 12, Tree: "tA", Epoch: 9}, ReasonNotRoot},
		{"replication from a non-root", "n2", &Message{Type: TypeRepl, Seq: 13, Tree: "tA", Epoch: 9, Members: []Member{mem("x")}, Last: true}, ReasonNotRoot},
		{"replication to a non-group member", "r", &Message{Type: TypeRepl, Seq: 14, Tree: "tA", Epoch: 9, Members: []Member{mem("x")}, Last: true}, ReasonNotGroup},
		{"update from a non-parent", "n14", &Message{Type: TypeUpdate, Seq: 15, Tree: "tA", Epoch: 9, Root: memp("n14")}, ReasonNotParent},
		{"update making us the root", "n2", &Message{Type: TypeUpdate, Seq: 16, Tree: "tA", Epoch: 9, Root: memp("n5")}, ReasonMalformed},
		{"report to a non-root", "n14", &Message{Type: TypeReport, Seq: 17, Tree: "tA", Target: memp("n2")}, ReasonNotRoot},
		{"leave to a non-root", "n14", &Message{Type: TypeLeave, Seq: 18, Tree: "tA"}, ReasonNotRoot},
		{"merge offer to a non-root", "x", &Message{Type: TypeMerge, Seq: 19, Tree: "tB", Epoch: 1, Size: 9, Root: memp("x")}, ReasonNotRoot},
		{"join for somebody else", "n30", &Message{Type: TypeJoin, Seq: 20, Target: memp("n31")}, ReasonMalformed},
		{"message from ourselves", "n5", &Message{Type: TypeLeave, Seq: 21, Tree: "tA"}, ReasonSelf},
		{"missing field", "r", &Message{Type: TypeEvict, Seq: 22, Tree: "tA"}, ReasonMalformed},
		{"bad sender id", "a b", &Message{Type: TypePing, Seq: 23}, ReasonMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := memberFixture(t)
			before, cnt := m.View(), m.Counters()
			acts := m.Handle(t0.Add(time.Second), tt.from, tt.msg)
			if after := m.View(); !reflect.DeepEqual(before, after) {
				t.Fatalf("view changed:\n%+v\n%+v", before, after)
			}
			if got := m.Counters().Rejected[tt.reason]; got != cnt.Rejected[tt.reason]+1 {
				t.Fatalf("Rejected[%q] = %d, want %d (all: %v)", tt.reason, got, cnt.Rejected[tt.reason]+1, m.Counters().Rejected)
			}
			ss := sends(acts)
			if isRequest(tt.msg.Type) && tt.from != "n5" && tt.from != "a b" {
				if len(ss) != 1 || ss[0].Msg.Type != TypeError || ss[0].Msg.Code != tt.reason || ss[0].Msg.Seq != tt.msg.Seq || ss[0].To.ID != tt.from {
					t.Fatalf("want one tree.error %q to %s, got %+v", tt.reason, tt.from, ss)
				}
			} else if len(ss) != 0 {
				t.Fatalf("unexpected sends %+v", ss)
			}
		})
	}
}

func TestNilMessage(t *testing.T) {
	m := memberFixture(t)
	before := m.View()
	if acts := m.Handle(t0, "r", nil); len(acts) != 0 || !reflect.DeepEqual(before, m.View()) {
		t.Fatalf("nil message changed something: %+v", acts)
	}
	if m.Counters().Rejected[ReasonMalformed] != 1 {
		t.Fatalf("nil message not counted")
	}
}

func TestAcceptedOrders(t *testing.T) {
	t.Run("newer assign from the root", func(t *testing.T) {
		m := memberFixture(t)
		acts := m.Handle(t0, "r", withAssign(func(m *Message) { m.Size = 14; m.Children = m.Children[:1] }))
		if v := m.View(); v.Epoch != 8 || v.Size != 14 || len(v.Children) != 1 {
			t.Fatalf("view %+v", v)
		}
		if ss := sends(acts); len(ss) != 1 || ss[0].Msg.Type != TypeAck || ss[0].Msg.Seq != 200 {
			t.Fatalf("want an ack, got %+v", ss)
		}
	})
	t.Run("takeover by a root-group member", func(t *testing.T) {
		m := memberFixture(t)
		fork := ForkID("tA", 7, "n3")
		m.Handle(t0, "n3", withAssign(func(m *Message) {
			m.Tree, m.Prev, m.PrevEpoch, m.Root = fork, "tA", 7, memp("n3")
			m.Group = []Member{mem("n2"), mem("r2"), mem("n4")}
		}))
		if v := m.View(); v.Tree != fork || v.Root.ID != "n3" || v.Epoch != 8 {
			t.Fatalf("view %+v", v)
		}
		// The old root's orders are now stale.
		m.Handle(t0, "r", withAssign(func(m *Message) { m.Epoch = 9 }))
		if got := m.Counters().Rejected[ReasonStaleEpoch]; got != 1 {
			t.Fatalf("old tree's assign: Rejected = %v", m.Counters().Rejected)
		}
	})
}

// TestRootRejects: orders and reports a root must not take.
func TestRootRejects(t *testing.T) {
	r := newMachine("r", 3)
	r.Start(t0, nil)
	if r.Role() != RoleRoot {
		t.Fatalf("a node without contacts founds a tree: %v", r.Role())
	}
	tests := []struct {
		name   string
		from   NodeID
		msg    *Message
		reason string
	}{
		{"assign to a root", "x", &Message{Type: TypeAssign, Seq: 1, Tree: r.TreeID(), Epoch: 9, Pos: 2, Size: 2, Root: memp("x"), Parent: memp("x"), Group: []Member{mem("r")}}, ReasonRole},
		{"report from a non-member", "x", &Message{Type: TypeReport, Seq: 2, Tree: r.TreeID(), Target: memp("y")}, ReasonNotMember},
		{"report that the root is dead", "x", &Message{Type: TypeReport, Seq: 3, Tree: r.TreeID(), Target: memp("r")}, ReasonAlive},
		{"update to a root", "x", &Message{Type: TypeUpdate, Seq: 4, Tree: r.TreeID(), Epoch: 9, Root: memp("x")}, ReasonRole},
		{"merge offer with a forged root", "x", &Message{Type: TypeMerge, Seq: 5, Tree: "tB", Epoch: 1, Size: 9, Root: memp("y")}, ReasonMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, cnt := r.View(), r.Counters().Rejected[tt.reason]
			r.Handle(t0, tt.from, tt.msg)
			if !reflect.DeepEqual(before, r.View()) {
				t.Fatalf("view changed")
			}
			if got := r.Counters().Rejected[tt.reason]; got != cnt+1 {
				t.Fatalf("Rejected[%q] = %d, want %d (%v)", tt.reason, got, cnt+1, r.Counters().Rejected)
			}
		})
	}
}

// TestRestartedNodeKeepsItsPosition: a join from an ID the root already has
// re-sends that member its Assign instead of adding it twice.
func TestRestartedNodeKeepsItsPosition(t *testing.T) {
	r := newMachine("r", 2)
	r.Start(t0, nil)
	for i, id := range []NodeID{"a", "b", "c"} {
		r.Handle(t0, id, &Message{Type: TypeJoin, Seq: uint64(i + 1), Target: memp(string(id))})
	}
	fire(r, t0.Add(time.Second), TimerBatch)
	if len(r.Members()) != 4 {
		t.Fatalf("members %v", r.Members())
	}
	acts := r.Handle(t0.Add(2*time.Second), "b", &Message{Type: TypeJoin, Seq: 9, Target: memp("b")})
	if len(r.Members()) != 4 || r.QueueLen() != 0 {
		t.Fatalf("b added twice: %v queue %d", r.Members(), r.QueueLen())
	}
	var assign *Message
	for _, s := range sends(acts) {
		if s.To.ID == "b" && s.Msg.Type == TypeAssign {
			assign = s.Msg
		}
	}
	if p, _ := r.MemberPos("b"); assign == nil || assign.Pos != p {
		t.Fatalf("b's Assign not re-sent: %+v", sends(acts))
	}
}

// fire runs every pending timer of kind (a minimal driver for single-machine tests).
func fire(m *Machine, now time.Time, kind TimerKind) []Action {
	var out []Action
	for range 100 {
		var acts []Action
		for seq := uint64(1); seq <= m.tseq; seq++ {
			acts = append(acts, m.Timer(now, Timer{Kind: kind, Seq: seq})...)
		}
		out = append(out, acts...)
		if len(acts) == 0 {
			break
		}
	}
	return out
}

func TestDeterminism(t *testing.T) {
	run := func() []Action {
		m := newMachine("n5", 3)
		var all []Action
		all = append(all, m.Start(t0, []Member{mem("r"), mem("n9")})...)
		all = append(all, m.Handle(t0, "r", assignFixture())...)
		for i := 1; i < 20; i++ {
			all = append(all, m.Timer(t0.Add(time.Duration(i)*time.Second), Timer{Kind: TimerTick, Seq: uint64(i)})...)
		}
		a, _ := m.Broadcast(t0.Add(time.Minute), []byte("x"))
		return append(all, a...)
	}
	if a, b := run(), run(); !reflect.DeepEqual(a, b) {
		t.Fatalf("same inputs, different outputs")
	}
}

func TestBroadcastOnceAndForwarding(t *testing.T) {
	m := memberFixture(t)
	acts, id := m.Broadcast(t0, []byte("hi"))
	if id == "" || len(sends(acts)) != 4 { // parent + 3 children
		t.Fatalf("broadcast sends %d, id %q", len(sends(acts)), id)
	}
	in := &Message{Type: TypeBcast, ID: "0011", Origin: "n2", Hops: 1, Tree: "tA", Payload: []byte("x")}
	acts = m.Handle(t0, "n2", in)
	var delivered int
	for _, a := range acts {
		if d, ok := a.(Deliver); ok && d.ID == "0011" && d.Hops == 1 {
			delivered++
		}
	}
	if delivered != 1 || len(sends(acts)) != 3 { // to the children, not back to the parent
		t.Fatalf("delivered %d, forwarded %d", delivered, len(sends(acts)))
	}
	for _, s := range sends(acts) {
		if s.Msg.Hops != 2 || s.To.ID == "n2" {
			t.Fatalf("forward %+v", s)
		}
	}
	if acts := m.Handle(t0, "n14", in); len(acts) != 0 || m.Counters().Duplicates != 1 {
		t.Fatalf("duplicate not dropped: %+v", acts)
	}
	if acts := m.Handle(t0, "stranger", &Message{Type: TypeBcast, ID: "0022", Origin: "x", Hops: 1, Tree: "tZ"}); len(acts) != 0 {
		t.Fatalf("broadcast from outside the tree forwarded: %+v", acts)
	}
}
