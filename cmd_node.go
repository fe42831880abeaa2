package main

import (
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/borgios/borghui/conduit"
	"github.com/borgios/borghui/peer"
	"github.com/borgios/borghui/usbboot"
)

// multiFlag collects a repeated flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// nodeCmd runs a full node: one tree per cell, until SIGINT or SIGTERM.
func nodeCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("borghui node", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cells := fs.String("cells", "all", "cells to run (comma-separated names, or all)")
	data := fs.String("data", "", "the node's data folder (required)")
	var join multiFlag
	fs.Var(&join, "join", "a member to join through: host:port or IP (repeatable; CELL=ADDR for one cell)")
	portals := fs.String("portals", "", "a portal list file (the reference borgPortalsList.dat or ours) to join through")
	offset := fs.Int("port-offset", 0, "add this to every port, so several nodes share one address")
	ip := fs.String("ip", "127.0.0.1", "the address to listen on")
	noListen := fs.Bool("no-listen", false, "accept no inbound connections (behind NAT): reach the tree through the first --join member")
	monPublic := fs.Bool("monitor-public", false, "serve the read-only monitor on --ip instead of 127.0.0.1")
	passStdin := fs.Bool("passphrase-stdin", false, "read the node key's passphrase from stdin (line 1)")
	testKDF := fs.Bool("test-kdf", false, "tests only: a tiny Argon2id cost for the node key")
	loss := fs.Float64("loss", 0, "tests only: drop this fraction of outgoing tree messages")
	netKeyHex := fs.String("network-key", "", "the network wallet's public key (hex); default: the development network, whose shells are play money")
	skew := fs.Duration("clock-skew", 0, "tests only: pretend the host clock is off by this much (network time corrects it)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *data == "" {
		fmt.Fprintln(stderr, "borghui node: --data is required")
		return 2
	}
	dnas, err := peer.ParseCells(*cells)
	if err != nil {
		fmt.Fprintln(stderr, "borghui node:", err)
		return 2
	}
	if dnas, err = peer.Offset(dnas, *offset); err != nil {
		fmt.Fprintln(stderr, "borghui node:", err)
		return 2
	}
	joins, err := joinTargets(join, *portals, dnas)
	if err != nil {
		fmt.Fprintln(stderr, "borghui node:", err)
		return 2
	}

	layout, err := usbboot.Locate(*data)
	if err != nil {
		fmt.Fprintln(stderr, "borghui node:", err)
		return 1
	}
	log, logFile, err := usbboot.OpenLog(layout, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "borghui node:", err)
		return 1
	}
	defer logFile.Close()

	pass := []byte("borghui node key")
	if *passStdin {
		lines, err := readLines(stdin, 1)
		if err != nil {
			fmt.Fprintln(stderr, "borghui node:", err)
			return 1
		}
		pass = append([]byte(nil), lines[0]...)
		wipeLines(lines)
	} else {
		log.Warn("no --passphrase-stdin: the node key is protected by a fixed passphrase; fine for a devnet, not for a real node")
	}
	key, err := conduit.OpenNodeKey(layout.Data, pass, *testKDF)
	clear(pass)
	if err != nil {
		fmt.Fprintln(stderr, "borghui node:", conduit.UserMessage(err))
		return 1
	}
	defer key.Destroy()

	var netKey []byte
	if *netKeyHex != "" {
		if netKey, err = hex.DecodeString(*netKeyHex); err != nil || len(netKey) != 65 {
			fmt.Fprintln(stderr, "borghui node: --network-key wants 130 hex characters (an uncompressed public key)")
			return 2
		}
	}
	if *skew != 0 {
		log.Warn("test clock skew in use", "skew", skew.String())
	}
	clock := conduit.NewNetClock(func() time.Time { return time.Now().Add(*skew) })
	cfg := peer.Config{
		Key: key, Cells: dnas, IP: *ip, Join: joins, NoListen: *noListen, Clock: clock.Now,
		MonitorPublic: *monPublic, DataDir: layout.Data, BulkDir: filepath.Join(layout.Data, "bulk"),
		Loss: *loss, Log: log,
	}
	if *noListen {
		cfg.Relay = map[string]string{}
		for cell, addrs := range joins {
			if len(addrs) > 0 {
				cfg.Relay[cell] = addrs[0]
			}
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	node, err := peer.Start(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "borghui node:", err)
		return 1
	}
	stopCells, err := conduit.MountCellServers(node, conduit.CellsConfig{Dir: layout.Data, Clock: clock, Key: key, NetworkKey: netKey, Log: log})
	if err != nil {
		node.Close()
		fmt.Fprintln(stderr, "borghui node:", err)
		return 1
	}
	for _, c := range node.Cells() {
		fmt.Fprintf(stdout, "node ready cell=%s id=%s net=%s recp=%s mon=%s\n", c.Name(), c.ID(), c.Addr(), c.ReceptorAddr(), c.MonitorAddr())
		log.Info("cell running", "cell", c.Name(), "net", c.Addr(), "recp", c.ReceptorAddr(), "mon", c.MonitorAddr())
	}
	<-ctx.Done()
	log.Info("node stopping")
	stopCells()
	node.Close()
	return 0
}

// joinTargets turns --join flags and a portal list into join addresses per
// cell. A bare --join ADDR applies to every cell (an IP gets each cell's own
// port); CELL=ADDR to one cell.
func joinTargets(flags []string, portalFile string, dnas []peer.DNA) (map[string][]string, error) {
	out := map[string][]string{}
	for _, f := range flags {
		cell, addr, scoped := strings.Cut(f, "=")
		for _, d := range dnas {
			if scoped && !strings.EqualFold(cell, d.Name) {
				continue
			}
			target := f
			if scoped {
				target = addr
			}
			a, err := peer.ParseJoinAddr(target, d)
			if err != nil {
				return nil, err
			}
			out[d.Name] = append(out[d.Name], a)
		}
	}
	if portalFile != "" {
		ps, err := peer.ReadPortals(portalFile)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			out[p.Cell] = append(out[p.Cell], p.Addr)
		}
	}
	return out, nil
}
