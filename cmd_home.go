package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/borgios/borghui/conduit"
	"github.com/borgios/borghui/internal/dirs"
	"github.com/borgios/borghui/peer"
	"github.com/borgios/borghui/usbboot"
	"github.com/borgios/borghui/wallet"
	"github.com/borgios/borghui/web"
)

// homePassphrase protects the home node's key on the stick. Like the solo
// node's, the key guards no secret of the person's (files and mail are
// sealed before they reach any cell); it keeps the node the same node on
// every visit to this computer.
const homePassphrase = "borghui home node"

// homeKeyFolder is the folder, in the data folder on the stick, that holds
// the home node's key.
const homeKeyFolder = "home"

// homeOffsets are the port offsets tried for the home node: the usual
// ports first, so other nodes find it by its address alone; others when a
// node of the network already runs on this computer.
var homeOffsets = []int{0, 20000, 21000, 22000}

// homeRetry bounds the wait between tries to reach the network.
const homeRetry = time.Minute

// home runs this computer's home node: every cell, its data in the folder
// the person chose, the shard store bounded by their quota, joined to the
// network the conduit uses. It runs only where the person allowed it for
// this computer (conduit.HomeList) and never in solo mode. It is the
// Settings page's web.HomeControl.
type home struct {
	layout  usbboot.Layout
	list    *conduit.HomeList
	testKDF bool
	log     *slog.Logger
	// network says where the network's receptors are (--join or the
	// endpoints saved on the stick).
	network func(context.Context) (conduit.Endpoints, error)
	// solo: no network is known; the conduit runs its own one-node
	// network and no home node runs.
	solo bool
	// setMode tells the conduit's Network page the mode; base is the mode
	// without a home node (guest or solo).
	setMode func(string)
	base    string
	offsets []int
	// events, when set, tells open pages that the node's state changed.
	events *conduit.Bus

	mu   sync.Mutex
	run  *homeRun // the node running or being started; nil: none
	note string   // the node's state, for the person
	// key is the node's key, opened from the stick once and kept for the
	// next start of the node (opening it runs the KDF); the deferred
	// wallet.Purge wipes it when BorgHUI exits. keyMu, not mu, guards it:
	// the pages must not wait on the KDF.
	keyMu sync.Mutex
	key   *wallet.Identity
}

// homeRun is one life of the node, from Allow (or start) to Disallow (or
// quit).
type homeRun struct {
	cancel context.CancelFunc
	done   chan struct{}
	node   *peer.Node // set once it runs (under home.mu)
}

// startHome prepares home mode and starts the node when this computer is
// allowed and a network is known. Call it before the conduit unlocks.
// known: a network is known (--join, or saved on the stick).
func startHome(layout usbboot.Layout, c *conduit.Conduit, nc *conduit.NetworkConfig, known, testKDF bool, log *slog.Logger) *home {
	h := &home{
		layout: layout,
		list: &conduit.HomeList{Path: filepath.Join(layout.Data, conduit.HomeFile), Host: usbboot.HostFingerprint(),
			Stick: []string{layout.Root, layout.Data}},
		testKDF: testKDF, log: log, network: nc.Endpoints, solo: !known,
		setMode: c.SetNetworkMode, base: nc.Mode, offsets: homeOffsets, events: c.Events(),
	}
	h.startAllowed()
	return h
}

// startAllowed starts the node if the list allows this computer.
func (h *home) startAllowed() {
	choice, ok, err := h.list.Get()
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case err != nil:
		h.log.Warn("home mode off: the list on the stick is unreadable", "err", err)
		h.note = conduit.HomeMessage(err)
	case !ok:
	case h.solo:
		h.note = "No network is known, so BorgHUI runs a network of its own and no home node. The home node starts when BorgHUI starts with a network to join."
	default:
		h.startLocked(choice)
	}
}

func (h *home) startLocked(c conduit.HomeChoice) {
	ctx, cancel := context.WithCancel(context.Background())
	r := &homeRun{cancel: cancel, done: make(chan struct{})}
	h.run, h.note = r, "Starting the node…"
	go func() {
		defer close(r.done)
		h.serve(ctx, r, c)
	}()
}

// stop ends the node, if any, and waits for it to leave its trees.
func (h *home) stop() {
	h.mu.Lock()
	r := h.run
	h.run = nil
	h.mu.Unlock()
	if r == nil {
		return
	}
	r.cancel()
	<-r.done
}

// Close stops the node.
func (h *home) Close() { h.stop() }

// setNote records the node's state for the Settings page, and tells open
// pages when it changed.
func (h *home) setNote(r *homeRun, note string) {
	h.mu.Lock()
	changed := h.run == r && h.note != note
	if changed {
		h.note = note
	}
	h.mu.Unlock()
	if changed && h.events != nil {
		h.events.Publish(conduit.Event{Type: "network"})
	}
}

// serve reaches the network (retrying with back-off), runs the node until
// ctx ends, then stops it.
func (h *home) serve(ctx context.Context, r *homeRun, c conduit.HomeChoice) {
	key, err := h.nodeKey()
	if err != nil {
		h.log.Error("home node key", "err", err)
		h.setNote(r, "The home node's key on the stick could not be opened: "+conduit.UserMessage(err))
		return
	}
	var node *peer.Node
	var stopCells func()
	for wait := 2 * time.Second; ; wait = min(2*wait, homeRetry) {
		node, stopCells, err = h.startNode(ctx, key, c)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return
		}
		h.log.Warn("home node not started; retrying", "in", wait, "err", err)
		h.setNote(r, "Not running yet: "+homeReason(err)+" BorgHUI tries again by itself.")
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
	h.mu.Lock()
	running := h.run == r
	if running {
		r.node, h.note = node, ""
	}
	h.mu.Unlock()
	if running {
		h.setMode("home")
	}
	<-ctx.Done()
	h.log.Info("home node stopping")
	h.mu.Lock()
	r.node = nil
	h.mu.Unlock()
	stopCells()
	node.Close()
	h.setMode(h.base)
}

// nodeKey opens the home node's key on the stick (making it on the first
// visit), once.
func (h *home) nodeKey() (*wallet.Identity, error) {
	h.keyMu.Lock()
	defer h.keyMu.Unlock()
	if h.key != nil {
		return h.key, nil
	}
	key, err := conduit.OpenNodeKey(filepath.Join(h.layout.Data, homeKeyFolder), []byte(homePassphrase), h.testKDF)
	if err != nil {
		return nil, err
	}
	h.key = key
	return key, nil
}

// errNoAnswer: no node of the network answered at its tree address.
var errNoAnswer = errors.New("no node of the network answered")

// errNoPorts: every port offset tried is taken on this computer.
var errNoPorts = errors.New("home node: no free ports")

// errFolder: the chosen data folder cannot be made (removed since, a disk
// not mounted).
var errFolder = errors.New("home node: the data folder cannot be made")

func homeReason(err error) string {
	switch {
	case errors.Is(err, conduit.ErrNoNetwork):
		return "no network is known."
	case errors.Is(err, errNoAnswer):
		return "the network did not answer."
	case errors.Is(err, errFolder):
		return "its data folder cannot be made or written (is its disk there?); stop home mode and choose another folder if it stays so."
	case errors.Is(err, errNoPorts):
		return "its network ports are taken on this computer (another node runs here?)."
	}
	return conduit.UserMessage(err)
}

// startNode joins the network with every cell, on the address of this
// computer that reaches it, with the first free port offset.
func (h *home) startNode(ctx context.Context, key *wallet.Identity, c conduit.HomeChoice) (*peer.Node, func(), error) {
	eps, err := h.network(ctx)
	if err != nil {
		return nil, nil, err
	}
	// The person allowed this folder; it may have been removed since.
	if err := dirs.MkdirAll(c.Folder, 0o700); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", errFolder, err)
	}
	joins := homeJoins(eps)
	ip, err := localIPFor(joins)
	if err != nil {
		return nil, nil, err
	}
	var errs []error
	for _, off := range h.offsets {
		dnas, err := peer.CellsAt(off)
		if err != nil {
			return nil, nil, err
		}
		// Never join through this node's own addresses (the saved
		// endpoints list it after an earlier visit).
		own := map[string]bool{}
		for _, d := range dnas {
			own[net.JoinHostPort(ip, strconv.Itoa(d.NetPort))] = true
		}
		mine := map[string][]string{}
		for cell, addrs := range joins {
			for _, a := range addrs {
				if !own[a] {
					mine[cell] = append(mine[cell], a)
				}
			}
		}
		if !anyAnswers(ctx, mine) {
			return nil, nil, errNoAnswer
		}
		clock := conduit.NewNetClock(time.Now)
		node, err := peer.Start(ctx, peer.Config{Key: key, Cells: dnas, IP: ip, Join: mine, Clock: clock.Now,
			DataDir: c.Folder, BulkDir: filepath.Join(c.Folder, "bulk"), Log: h.log.With("node", "home")})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		stopCells, err := conduit.MountCellServers(node, conduit.CellsConfig{Dir: c.Folder, Clock: clock, Key: key,
			ShardCapacity: c.QuotaBytes, Log: h.log.With("node", "home")})
		if err != nil {
			node.Close()
			return nil, nil, fmt.Errorf("home cells: %w", err)
		}
		h.log.Info("home node running", "ip", ip, "portOffset", off, "folder", c.Folder, "quota", c.QuotaBytes)
		return node, stopCells, nil
	}
	return nil, nil, fmt.Errorf("%w: %w", errNoPorts, errors.Join(errs...))
}

// homeJoins turns the network's receptor endpoints into tree addresses to
// join through, per cell: every node of a network uses each cell's ports
// moved by one offset (devnet, node --port-offset), so the receptor port
// tells the offset and the offset the tree port.
func homeJoins(eps conduit.Endpoints) map[string][]string {
	out := map[string][]string{}
	for _, d := range peer.Cells {
		for _, ep := range eps[d.Name] {
			host, p, err := net.SplitHostPort(ep.Addr)
			if err != nil {
				continue
			}
			port, err := strconv.Atoi(p)
			if err != nil {
				continue
			}
			netPort := d.NetPort + port - d.RecpPort
			if netPort < 1 || netPort > 65535 {
				continue
			}
			out[d.Name] = append(out[d.Name], net.JoinHostPort(host, strconv.Itoa(netPort)))
		}
	}
	return out
}

// localIPFor is the address of this computer that reaches the first join
// target: a UDP "dial" sends nothing but makes the system choose the
// route. A loopback network gives a loopback address.
func localIPFor(joins map[string][]string) (string, error) {
	for _, d := range peer.Cells {
		for _, a := range joins[d.Name] {
			conn, err := net.Dial("udp", a)
			if err != nil {
				continue
			}
			ip := conn.LocalAddr().(*net.UDPAddr).IP
			conn.Close()
			if ip.IsUnspecified() {
				continue
			}
			return ip.String(), nil
		}
	}
	return "", errNoAnswer
}

// anyAnswers reports whether some join target accepts a connection, so a
// node offline does not found trees of its own.
func anyAnswers(ctx context.Context, joins map[string][]string) bool {
	d := net.Dialer{Timeout: 2 * time.Second}
	for _, cell := range peer.Cells {
		for _, a := range joins[cell.Name] {
			if conn, err := d.DialContext(ctx, "tcp", a); err == nil {
				conn.Close()
				return true
			}
		}
	}
	return false
}

// Home reports this computer's home mode for the Settings page.
func (h *home) Home() web.HomeState {
	c, ok, err := h.list.Get()
	h.mu.Lock()
	defer h.mu.Unlock()
	st := web.HomeState{Allowed: ok, Choice: c, Note: h.note, Suggest: suggestFolder()}
	if err != nil {
		st.Note = conduit.HomeMessage(err)
	}
	st.Running = h.run != nil && h.run.node != nil
	return st
}

// Allow records the person's choice for this computer and (re)starts the
// node with it, unless BorgHUI runs solo.
func (h *home) Allow(folder string, quota int64) (web.HomeState, error) {
	c, err := h.list.Allow(folder, quota)
	if err != nil {
		return h.Home(), err
	}
	h.log.Info("home mode allowed on this computer at the person's request", "folder", c.Folder, "quota", c.QuotaBytes)
	h.stop()
	h.mu.Lock()
	if h.solo {
		h.note = "Allowed. No network is known, so BorgHUI runs a network of its own now; the home node starts the next time BorgHUI starts with a network to join."
	} else {
		h.startLocked(c)
	}
	h.mu.Unlock()
	return h.Home(), nil
}

// Disallow removes this computer from the list and stops the node.
func (h *home) Disallow() (web.HomeState, error) {
	if err := h.list.Disallow(); err != nil {
		return h.Home(), err
	}
	h.log.Info("home mode stopped on this computer at the person's request")
	h.stop()
	h.mu.Lock()
	h.note = ""
	h.mu.Unlock()
	return h.Home(), nil
}

// Free reports the space free where folder is or would be made.
func (h *home) Free(folder string) (int64, error) { return h.list.Free(folder) }

// info describes the home node for the Network page (nil when none runs).
func (h *home) info() *web.NodeInfo {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.run == nil || h.run.node == nil {
		return nil
	}
	cells := h.run.node.Cells()
	ni := &web.NodeInfo{ID: string(cells[0].ID())}
	for _, c := range cells {
		ni.Cells = append(ni.Cells, c.Status())
	}
	return ni
}

// nodeInfo is the Network page's node: the home node when it runs, else
// other (the solo node, if any).
func (h *home) nodeInfo(other func() *web.NodeInfo) func() *web.NodeInfo {
	return func() *web.NodeInfo {
		if ni := h.info(); ni != nil {
			return ni
		}
		return other()
	}
}

// suggestFolder is the folder offered to a person allowing home mode.
func suggestFolder() string {
	dir, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "BorgHUI node")
}
