package tree

import (
	"testing"
	"time"
)

var fuzzSenders = []NodeID{"r", "n2", "n3", "n4", "n14", "n9", "x", "n5", "a", "b", "c"}

// fuzzMachines returns machines in four states: a member (the fixture), a
// root with members, a joiner, and a root-group member holding a replica.
func fuzzMachines(t *testing.T) []*Machine {
	member := memberFixture(t)

	root := newMachine("r", 3)
	root.Start(t0, nil)
	for i, id := range []string{"a", "b", "c", "n9"} {
		root.Handle(t0, NodeID(id), &Message{Type: TypeJoin, Seq: uint64(i + 1), Target: memp(id)})
	}
	fire(root, t0.Add(time.Second), TimerBatch)

	joiner := newMachine("n5", 3)
	joiner.Start(t0, []Member{mem("r"), mem("x")})

	group := newMachine("n3", 3)
	group.Start(t0, []Member{mem("r")})
	group.Handle(t0, "r", &Message{Type: TypeAssign, Seq: 1, Tree: "tA", Epoch: 7, Pos: 3, Size: 20, Root: memp("r"), Parent: memp("r"),
		Children: []Member{mem("n8"), mem("n9"), mem("n10")}, Group: []Member{mem("n2"), mem("n3"), mem("n4")}})
	all := []Member{mem("r"), mem("n2"), mem("n3"), mem("n4"), mem("n5")}
	group.Handle(t0, "r", &Message{Type: TypeRepl, Seq: 2, Tree: "tA", Epoch: 7, Members: all, Last: true})
	return []*Machine{member, root, joiner, group}
}

func fuzzSeeds() []*Message {
	fork := ForkID("tA", 7, "n3")
	return append(sampleMessages(),
		withAssign(func(*Message) {}),
		withAssign(func(m *Message) { m.Tree, m.Prev, m.PrevEpoch, m.Root = fork, "tA", 7, memp("n3") }),
		&Message{Type: TypeUpdate, Seq: 3, Tree: fork, Prev: "tA", PrevEpoch: 7, Epoch: 9, Root: memp("n3"), Group: []Member{mem("n2")}},
		&Message{Type: TypeMigrate, Seq: 4, Tree: "tA", Target: memp("w"), Other: "tB"},
		&Message{Type: TypeEvict, Seq: 5, Tree: "tA", Epoch: 8},
		&Message{Type: TypeHandoff, Seq: 6, Tree: "tA", Epoch: 8},
		&Message{Type: TypeRepl, Seq: 7, Tree: "tA", Epoch: 8, Deltas: []Delta{{Epoch: 8, Size: 6, Set: []Slot{{Pos: 6, Member: mem("n6")}}}}},
		&Message{Type: TypeRepl, Seq: 8, Tree: "tA", Epoch: 9, Deltas: []Delta{{Epoch: 8, Size: 4, Set: []Slot{{Pos: 2, Member: mem("n5")}}, Gone: []Member{mem("n2")}}, {Epoch: 9, Size: 70000}}},
		&Message{Type: TypeReport, Seq: 9, Tree: "tA", Target: memp("b")},
		&Message{Type: TypeLeave, Seq: 10, Tree: "tA"},
		&Message{Type: TypeInfo, Seq: 11, Tree: "tZ", Epoch: 1, Size: 99, Root: memp("x"), Accept: true},
		&Message{Type: TypeMerge, Seq: 12, Tree: "tZ", Epoch: 1, Size: 1, Root: memp("x")},
		&Message{Type: TypeRedirect, Seq: 13, Root: memp("x")},
		&Message{Type: TypePong, Seq: 14, Tree: "tZ", Root: memp("x")},
	)
}

// FuzzHandle feeds machines in several states one decoded message from a
// random sender, then runs their timers: nothing may panic, everything they
// send must be a valid message, and their views must stay consistent.
func FuzzHandle(f *testing.F) {
	for i, m := range fuzzSeeds() {
		b, err := m.Encode()
		if err != nil {
			f.Fatalf("seed %d: %v", i, err)
		}
		f.Add(b, uint8(i), uint8(i))
	}
	f.Fuzz(func(t *testing.T, b []byte, from, which uint8) {
		msg, err := Decode(b)
		if err != nil {
			return
		}
		ms := fuzzMachines(t)
		m := ms[int(which)%len(ms)]
		now := t0.Add(time.Second)
		check(t, m, m.Handle(now, fuzzSenders[int(from)%len(fuzzSenders)], msg))
		for kind := TimerTick; kind <= TimerMerge; kind++ {
			now = now.Add(3 * time.Second)
			for seq := uint64(1); seq <= m.tseq && seq < 200; seq++ {
				check(t, m, m.Timer(now, Timer{Kind: kind, Seq: seq}))
			}
		}
		check(t, m, m.Unreachable(now, fuzzSenders[int(which)%len(fuzzSenders)]))
	})
}

func check(t *testing.T, m *Machine, acts []Action) {
	t.Helper()
	for _, a := range acts {
		switch a := a.(type) {
		case Send:
			if err := a.Msg.Validate(); err != nil {
				t.Fatalf("machine sent an invalid %s: %v", a.Msg.Type, err)
			}
			if !ValidID(a.To.ID) {
				t.Fatalf("send to invalid id %q", a.To.ID)
			}
		case After:
			if a.Delay < 0 {
				t.Fatalf("negative delay")
			}
		}
	}
	v := m.View()
	switch v.Role {
	case RoleMember:
		if v.Pos < 2 || v.Pos > v.Size || len(v.Children) != ChildCount(v.Pos, v.Size, m.k) || v.Parent.ID == "" {
			t.Fatalf("inconsistent member view %+v", v)
		}
	case RoleRoot:
		mem := m.Members()
		if v.Pos != 1 || len(mem) == 0 || mem[0].ID != m.self.ID || m.IndexLen() != len(mem) || v.Size != len(mem) {
			t.Fatalf("inconsistent root view %+v (%d members, %d indexed)", v, len(mem), m.IndexLen())
		}
		for p, x := range mem {
			if q, ok := m.MemberPos(x.ID); !ok || q != p+1 {
				t.Fatalf("member %s at %d indexed at %d", x.ID, p+1, q)
			}
		}
	}
}

func TestFuzzSeedsDoNotPanic(t *testing.T) {
	for i, s := range fuzzSeeds() {
		for which := range 4 {
			for from := range fuzzSenders {
				ms := fuzzMachines(t)
				m := ms[which]
				check(t, m, m.Handle(t0.Add(time.Second), fuzzSenders[from], s))
				_ = i
			}
		}
	}
}
