package e2e

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/borgios/borghui/peer"
	"github.com/borgios/borghui/peer/devnet"
	"github.com/borgios/borghui/peer/transport"
	"github.com/borgios/borghui/peer/treebench"
	"github.com/borgios/borghui/signer"
)

// TestTreeRejectsCraftedMessages sends real node processes single crafted
// messages, from a node that is not a member and from one that is: a
// structural command from a non-root, a stale epoch, a tree-wide "restart",
// an unknown type, a malformed table. Each is rejected and counted; no node
// exits; no node's view changes. (Forged senders, replayed envelopes,
// altered payloads and oversized bodies are refused below the tree by the
// transport, tested message by message in peer/transport.)
func TestTreeRejectsCraftedMessages(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dn, err := devnet.Start(ctx, devnet.Options{Binary: borghui(t), Nodes: 4, Cells: treebench.Cell, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer dn.Stop()
	member := joinOwnNode(t, ctx, dn, "127.0.9.2")
	if err := treebench.WaitTree(ctx, dn, member, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	outsiderKey, _ := signer.GenerateMemKey(rand.Reader)
	outsider, err := transport.New(transport.Config{Key: outsiderKey, Cell: treebench.Cell, ListenAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer outsider.Close()

	before, err := treebench.Snapshot(dn, member)
	if err != nil {
		t.Fatal(err)
	}
	var target peer.Status // a process that is not the root
	for _, s := range before {
		if s.Pos > 1 && s.ID != string(member.ID()) {
			target = s
		}
	}
	tid, epoch := target.Tree, target.Epoch
	me := string(member.ID())
	cases := []struct {
		name string
		from *transport.Transport
		typ  string
		body string
	}{
		{"structural command from a non-member", outsider, "tree.assign",
			fmt.Sprintf(`{"type":"tree.assign","seq":1,"tree":%q,"epoch":%d,"pos":1,"size":1,"root":{"id":%q}}`, tid, epoch+10, outsider.ID())},
		{"eviction from a non-member", outsider, "tree.evict", fmt.Sprintf(`{"type":"tree.evict","seq":2,"tree":%q,"epoch":%d}`, tid, epoch+10)},
		{"structural command from a member that is not the root", member.Transport(), "tree.assign",
			fmt.Sprintf(`{"type":"tree.assign","seq":3,"tree":%q,"epoch":%d,"pos":1,"size":1,"root":{"id":%q}}`, tid, epoch+10, me)},
		{"stale epoch", member.Transport(), "tree.evict", fmt.Sprintf(`{"type":"tree.evict","seq":4,"tree":%q,"epoch":1}`, tid)},
		{"tree-wide restart", outsider, "tree.rootDeath", `{"rootDeath":"migrateToHealthyRoot"}`},
		{"unknown type", member.Transport(), "rootDropThisNode", `{}`},
		{"malformed table (more children than k)", outsider, "tree.assign",
			fmt.Sprintf(`{"type":"tree.assign","seq":5,"tree":%q,"epoch":%d,"pos":2,"size":9,"root":{"id":%q},"children":[{"id":"a"},{"id":"b"},{"id":"c"},{"id":"d"}]}`, tid, epoch+1, outsider.ID())},
	}
	peerOf := transport.Peer{ID: transport.NodeID(target.ID), Addr: target.Addr}
	rejectedBefore := rejections(target)
	for _, c := range cases {
		sctx, scancel := context.WithTimeout(ctx, 2*time.Second)
		err := c.from.Send(sctx, peerOf, c.typ, []byte(c.body))
		scancel()
		if err != nil && !isRemote(err) {
			t.Logf("%s: send: %v", c.name, err)
		}
	}
	time.Sleep(300 * time.Millisecond)

	after, err := treebench.Snapshot(dn, member)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range dn.Nodes() {
		if !n.Alive() {
			t.Fatalf("node %d exited", n.Index)
		}
	}
	for _, s := range after {
		if s.ID != target.ID {
			continue
		}
		if s.Tree != tid || s.Root != target.Root || s.Pos != target.Pos || s.Epoch != epoch {
			t.Fatalf("the target's view changed: %+v → tree %.8s root %.8s pos %d epoch %d", target, s.Tree, s.Root, s.Pos, s.Epoch)
		}
		if got := rejections(s) - rejectedBefore; got < uint64(len(cases)) {
			t.Fatalf("%d rejections counted for %d crafted messages: tree %v transport %v", got, len(cases), s.Tree2.Rejected, s.Transport)
		}
		t.Logf("rejected: tree %v; transport %v", s.Tree2.Rejected, s.Transport)
		return
	}
	t.Fatal("the target vanished from the tree")
}

// rejections totals the refusals a node counted, tree and transport.
func rejections(s peer.Status) uint64 {
	var n uint64
	for _, v := range s.Tree2.Rejected {
		n += v
	}
	for k, v := range s.Transport {
		if len(k) > 9 && k[:9] == "rejected." || k == "handler.error" {
			n += v
		}
	}
	return n
}

func isRemote(err error) bool { return errors.Is(err, transport.ErrRemote) }

// joinOwnNode starts an in-process node of the tree on ip (a loopback
// address of its own, so its well-known ports cannot collide with the
// devnet's or with the system's outgoing connections) joined to dn.
func joinOwnNode(t *testing.T, ctx context.Context, dn *devnet.Net, ip string) *peer.Cell {
	t.Helper()
	key, err := signer.GenerateMemKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	dna, _ := peer.LookupDNA(treebench.Cell)
	self, err := peer.Start(ctx, peer.Config{Key: key, Cells: []peer.DNA{dna}, IP: ip,
		Join: map[string][]string{treebench.Cell: {dn.Nodes()[0].Endpoints[treebench.Cell].Net}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { self.Close() })
	return self.Cell(treebench.Cell)
}
