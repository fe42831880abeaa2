package sim

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/borgios/borghui/peer/tree"
)

// Usage is the help text of Main.
const Usage = `Usage: borghui sim [flags]

Runs the PeerTree state machine on N simulated nodes with virtual time and
prints what it measured: a summary, or with --json every figure (see the
peer/sim package documentation).
Exit status: 0 when no invariant was violated, 1 when one was, 2 on bad flags.

Flags:
`

// Main is the "borghui sim" command: it parses args into Options, runs the
// simulation and writes the Result as indented JSON to stdout. It returns
// the process exit status.
func Main(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("borghui sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, Usage)
		fs.PrintDefaults()
	}
	var o Options
	fs.IntVar(&o.Nodes, "nodes", 1000, "number of nodes")
	fs.IntVar(&o.Fanout, "fanout", 10, "children per node (k)")
	fs.BoolVar(&o.Storm, "storm", false, "all nodes join within one second (else one join per millisecond)")
	fs.Float64Var(&o.Churn, "churn", 0, "fraction of nodes that crash (and restart 1–5 s later) during the disturbance phase")
	fs.BoolVar(&o.Partition, "partition", false, "split the nodes in two halves for the disturbance phase, then heal")
	fs.Float64Var(&o.Loss, "loss", 0, "probability that a message is lost")
	fs.Int64Var(&o.Seed, "seed", 1, "random seed (a run is a pure function of its flags)")
	fs.DurationVar(&o.Duration, "duration", 0, "disturbance phase in virtual time (default 10s with churn, partition or loss)")
	fs.BoolVar(&o.KillRootAndLast, "kill-root-and-last", false, "crash the root and the last node together after the build")
	fs.BoolVar(&o.NoBroadcast, "no-broadcast", false, "skip the closing broadcasts")
	fs.IntVar(&o.Timing.MaxBatch, "max-batch", 0, "joiners the root places per batch (default 1024; use 65536 for a 10^6 build)")
	asJSON := fs.Bool("json", false, "print every figure as JSON")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "borghui sim: unexpected argument %q (try borghui sim -h)\n", fs.Arg(0))
		return 2
	}
	if o.Timing.MaxBatch > tree.MaxSlots {
		fmt.Fprintf(stderr, "borghui sim: -max-batch is at most %d\n", tree.MaxSlots)
		return 2
	}
	res, err := Run(o)
	if err != nil {
		fmt.Fprintf(stderr, "borghui sim: %v\n", err)
		return 2
	}
	if *asJSON {
		b, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			fmt.Fprintf(stderr, "borghui sim: %v\n", err)
			return 2
		}
		fmt.Fprintln(stdout, string(b))
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
