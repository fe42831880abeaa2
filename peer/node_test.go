package peer

import (
	"context"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"testing"
	"time"

	"github.com/borgios/borghui/peer/tree"
	"github.com/borgios/borghui/signer"
)

// testIPs returns n loopback addresses in a block no other test uses.
func testIPs(n int) []string {
	b := 100 + mrand.IntN(150)
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("127.%d.%d.%d", b, mrand.IntN(250), 10+i)
	}
	return out
}

func startTestNode(t *testing.T, ip string, join []string, extra ...func(*Config)) *Node {
	t.Helper()
	key, err := signer.GenerateMemKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Key: key, Cells: []DNA{ShardCell}, IP: ip, Join: map[string][]string{ShardCell.Name: join}}
	for _, f := range extra {
		f(&cfg)
	}
	n, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// consistent reports whether the live cells form one complete tree.
func consistent(cells []*Cell) bool {
	if len(cells) == 0 {
		return false
	}
	root := cells[0].View().Root.ID
	tid := cells[0].View().Tree
	seen := map[int]bool{}
	for _, c := range cells {
		v := c.View()
		if v.Tree != tid || v.Root.ID != root || v.Pos < 1 || v.Pos > len(cells) || seen[v.Pos] {
			return false
		}
		seen[v.Pos] = true
		want := 0
		if v.Pos > 1 {
			want = tree.ParentPos(v.Pos, ShardCell.MaxChildren)
		}
		if want != 0 {
			found := false
			for _, p := range cells {
				if p.ID() == v.Parent.ID && p.View().Pos == want {
					found = true
				}
			}
			if !found {
				return false
			}
		}
	}
	return len(seen) == len(cells)
}

func TestNodesFormHealAndBroadcast(t *testing.T) {
	for _, graceful := range []bool{false, true} {
		name := "root crashes"
		if graceful {
			name = "root leaves"
		}
		t.Run(name, func(t *testing.T) { testFormHealBroadcast(t, graceful) })
	}
}

func testFormHealBroadcast(t *testing.T, graceful bool) {
	ips := testIPs(5)
	first := startTestNode(t, ips[0], nil)
	nodes := []*Node{first}
	for _, ip := range ips[1:] {
		nodes = append(nodes, startTestNode(t, ip, []string{first.Cell(ShardCell.Name).Addr()}))
	}
	cells := func(ns []*Node) []*Cell {
		var out []*Cell
		for _, n := range ns {
			out = append(out, n.Cell(ShardCell.Name))
		}
		return out
	}
	waitFor(t, "five nodes in one tree", 10*time.Second, func() bool { return consistent(cells(nodes)) })

	// A broadcast from a non-root reaches every other node exactly once.
	from := nodes[3].Cell(ShardCell.Name)
	id, err := from.Broadcast([]byte("hello tree"))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the broadcast everywhere", 5*time.Second, func() bool {
		for _, c := range cells(nodes) {
			if c != from && c.Deliveries()[id] != 1 {
				return false
			}
		}
		return true
	})
	time.Sleep(100 * time.Millisecond)
	for _, c := range cells(nodes) {
		if got := c.Deliveries()[id]; (c == from && got != 0) || (c != from && got != 1) {
			t.Fatalf("%s delivered broadcast %d times", c.ID()[:8], got)
		}
	}

	// The root dies (no goodbye): the tree heals without it.
	var rootIdx int
	for i, c := range cells(nodes) {
		if c.View().Pos == 1 {
			rootIdx = i
		}
	}
	if graceful {
		nodes[rootIdx].Close()
	} else {
		nodes[rootIdx].Cell(ShardCell.Name).crash()
	}
	survivors := append(append([]*Node(nil), nodes[:rootIdx]...), nodes[rootIdx+1:]...)
	start := time.Now()
	healed := false
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if healed = consistent(cells(survivors)); healed {
			break
		}
	}
	if !healed {
		for _, c := range cells(survivors) {
			v := c.View()
			t.Logf("%s: tree %.8s epoch %d role %s pos %d size %d root %.8s parent %.8s children %d", string(c.ID())[:8], v.Tree, v.Epoch, v.Role, v.Pos, v.Size, v.Root.ID, v.Parent.ID, len(v.Children))
		}
		t.Fatal("the tree did not heal after the root died")
	}
	t.Logf("healed after losing the root in %v", time.Since(start))
}

// TestNATNodeJoinsThroughRelay runs a node that accepts no inbound
// connections: it reaches the tree through a member that relays for it,
// takes a position like anyone else and receives broadcasts.
func TestNATNodeJoinsThroughRelay(t *testing.T) {
	ips := testIPs(3)
	first := startTestNode(t, ips[0], nil)
	second := startTestNode(t, ips[1], []string{first.Cell(ShardCell.Name).Addr()})
	relay := first.Cell(ShardCell.Name).Addr()
	nat := startTestNode(t, ips[2], []string{relay}, func(c *Config) {
		c.NoListen = true
		c.Relay = map[string]string{ShardCell.Name: relay}
	})
	all := []*Cell{first.Cell(ShardCell.Name), second.Cell(ShardCell.Name), nat.Cell(ShardCell.Name)}
	waitFor(t, "three nodes in one tree, one behind NAT", 10*time.Second, func() bool { return consistent(all) })
	if addr := nat.Cell(ShardCell.Name).Addr(); addr != "" {
		t.Fatalf("the NAT'ed node listens on %q", addr)
	}
	id, err := second.Cell(ShardCell.Name).Broadcast([]byte("to everyone, NAT included"))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the broadcast at the NAT'ed node", 5*time.Second, func() bool {
		return nat.Cell(ShardCell.Name).Deliveries()[id] == 1
	})
}
