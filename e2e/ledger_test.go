package e2e

import (
	"encoding/json"
	"testing"

	"github.com/borgios/borghui/cells/ledger/ledgerbench"
)

// TestLedgerSurvivesRootKill runs `borghui bench ledger --kill-root` on five
// real ledger processes: 50 accounts funded from the network wallet, 1,000
// concurrent random transfers submitted to random nodes, the tree's root
// SIGKILLed when half are in. Every transfer is applied exactly once (each
// account's sequence reaches its count, the bench re-submits what the dead
// root alone held), the supply is what genesis made, the accounts hold
// exactly what they were funded with, and every surviving replica has the
// same height, block hash and state hash.
func TestLedgerSurvivesRootKill(t *testing.T) {
	out, err := runCLI(t, "", "bench", "ledger", "--nodes", "5", "--accounts", "50", "--transfers", "1000", "--kill-root", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var r ledgerbench.BenchResult
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("bench output %q: %v", out, err)
	}
	if r.TakenDown == "" {
		t.Fatal("no root was found to kill")
	}
	if !r.SupplyConserved || !r.ReplicasIdentical || r.Rejected != 0 || r.Transfers != 1000 || r.Height == 0 {
		t.Fatalf("after the root was killed: %+v", r)
	}
	t.Logf("%.0f transfers/s through a root kill, %d re-submitted, height %d", r.TransfersPerSec, r.Resubmitted, r.Height)
}
