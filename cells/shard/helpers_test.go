package shard

import (
	"context"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/borgios/borghui/peer"
	"github.com/borgios/borghui/signer"
)

// testIPs returns n loopback addresses in a block unlikely to be used by
// another test at the same time.
func testIPs(n int) []string {
	b, c := 100+mrand.IntN(150), mrand.IntN(250)
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("127.%d.%d.%d", b, c, 10+i)
	}
	return out
}

func newKey(t testing.TB) signer.Key {
	t.Helper()
	k, err := signer.GenerateMemKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

type testNet struct {
	nodes   []*peer.Node
	servers []*Server
}

// startNet starts n in-process nodes (real TLS on 127.x.y.z), mounts a
// shard server on each and waits until every server knows every member.
func startNet(t testing.TB, n int, cfg Config) *testNet {
	t.Helper()
	tn := &testNet{}
	var first string
	for _, ip := range testIPs(n) {
		pc := peer.Config{Key: newKey(t), Cells: []peer.DNA{peer.ShardCell}, IP: ip}
		if first != "" {
			pc.Join = map[string][]string{CellName: {first}}
		}
		node, err := peer.Start(context.Background(), pc)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { node.Close() })
		cell := node.Cell(CellName)
		if first == "" {
			first = cell.Addr()
		}
		c := cfg
		c.Dir = t.TempDir()
		c.announcePoll = 10 * time.Millisecond
		srv, err := Mount(cell, c)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		tn.nodes, tn.servers = append(tn.nodes, node), append(tn.servers, srv)
	}
	waitFor(t, "every server to know every member", 10*time.Second, func() bool {
		for _, s := range tn.servers {
			if len(s.Members()) != n {
				return false
			}
		}
		return true
	})
	return tn
}

func (tn *testNet) server(id string) *Server {
	for _, s := range tn.servers {
		if s.self == id {
			return s
		}
	}
	return nil
}

// holders lists the servers whose store holds a good copy of id.
func (tn *testNet) holders(id ID) []string {
	var out []string
	for _, s := range tn.servers {
		if s.Store().Verify(id) {
			out = append(out, s.self)
		}
	}
	return out
}

// network returns a Network client for owner key over tn.
func (tn *testNet) network(t testing.TB, key signer.Key) *Network {
	t.Helper()
	pool := NewPool(key)
	t.Cleanup(pool.Close)
	return NewNetwork(pool.Dial, tn.servers[0].Members(), tn.servers[0].cfg.Replicas)
}

func waitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// wipe replaces a server's store by an empty one, as a node whose disk was
// lost.
func (s *Server) wipe(t *testing.T) {
	t.Helper()
	old := s.Store()
	old.Close()
	if err := removeAll(old.dir); err != nil {
		t.Fatal(err)
	}
	st, err := OpenStore(StoreConfig{Dir: old.dir, Quota: old.quota})
	if err != nil {
		t.Fatal(err)
	}
	s.store.Store(st)
}

func removeAll(dir string) error { return os.RemoveAll(dir) }
