package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/borgios/borghui/peer/treebench"
)

// benchCmd runs the benchmarks that need real processes.
func benchCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "tree" {
		fmt.Fprintln(stderr, "borghui bench: say which: tree")
		return 2
	}
	fs := flag.NewFlagSet("borghui bench tree", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o treebench.Options
	fs.IntVar(&o.Nodes, "nodes", 32, "node processes on loopback")
	fs.Float64Var(&o.Loss, "loss", 0.01, "fraction of tree messages the processes drop (to show healing under loss); 0 for none")
	size := fs.Int("bulk-mib", 256, "MiB for the bulk transfer")
	fs.IntVar(&o.Broadcasts, "broadcasts", 20, "probe broadcasts")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if o.Loss == 0 {
		o.Loss = -1 // Options: 0 means the default; negative means none
	}
	o.BulkSize = int64(*size) << 20
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(stderr, "borghui bench:", err)
		return 1
	}
	o.Binary = exe
	o.Log = stderr
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := treebench.Run(ctx, o)
	if err != nil {
		fmt.Fprintln(stderr, "borghui bench tree:", err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(res)
		return 0
	}
	fmt.Fprintf(stdout, "%d processes: join p50 %.1f ms, RTT p50 %.3f ms, broadcast p99 %.1f ms\n", res.Nodes, res.JoinP50ms, res.RTTP50ms, res.BroadcastP99ms)
	fmt.Fprintf(stdout, "heal: root %.0f ms, middle %.0f ms (loss %.0f%%, %d false evictions)\n", res.HealRootMs, res.HealMiddleMs, res.InjectedLoss*100, res.FalseEvictions)
	fmt.Fprintf(stdout, "bulk %.0f MB/s vs raw TLS %.0f MB/s (%.0f%%)\n", res.BulkMBps, res.RawTLSMBps, res.BulkRatio*100)
	return 0
}
