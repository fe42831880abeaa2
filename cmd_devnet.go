package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/borgios/borghui/peer/devnet"
)

// devnetCmd runs N real node processes on loopback until Ctrl-C.
func devnetCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("borghui devnet", flag.ContinueOnError)
	fs.SetOutput(stderr)
	nodes := fs.Int("nodes", 5, "how many node processes")
	cells := fs.String("cells", "all", "cells every node runs (comma-separated, or all)")
	dir := fs.String("dir", "", "folder for the nodes' data (default: a new temporary folder, removed at the end)")
	offsets := fs.Bool("port-offsets", false, "share 127.0.0.1 with port offsets instead of one 127.0.0.x address per node")
	verbose := fs.Bool("v", false, "show the nodes' logs")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *nodes < 1 || *nodes > 1000 {
		fmt.Fprintln(stderr, "borghui devnet: --nodes must be 1 to 1000")
		return 2
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(stderr, "borghui devnet:", err)
		return 1
	}
	base := *dir
	if base == "" {
		base, err = os.MkdirTemp("", "borghui-devnet-")
		if err != nil {
			fmt.Fprintln(stderr, "borghui devnet:", err)
			return 1
		}
		defer os.RemoveAll(base)
	}
	var logs io.Writer
	if *verbose {
		logs = stderr
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	net, err := devnet.Start(ctx, devnet.Options{Binary: exe, Nodes: *nodes, Cells: *cells, Dir: base, OffsetMode: *offsets, Stderr: logs})
	if err != nil {
		fmt.Fprintln(stderr, "borghui devnet:", err)
		return 1
	}
	fmt.Fprintf(stdout, "devnet: %d nodes running, data in %s\n", *nodes, base)
	net.Print(stdout)
	fmt.Fprintln(stdout, "devnet: press Ctrl-C to stop every node")
	<-ctx.Done()
	net.Stop()
	fmt.Fprintln(stdout, "devnet: stopped")
	return 0
}
