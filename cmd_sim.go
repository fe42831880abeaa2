package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/borgios/borghui/peer/sim"
)

// simCmd runs the tree state machine for N nodes with virtual time and an
// in-memory network, and prints what it measured.
func simCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("borghui sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o sim.Options
	fs.IntVar(&o.Nodes, "nodes", 1000, "simulated nodes")
	fs.IntVar(&o.Fanout, "fanout", 10, "children per node (k)")
	fs.BoolVar(&o.Storm, "storm", false, "every node joins within one second (a join storm)")
	fs.Float64Var(&o.Churn, "churn", 0, "fraction of nodes that crash and restart during the disturbance phase")
	fs.BoolVar(&o.Partition, "partition", false, "split the network in two, then heal it")
	fs.Float64Var(&o.Loss, "loss", 0, "probability that any message is lost")
	fs.Int64Var(&o.Seed, "seed", 1, "seed of every random choice (same seed, same run)")
	fs.DurationVar(&o.Duration, "duration", 0, "length of the disturbance phase in virtual time (default 10s with churn, partition or loss)")
	fs.BoolVar(&o.KillRootAndLast, "kill-root-and-last", false, "crash the root and the last node at once after the build")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if o.Nodes < 1 || o.Nodes > 10_000_000 || o.Fanout < 2 || o.Churn < 0 || o.Churn > 1 || o.Loss < 0 || o.Loss >= 1 {
		fmt.Fprintln(stderr, "borghui sim: need 1 ≤ nodes ≤ 10^7, fanout ≥ 2, 0 ≤ churn ≤ 1, 0 ≤ loss < 1")
		return 2
	}
	res, err := sim.Run(o)
	if err != nil {
		fmt.Fprintln(stderr, "borghui sim:", err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(res)
	} else {
		fmt.Fprintf(stdout, "nodes %d  trees %d  violations %d  converged %v in %.0f virtual ms  (%.1f s wall)\n",
			res.Nodes, res.Trees, res.InvariantViolations, res.Converged, res.ConvergeVirtualMs, res.WallSeconds)
		fmt.Fprintf(stdout, "broadcast: %d messages, max %d hops from the root, %d from a leaf, %d duplicate deliveries\n",
			res.BroadcastMessages, res.MaxBroadcastHops, res.MaxBroadcastHopsFromLeaf, res.DuplicateDeliveries)
		fmt.Fprintf(stdout, "joins: %.2f messages per join; evictions %d (false %d), takeovers %d\n",
			res.MessagesPerJoin, res.Evictions, res.FalseEvictions, res.Takeovers)
	}
	if res.InvariantViolations > 0 {
		return 1
	}
	return 0
}
