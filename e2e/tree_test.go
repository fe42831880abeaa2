package e2e

import (
	"context"
	mrand "math/rand/v2"
	"testing"
	"time"

	"github.com/borgios/borghui/peer/devnet"
	"github.com/borgios/borghui/peer/treebench"
)

// TestTreeHealsAfterLosingAQuarter runs 16 real node processes on loopback,
// kills a quarter of them at random (the root among them) with SIGKILL, and
// checks that the survivors heal into one complete tree and that a
// broadcast afterwards reaches every survivor exactly once.
func TestTreeHealsAfterLosingAQuarter(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dn, err := devnet.Start(ctx, devnet.Options{Binary: borghui(t), Nodes: 16, Cells: treebench.Cell, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer dn.Stop()

	// Our own node in the tree, to broadcast from and to observe.
	me := joinOwnNode(t, ctx, dn, "127.0.9.1")
	if err := treebench.WaitTree(ctx, dn, me, 30*time.Second); err != nil {
		t.Fatalf("17 nodes did not form one tree: %v", err)
	}

	// Kill four of the sixteen processes, the root among them.
	sts, err := treebench.Snapshot(dn, me)
	if err != nil {
		t.Fatal(err)
	}
	var root string
	for _, s := range sts {
		if s.Pos == 1 {
			root = s.ID
		}
	}
	nodes := dn.Nodes()
	victims := map[int]bool{}
	for i, n := range nodes {
		if n.Endpoints[treebench.Cell].ID == root {
			victims[i] = true
		}
	}
	if len(victims) != 1 {
		t.Fatalf("the root is not one of the processes (root %.16s)", root)
	}
	for len(victims) < 4 {
		victims[mrand.IntN(len(nodes))] = true
	}
	for i := range victims {
		nodes[i].Kill()
	}
	start := time.Now()
	if err := treebench.WaitTree(ctx, dn, me, 30*time.Second); err != nil {
		t.Fatalf("the survivors did not heal: %v", err)
	}
	t.Logf("healed after losing 4 of 16 (root included) in %v", time.Since(start))

	// No survivor exited; a broadcast reaches each of them exactly once.
	for i, n := range nodes {
		if !victims[i] && !n.Alive() {
			t.Fatalf("node %d exited", i)
		}
	}
	id, err := me.Broadcast([]byte("after the storm"))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		sts, err := treebench.Snapshot(dn, me)
		if err != nil {
			t.Fatal(err)
		}
		missing, dup := 0, 0
		for _, s := range sts {
			if s.ID == string(me.ID()) {
				continue
			}
			switch n := s.Deliveries[id]; {
			case n == 0:
				missing++
			case n > 1:
				dup++
			}
		}
		if dup > 0 {
			t.Fatalf("%d survivors delivered the broadcast more than once", dup)
		}
		if missing == 0 {
			if len(sts)-1 != 12 {
				t.Fatalf("%d survivors, want 12", len(sts)-1)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d survivors never delivered the broadcast", missing, len(sts)-1)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestNodeRejoinsAfterRestart kills a node process and starts it again on
// its data folder without any --join: it finds its tree through the contacts
// it saved, under the same identity.
func TestNodeRejoinsAfterRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dn, err := devnet.Start(ctx, devnet.Options{Binary: borghui(t), Nodes: 4, Cells: treebench.Cell, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer dn.Stop()
	me := joinOwnNode(t, ctx, dn, "127.0.9.3")
	if err := treebench.WaitTree(ctx, dn, me, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	time.Sleep(6 * time.Second) // contacts are written at most every 5 s
	victim := dn.Nodes()[2]
	id := victim.Endpoints[treebench.Cell].ID
	victim.Kill()
	if err := treebench.WaitTree(ctx, dn, me, 30*time.Second); err != nil {
		t.Fatalf("no heal after the kill: %v", err)
	}
	back, err := dn.Restart(ctx, 2, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := back.Endpoints[treebench.Cell].ID; got != id {
		t.Fatalf("restarted with another identity: %.16s, was %.16s", got, id)
	}
	if err := treebench.WaitTree(ctx, dn, me, 30*time.Second); err != nil {
		t.Fatalf("the restarted node did not rejoin: %v", err)
	}
	sts, _ := treebench.Snapshot(dn, me)
	if len(sts) != 5 {
		t.Fatalf("%d members after the rejoin, want 5", len(sts))
	}
}
