package ledger

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/borgios/borghui/peer"
	"github.com/borgios/borghui/peer/transport"
	"github.com/borgios/borghui/peer/tree"
	"github.com/borgios/borghui/signer"
)

func newKey(t testing.TB) signer.Key {
	t.Helper()
	k, err := signer.GenerateMemKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func muidOf(t testing.TB, k signer.Key) string {
	t.Helper()
	m, err := MUIDOf(k.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// slow stretches a timeout under the race detector (ECDSA about twenty
// times slower) and on a loaded machine.
func slow(d time.Duration) time.Duration {
	if raceEnabled {
		return 4 * d
	}
	return d
}

func waitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// testNode is one in-process node: a peer node with the pays cell, the
// ledger server on it and a receptor client to it.
type testNode struct {
	key    signer.Key
	ip     string
	dir    string
	node   *peer.Node
	cell   *peer.Cell
	srv    *Server
	tc     *transport.Client
	client *Client

	mu     sync.Mutex
	closed bool
}

func (n *testNode) close() {
	n.mu.Lock()
	was := n.closed
	n.closed = true
	n.mu.Unlock()
	if was {
		return
	}
	n.tc.Close()
	n.srv.Close()
	n.node.Close()
}

func (n *testNode) alive() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return !n.closed
}

type testNet struct {
	t      testing.TB
	hook   func(*Config) // changes every node's config (startNetWith)
	netKey signer.Key
	b, c   int // the 127.b.c.x block
	nextIP int
	mu     sync.Mutex
	nodes  []*testNode
}

func testConfig() Config {
	return Config{BatchEvery: 30 * time.Millisecond, ResendAfter: time.Second, RosterEvery: 5 * time.Second}
}

// startNet starts n in-process nodes (real TLS on 127.x.y.z) of the pays
// cell with a ledger on each, and waits until they form one tree and
// every roster knows every member.
func startNet(t testing.TB, n int) *testNet { return startNetWith(t, n, nil) }

// startNetWith is startNet with hook applied to every node's Config.
func startNetWith(t testing.TB, n int, hook func(*Config)) *testNet {
	t.Helper()
	tn := &testNet{t: t, hook: hook, netKey: newKey(t), b: 100 + mrand.IntN(150), c: mrand.IntN(250), nextIP: 10}
	for range n {
		tn.add(newKey(t), t.TempDir())
	}
	tn.waitTree(n)
	return tn
}

func (tn *testNet) joinAddr() string {
	for _, n := range tn.live() {
		return n.cell.Addr()
	}
	return ""
}

// add starts a node with key and data folder dir, joining the tree.
func (tn *testNet) add(key signer.Key, dir string) *testNode {
	t := tn.t
	t.Helper()
	tn.mu.Lock()
	ip := fmt.Sprintf("127.%d.%d.%d", tn.b, tn.c, tn.nextIP)
	tn.nextIP++
	tn.mu.Unlock()
	pc := peer.Config{Key: key, Cells: []peer.DNA{peer.PaysCell}, IP: ip}
	if a := tn.joinAddr(); a != "" {
		pc.Join = map[string][]string{CellName: {a}}
	}
	node, err := peer.Start(context.Background(), pc)
	if err != nil {
		t.Fatal(err)
	}
	cell := node.Cell(CellName)
	cfg := testConfig()
	cfg.Dir, cfg.Key, cfg.NetworkKey = dir, key, tn.netKey.PublicKey()
	if tn.hook != nil {
		tn.hook(&cfg)
	}
	srv, err := Mount(cell, cfg)
	if err != nil {
		node.Close()
		t.Fatal(err)
	}
	tc, err := transport.Dial(context.Background(), cell.ReceptorAddr(), transport.ClientConfig{Key: newKey(t), Expect: transport.NodeID(cell.ID())})
	if err != nil {
		srv.Close()
		node.Close()
		t.Fatal(err)
	}
	tnode := &testNode{key: key, ip: ip, dir: dir, node: node, cell: cell, srv: srv, tc: tc, client: NewClient(ReceptorCaller{C: tc})}
	t.Cleanup(tnode.close)
	tn.mu.Lock()
	tn.nodes = append(tn.nodes, tnode)
	tn.mu.Unlock()
	return tnode
}

func (tn *testNet) live() []*testNode {
	tn.mu.Lock()
	defer tn.mu.Unlock()
	var out []*testNode
	for _, n := range tn.nodes {
		if n.alive() {
			out = append(out, n)
		}
	}
	return out
}

// root returns the live node that is the root, if exactly one is.
func (tn *testNet) root() *testNode {
	var r *testNode
	for _, n := range tn.live() {
		if n.cell.View().Role == tree.RoleRoot {
			if r != nil {
				return nil
			}
			r = n
		}
	}
	return r
}

// waitTree waits until the live nodes (n of them) share one root and every
// roster knows every live member.
func (tn *testNet) waitTree(n int) {
	tn.t.Helper()
	defer func() {
		if tn.t.Failed() {
			for _, x := range tn.live() {
				v := x.cell.View()
				tn.t.Logf("node %s: role %v pos %d size %d root %.12s tree %s members %d", x.cell.ID()[2:12], v.Role, v.Pos, v.Size, v.Root.ID, v.Tree, len(x.srv.roster.Members()))
			}
		}
	}()
	waitFor(tn.t, "one tree with every member known", slow(30*time.Second), func() bool {
		ls := tn.live()
		if len(ls) != n {
			return false
		}
		r := tn.root()
		if r == nil {
			return false
		}
		for _, x := range ls {
			if x.cell.View().Root.ID != r.cell.ID() {
				return false
			}
			known := 0
			for _, y := range ls {
				if _, ok := x.srv.roster.Lookup(string(y.cell.ID())); ok {
					known++
				}
			}
			if known != n {
				return false
			}
		}
		return true
	})
}

// converged reports whether every live node has the same tip.
func (tn *testNet) converged() (StateResponse, bool) {
	ls := tn.live()
	h := ls[0].srv.Head()
	for _, n := range ls[1:] {
		if n.srv.Head() != h {
			return h, false
		}
	}
	return h, true
}

// submit hands t to a random live node, trying others when a node fails;
// it returns the answer.
func (tn *testNet) submit(ctx context.Context, t *Transfer) (*StatusResponse, error) {
	var last error
	for range 20 {
		ls := tn.live()
		if len(ls) == 0 {
			return nil, errors.New("no live node")
		}
		n := ls[mrand.IntN(len(ls))]
		st, err := n.client.Submit(ctx, t)
		if err == nil {
			return st, nil
		}
		last = err
		time.Sleep(20 * time.Millisecond)
	}
	return nil, last
}
