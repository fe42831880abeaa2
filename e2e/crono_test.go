package e2e

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/borgios/borghui/cells/crono"
	"github.com/borgios/borghui/peer/devnet"
	"github.com/borgios/borghui/peer/transport"
	"github.com/borgios/borghui/wallet"
)

// TestNetworkTimeAgreesDespiteSkew starts five real node processes of the
// crono cell whose host clocks are off by −30 s … +30 s (--clock-skew) and
// reads each node's network time from this process: they agree within
// 10 ms, at the median of the host clocks (here: the true time), and no
// host clock was touched.
func TestNetworkTimeAgreesDespiteSkew(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	skews := []time.Duration{-30 * time.Second, -10 * time.Second, 0, 12 * time.Second, 30 * time.Second}
	dn := startNet(t, ctx, crono.CellName, len(skews), func(i int) []string {
		return []string{"--clock-skew", skews[i].String()}
	})
	id, err := wallet.NewNodeKey()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(id.Destroy)
	var clients []*crono.Client
	for _, n := range dn.Nodes() {
		tc, err := transport.Dial(ctx, n.Endpoints[crono.CellName].Recp, transport.ClientConfig{Key: id})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tc.Close() })
		clients = append(clients, crono.NewClient(crono.ReceptorCaller{C: tc}, time.Now))
	}
	var offsets []time.Duration
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		offsets = offsets[:0]
		for i, c := range clients {
			s, err := c.Estimate(ctx, 8)
			if err != nil {
				t.Fatalf("node %d: %v", i, err)
			}
			offsets = append(offsets, s.Offset)
		}
		spread := slices.Max(offsets) - slices.Min(offsets)
		if spread <= 10*time.Millisecond && slices.Max(offsets) < time.Second && slices.Min(offsets) > -time.Second {
			t.Logf("network time offsets from this host: %v (spread %v)", offsets, spread)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the nodes' network clocks disagree: offsets %v (spread %v)", offsets, spread)
		}
	}
}

// startNet starts n node processes of cells, with per-node arguments.
func startNet(t *testing.T, ctx context.Context, cells string, n int, nodeArgs func(int) []string) *devnet.Net {
	t.Helper()
	dn, err := devnet.Start(ctx, devnet.Options{Binary: borghui(t), Nodes: n, Cells: cells, Dir: t.TempDir(), NodeArgs: nodeArgs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dn.Stop)
	return dn
}
