package main

import (
	"context"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/borgios/borghui/cells/shard"
	"github.com/borgios/borghui/conduit"
	"github.com/borgios/borghui/failover"
	"github.com/borgios/borghui/peer"
	"github.com/borgios/borghui/usbboot"
	"github.com/borgios/borghui/wallet"
)

// Port offsets of this test's nodes, apart from the usual ports, solo's
// and other tests'.
const (
	homeTestNetOffset  = 40000
	homeTestHomeOffset = 40100
)

// startTestNetwork runs a one-node network of every cell on 127.0.0.1 and
// returns its receptors.
func startTestNetwork(t *testing.T) (*peer.Node, conduit.Endpoints) {
	t.Helper()
	key, err := wallet.NewNodeKey()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(key.Destroy)
	dnas := make([]peer.DNA, len(peer.Cells))
	for i, d := range peer.Cells {
		if dnas[i], err = d.WithOffset(homeTestNetOffset); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	clock := conduit.NewNetClock(time.Now)
	node, err := peer.Start(context.Background(), peer.Config{Key: key, Cells: dnas, IP: "127.0.0.1", Clock: clock.Now, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	stop, err := conduit.MountCellServers(node, conduit.CellsConfig{Dir: dir, Clock: clock, Key: key})
	if err != nil {
		node.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { stop(); node.Close() })
	eps := conduit.Endpoints{}
	for _, c := range node.Cells() {
		eps[c.Name()] = []failover.Endpoint{{Addr: c.ReceptorAddr(), ID: string(c.ID())}}
	}
	return node, eps
}

// modes records the modes the home node sets.
type modes struct {
	mu  sync.Mutex
	got []string
}

func (m *modes) set(s string) { m.mu.Lock(); m.got = append(m.got, s); m.mu.Unlock() }
func (m *modes) last() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.got) == 0 {
		return ""
	}
	return m.got[len(m.got)-1]
}

func waitUntil(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// The home node joins the network the conduit uses: every cell of it
// becomes a member of the network's trees, its data goes to the chosen
// folder only, its key stays on the stick, and it is the same node on the
// next visit. Stopping it takes it out at once.
func TestHomeNodeJoinsTheNetwork(t *testing.T) {
	netNode, eps := startTestNetwork(t)
	stick := t.TempDir()
	layout := usbboot.Layout{Root: stick, Data: filepath.Join(stick, "BorgData")}
	if err := os.MkdirAll(layout.Data, 0o700); err != nil {
		t.Fatal(err)
	}
	folder := filepath.Join(t.TempDir(), "node data")
	m := &modes{}
	h := &home{
		layout: layout,
		list: &conduit.HomeList{Path: filepath.Join(layout.Data, conduit.HomeFile), Host: "this-host",
			Stick: []string{layout.Root, layout.Data}, FreeSpace: func(string) (int64, error) { return 100 << 30, nil }},
		testKDF: true, log: slog.New(slog.DiscardHandler), base: "guest", setMode: m.set,
		network: func(context.Context) (conduit.Endpoints, error) { return eps, nil },
		offsets: []int{homeTestHomeOffset},
	}
	t.Cleanup(h.Close)

	// Not allowed: nothing runs, nothing is written.
	h.startAllowed()
	if st := h.Home(); st.Allowed || st.Running || h.info() != nil {
		t.Fatalf("a node runs without the person's say: %+v", st)
	}
	if _, err := os.Stat(folder); !os.IsNotExist(err) {
		t.Fatal("the folder exists before home mode was allowed")
	}

	st, err := h.Allow(folder, 2<<30)
	if err != nil || !st.Allowed {
		t.Fatalf("Allow: %+v %v", st, err)
	}
	waitUntil(t, "the home node to run", 10*time.Second, func() bool { return h.Home().Running })
	ni := h.info()
	if ni == nil || len(ni.Cells) != len(peer.Cells) || m.last() != "home" {
		t.Fatalf("node info %+v, mode %q", ni, m.last())
	}
	homeID := ni.ID
	if homeID == string(netNode.Cells()[0].ID()) {
		t.Fatal("the home node has the network node's key")
	}
	// Every tree of the network has the home node in it.
	waitUntil(t, "every cell to join the network's trees", 10*time.Second, func() bool {
		for _, c := range netNode.Cells() {
			if c.Status().Size != 2 {
				return false
			}
		}
		return true
	})
	for _, c := range ni.Cells {
		if !strings.HasPrefix(c.Addr, "127.0.0.1:") {
			t.Errorf("%s listens on %s, want the loopback address that reaches the network", c.Cell, c.Addr)
		}
	}
	// The network's shard cell lists it among its members.
	probe, err := wallet.NewNodeKey()
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Destroy()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	waitUntil(t, "the shard members to list the home node", 10*time.Second, func() bool {
		ms, err := shard.Discover(ctx, probe, eps[shard.CellName][0].Addr)
		return err == nil && slices.ContainsFunc(ms, func(m shard.Member) bool { return m.ID == homeID })
	})

	// The node's data is in the chosen folder; its key on the stick.
	if _, err := os.Stat(filepath.Join(folder, "shard")); err != nil {
		t.Errorf("no shard store in the chosen folder: %v", err)
	}
	if _, err := os.Stat(filepath.Join(layout.Data, homeKeyFolder, conduit.NodeKeyFolder)); err != nil {
		t.Errorf("no node key on the stick: %v", err)
	}
	if _, err := os.Stat(filepath.Join(folder, conduit.NodeKeyFolder)); !os.IsNotExist(err) {
		t.Error("the node key was written outside the stick")
	}
	// On the stick: the list and the key, nothing else.
	filepath.WalkDir(stick, func(p string, d fs.DirEntry, err error) error {
		rel, _ := filepath.Rel(layout.Data, p)
		if err == nil && !d.IsDir() && rel != conduit.HomeFile && !strings.HasPrefix(rel, filepath.Join(homeKeyFolder, conduit.NodeKeyFolder)) {
			t.Errorf("unexpected file on the stick: %s", rel)
		}
		return nil
	})

	// Stopping takes the node out of the trees at once.
	start := time.Now()
	if st, err := h.Disallow(); err != nil || st.Allowed || st.Running {
		t.Fatalf("Disallow: %+v %v", st, err)
	}
	t.Logf("the home node stopped in %v", time.Since(start))
	if h.info() != nil || m.last() != "guest" {
		t.Fatalf("after stopping: node %v, mode %q", h.info(), m.last())
	}
	waitUntil(t, "the network's trees to lose the home node", 10*time.Second, func() bool {
		for _, c := range netNode.Cells() {
			if c.Status().Size != 1 {
				return false
			}
		}
		return true
	})

	// The next visit: allowed again, the same node (its key is on the stick).
	h2 := &home{layout: layout, list: h.list, testKDF: true, log: slog.New(slog.DiscardHandler), base: "guest", setMode: m.set,
		network: h.network, offsets: h.offsets}
	t.Cleanup(h2.Close)
	if _, err := h.list.Allow(folder, 2<<30); err != nil {
		t.Fatal(err)
	}
	h2.startAllowed()
	waitUntil(t, "the home node to run again", 10*time.Second, func() bool { return h2.Home().Running })
	if ni := h2.info(); ni == nil || ni.ID != homeID {
		t.Fatalf("another node on the next visit: %v, want %s", ni, homeID)
	}
}

// Solo mode (no network known) runs no home node, even where allowed.
func TestHomeNotInSolo(t *testing.T) {
	stick := t.TempDir()
	layout := usbboot.Layout{Root: stick, Data: filepath.Join(stick, "BorgData")}
	os.MkdirAll(layout.Data, 0o700)
	h := &home{
		layout: layout,
		list: &conduit.HomeList{Path: filepath.Join(layout.Data, conduit.HomeFile), Host: "this-host",
			Stick: []string{layout.Root, layout.Data}, FreeSpace: func(string) (int64, error) { return 100 << 30, nil }},
		testKDF: true, log: slog.New(slog.DiscardHandler), solo: true, base: "solo", setMode: func(string) { t.Error("mode changed in solo") },
		network: func(context.Context) (conduit.Endpoints, error) { return nil, conduit.ErrNoNetwork },
		offsets: []int{homeTestHomeOffset},
	}
	t.Cleanup(h.Close)
	st, err := h.Allow(filepath.Join(t.TempDir(), "node"), 1<<30)
	if err != nil || !st.Allowed || st.Running || !strings.Contains(st.Note, "next time") {
		t.Fatalf("Allow in solo: %+v %v", st, err)
	}
	h.startAllowed()
	if h.Home().Running || h.run != nil {
		t.Fatal("a home node started in solo mode")
	}
	if _, err := os.Stat(filepath.Join(layout.Data, homeKeyFolder)); !os.IsNotExist(err) {
		t.Fatal("a home node key was made in solo mode")
	}
}

func TestHomeJoins(t *testing.T) {
	eps := conduit.Endpoints{
		shard.CellName:            {{Addr: "10.0.0.5:13355"}, {Addr: "127.0.0.1:53355"}}, // usual port; offset 40000
		peer.MailCell.Name:        {{Addr: "[::1]:13395"}},
		peer.CronoCell.Name:       {{Addr: "no-port"}},
		peer.PaysCell.Name:        {{Addr: "10.0.0.5:1"}}, // the tree port would be out of range
		peer.FtreeCell.Name:       nil,
		"somethingElseCell":       {{Addr: "10.0.0.9:1"}},
		peer.ShardCell.Name + "x": nil,
	}
	got := homeJoins(eps)
	want := map[string][]string{
		shard.CellName:     {"10.0.0.5:13350", "127.0.0.1:53350"},
		peer.MailCell.Name: {"[::1]:13393"},
	}
	if len(got) != len(want) {
		t.Fatalf("joins %v, want %v", got, want)
	}
	for cell, addrs := range want {
		if !slices.Equal(got[cell], addrs) {
			t.Errorf("%s: %v, want %v", cell, got[cell], addrs)
		}
	}
}
