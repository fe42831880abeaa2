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
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/borgios/borghui/cells/ledger"
	"github.com/borgios/borghui/cells/ledger/ledgerbench"
	"github.com/borgios/borghui/cells/mail"
	"github.com/borgios/borghui/cells/mail/mailbench"
	"github.com/borgios/borghui/conduit"
	"github.com/borgios/borghui/conduit/filesbench"
	"github.com/borgios/borghui/peer/devnet"
	"github.com/borgios/borghui/peer/treebench"
	"github.com/borgios/borghui/signer"
)

// benchCmd runs the benchmarks that need real processes.
func benchCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "mail" {
		return benchMail(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "ledger" {
		return benchLedger(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "files" {
		return benchFiles(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "start" {
		return benchStart(args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "tree" {
		fmt.Fprintln(stderr, "borghui bench: say which: tree, files, ledger, mail or start")
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
	return runBench(stdout, stderr, "tree", *asJSON, func(ctx context.Context) (treebench.Result, error) {
		return treebench.Run(ctx, o)
	}, func(res treebench.Result) string {
		return fmt.Sprintf("%d processes: join p50 %.1f ms, RTT p50 %.3f ms, broadcast p99 %.1f ms\n", res.Nodes, res.JoinP50ms, res.RTTP50ms, res.BroadcastP99ms) +
			fmt.Sprintf("heal: root %.0f ms, middle %.0f ms (loss %.0f%%, %d false evictions)\n", res.HealRootMs, res.HealMiddleMs, res.InjectedLoss*100, res.FalseEvictions) +
			fmt.Sprintf("bulk %.0f MB/s vs raw TLS %.0f MB/s (%.0f%%)\n", res.BulkMBps, res.RawTLSMBps, res.BulkRatio*100)
	})
}

// benchFiles measures the Files service on real shard processes.
func benchFiles(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("borghui bench files", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o filesbench.Options
	fs.IntVar(&o.Nodes, "nodes", 5, "shard node processes on loopback")
	fs.IntVar(&o.Replicas, "replicas", 3, "copies of every chunk (R)")
	fs.IntVar(&o.Window, "window", 8, "chunks in flight, up and down")
	fs.StringVar(&o.Dir, "dir", "", "folder for the nodes' data (default: the system's temp folder); the disk's write speed bounds the upload")
	erasure := fs.String("erasure", "", "erasure-code as DATA+PARITY (e.g. 4+2) instead of --replicas copies")
	size := fs.String("size", "512MiB", "file size (bytes, or with KiB, MiB, GiB)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	n, err := parseSize(*size)
	if err != nil {
		fmt.Fprintln(stderr, "borghui bench files:", err)
		return 2
	}
	if *erasure != "" {
		if _, err := fmt.Sscanf(*erasure, "%d+%d", &o.Data, &o.Parity); err != nil || o.Data < 1 || o.Parity < 1 {
			fmt.Fprintln(stderr, "borghui bench files: --erasure wants DATA+PARITY, e.g. 4+2")
			return 2
		}
	}
	o.Size = n
	if o.Binary, err = os.Executable(); err != nil {
		fmt.Fprintln(stderr, "borghui bench:", err)
		return 1
	}
	o.Log = stderr
	return runBench(stdout, stderr, "files", *asJSON, func(ctx context.Context) (filesbench.Result, error) {
		return filesbench.Run(ctx, o)
	}, func(res filesbench.Result) string {
		layout := fmt.Sprintf("R=%d", res.Replicas)
		if res.Erasure != "" {
			layout = "erasure " + res.Erasure
		}
		return fmt.Sprintf("%d nodes, %s, %d MiB: upload %.0f MB/s (%.0f%% of raw TLS), download %.0f MB/s (%.0f%%), raw TLS %.0f MB/s, peak RSS %.0f MB\n",
			res.Nodes, layout, res.SizeBytes>>20, res.UploadMBps, res.UploadRatio*100, res.DownloadMBps, res.DownloadRatio*100, res.RawTLSMBps, res.PeakRSSMB)
	})
}

// runBench runs a benchmark until done or interrupted and prints its result
// as JSON or as a summary.
func runBench[R any](stdout, stderr io.Writer, name string, asJSON bool, run func(context.Context) (R, error), summary func(R) string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := run(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "borghui bench %s: %v\n", name, err)
		return 1
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(res)
		return 0
	}
	fmt.Fprint(stdout, summary(res))
	return 0
}

// parseSize reads 123, 64KiB, 512MiB or 1GiB.
func parseSize(s string) (int64, error) {
	mult := int64(1)
	for suffix, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if v, ok := strings.CutSuffix(s, suffix); ok {
			s, mult = v, m
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("size %q: want a positive number of bytes, KiB, MiB or GiB", s)
	}
	return n * mult, nil
}

// benchLedger measures the ledger on real node processes: it funds
// accounts from the development network wallet and runs random transfers
// through every node, optionally killing the tree's root midway.
func benchLedger(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("borghui bench ledger", flag.ContinueOnError)
	fs.SetOutput(stderr)
	nodes := fs.Int("nodes", 5, "ledger node processes on loopback")
	var o ledgerbench.BenchOptions
	fs.IntVar(&o.Accounts, "accounts", 50, "accounts transferring among themselves")
	fs.IntVar(&o.Transfers, "transfers", 1000, "random transfers")
	fs.IntVar(&o.Concurrency, "concurrency", 32, "transfers submitted at once")
	killRoot := fs.Bool("kill-root", false, "SIGKILL the tree's root when half the transfers are in")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	bin, err := os.Executable()
	if err != nil {
		fmt.Fprintln(stderr, "borghui bench:", err)
		return 1
	}
	o.Log = stderr
	return runBench(stdout, stderr, "ledger", *asJSON, func(ctx context.Context) (ledgerbench.BenchResult, error) {
		dir, err := os.MkdirTemp("", "borghui-bench-ledger-")
		if err != nil {
			return ledgerbench.BenchResult{}, err
		}
		defer os.RemoveAll(dir)
		dn, err := devnet.Start(ctx, devnet.Options{Binary: bin, Nodes: *nodes, Cells: ledger.CellName, Dir: dir})
		if err != nil {
			return ledgerbench.BenchResult{}, err
		}
		defer dn.Stop()
		wallet, err := conduit.DevNetworkWallet()
		if err != nil {
			return ledgerbench.BenchResult{}, err
		}
		defer wallet.Destroy()
		o.NetworkKey = wallet
		for _, n := range dn.Nodes() {
			o.Addrs = append(o.Addrs, n.Endpoints[ledger.CellName].Recp)
		}
		if *killRoot {
			o.Midway = func() string {
				for _, n := range dn.Nodes() {
					ep := n.Endpoints[ledger.CellName]
					if st, err := treebench.ReadStatus(ep.Mon); err == nil && st.Root == st.ID {
						n.Kill()
						return ep.Recp
					}
				}
				return ""
			}
		}
		return ledgerbench.RunBench(ctx, o)
	}, func(r ledgerbench.BenchResult) string {
		return fmt.Sprintf("%d nodes, %d accounts, %d transfers: %.0f transfers/s, supply conserved %v, replicas identical %v (height %d)\n",
			r.Nodes, r.Accounts, r.Transfers, r.TransfersPerSec, r.SupplyConserved, r.ReplicasIdentical, r.Height)
	})
}

// benchMail measures send → delivered latency on real mail processes.
func benchMail(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("borghui bench mail", flag.ContinueOnError)
	fs.SetOutput(stderr)
	nodes := fs.Int("nodes", 5, "mail node processes on loopback")
	var o mailbench.Options
	fs.IntVar(&o.Messages, "messages", 50, "letters to send")
	fs.IntVar(&o.Size, "size", 1024, "body size in bytes")
	fs.IntVar(&o.Concurrency, "concurrency", 1, "letters sent at once")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	bin, err := os.Executable()
	if err != nil {
		fmt.Fprintln(stderr, "borghui bench:", err)
		return 1
	}
	return runBench(stdout, stderr, "mail", *asJSON, func(ctx context.Context) (mailbench.Result, error) {
		dir, err := os.MkdirTemp("", "borghui-bench-mail-")
		if err != nil {
			return mailbench.Result{}, err
		}
		defer os.RemoveAll(dir)
		dn, err := devnet.Start(ctx, devnet.Options{Binary: bin, Nodes: *nodes, Cells: mail.CellName, Dir: dir})
		if err != nil {
			return mailbench.Result{}, err
		}
		defer dn.Stop()
		for _, n := range dn.Nodes() {
			o.Receptors = append(o.Receptors, n.Endpoints[mail.CellName].Recp)
		}
		o.Dir = filepath.Join(dir, "accounts")
		// The cells learn each other from their hellos; wait for all.
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
			key, _ := signer.GenerateMemKey(nil)
			if ms, _, err := mail.Discover(ctx, key, o.Receptors[0]); err == nil && len(ms) == *nodes {
				break
			}
			if time.Now().After(deadline) {
				return mailbench.Result{}, errors.New("the mail cells did not all find each other")
			}
		}
		return mailbench.Run(ctx, o)
	}, func(r mailbench.Result) string { return r.String() + "\n" })
}
