package ledgerbench

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/borgios/borghui/cells/ledger"
	"github.com/borgios/borghui/peer"
	"github.com/borgios/borghui/signer"
)

// TestRunBench runs the benchmark against three in-process nodes.
func TestRunBench(t *testing.T) {
	if testing.Short() {
		t.Skip("a 3-node network")
	}
	netKey, err := signer.GenerateMemKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	b, c := 100+mrand.IntN(150), mrand.IntN(250)
	var addrs []string
	var first string
	for i := range 3 {
		key, err := signer.GenerateMemKey(nil)
		if err != nil {
			t.Fatal(err)
		}
		pc := peer.Config{Key: key, Cells: []peer.DNA{peer.PaysCell}, IP: fmt.Sprintf("127.%d.%d.%d", b, c, 10+i)}
		if first != "" {
			pc.Join = map[string][]string{ledger.CellName: {first}}
		}
		n, err := peer.Start(context.Background(), pc)
		if err != nil {
			t.Fatal(err)
		}
		cell := n.Cell(ledger.CellName)
		srv, err := ledger.Mount(cell, ledger.Config{Dir: t.TempDir(), Key: key, NetworkKey: netKey.PublicKey()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close(); n.Close() })
		if first == "" {
			first = cell.Addr()
		}
		addrs = append(addrs, cell.ReceptorAddr())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var log *os.File
	if testing.Verbose() {
		log = os.Stderr
	}
	res, err := RunBench(ctx, BenchOptions{Addrs: addrs, NetworkKey: netKey, Accounts: 10, Transfers: 200,
		Concurrency: 8, Timeout: 3 * time.Minute, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", res)
	if !res.SupplyConserved || !res.ReplicasIdentical || res.Rejected != 0 || res.TransfersPerSec <= 0 || res.Height == 0 {
		t.Fatalf("result %+v", res)
	}
}

func TestRunBenchNeedsNodes(t *testing.T) {
	if _, err := RunBench(context.Background(), BenchOptions{}); err == nil {
		t.Fatal("no error without nodes")
	}
}
