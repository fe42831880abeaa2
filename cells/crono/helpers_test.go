package crono

import (
	"context"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"testing"
	"time"

	"github.com/borgios/borghui/peer"
	"github.com/borgios/borghui/peer/transport"
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

// skewed is a host clock off the real one by d.
func skewed(d time.Duration) func() time.Time {
	return func() time.Time { return time.Now().Add(d) }
}

type testNet struct {
	nodes   []*peer.Node
	servers []*Server
}

// startNet starts one in-process node of the crono cell per skew (real TLS
// on 127.x.y.z), each with a server whose host clock is off the real clock
// by that skew. The nodes' transports keep the real clock, as a host under
// NTP would give them.
func startNet(t testing.TB, skews []time.Duration, cfg Config) *testNet {
	t.Helper()
	tn := &testNet{}
	var first string
	for i, ip := range testIPs(len(skews)) {
		pc := peer.Config{Key: newKey(t), Cells: []peer.DNA{peer.CronoCell}, IP: ip}
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
		c.HostClock = skewed(skews[i])
		srv, err := Mount(cell, c)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		tn.nodes, tn.servers = append(tn.nodes, node), append(tn.servers, srv)
	}
	return tn
}

// dial connects a receptor client to server i's node.
func (tn *testNet) dial(t testing.TB, i int, key signer.Key, clock func() time.Time) *transport.Client {
	t.Helper()
	cell := tn.nodes[i].Cell(CellName)
	c, err := transport.Dial(context.Background(), cell.ReceptorAddr(), transport.ClientConfig{
		Key: key, Expect: transport.NodeID(cell.ID()), Clock: clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// realOffset is how far a server's network time is from the real clock.
func realOffset(s *Server) time.Duration {
	now := time.Now()
	return s.Now().Sub(now)
}

// spread is max − min.
func spread(ds []time.Duration) time.Duration {
	lo, hi := ds[0], ds[0]
	for _, d := range ds {
		lo, hi = min(lo, d), max(hi, d)
	}
	return hi - lo
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

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
