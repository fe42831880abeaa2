package peer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/borgios/borghui/signer"
)

// Config configures a Node.
type Config struct {
	// Key is the node's identity key.
	Key signer.Key
	// Cells are the cell types this node runs, port offsets applied.
	Cells []DNA
	// IP is the loopback or host address every cell listens on.
	IP string
	// NoListen runs the node without inbound ports (behind NAT): it reaches
	// each tree through Relay[cell], a reachable member's net address.
	NoListen bool
	Relay    map[string]string
	// Join lists, per cell, net addresses of members to join through. A cell
	// with none founds its own tree.
	Join map[string][]string
	// MonitorPublic binds the monitor on IP instead of 127.0.0.1.
	MonitorPublic bool
	// DataDir keeps the cells' contacts between runs ("" keeps nothing).
	DataDir string
	// BulkDir is where bulk transfers sent to this node land ("" disables).
	BulkDir string
	// Loss drops this fraction of outgoing tree messages (fault injection
	// for tests and benchmarks only), standing for lost packets seen by the
	// failure detector and the reliable structural messages. Broadcast hops
	// are exempt: on a live TCP connection a message is not silently lost,
	// and a broken connection is reported as unreachable instead.
	Loss float64
	// Clock is network time; nil means time.Now.
	Clock func() time.Time
	// Log receives events (never secrets).
	Log *slog.Logger
}

// Node is a running PeerTree node with one tree per cell type.
type Node struct {
	cfg   Config
	cells map[string]*Cell
	order []string
	once  sync.Once
}

// Start starts every cell of cfg. On error nothing is left running.
func Start(ctx context.Context, cfg Config) (*Node, error) {
	if cfg.Key == nil || len(cfg.Cells) == 0 {
		return nil, errors.New("peer: a node needs a key and at least one cell")
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.IP == "" {
		cfg.IP = "127.0.0.1"
	}
	n := &Node{cfg: cfg, cells: make(map[string]*Cell)}
	for _, dna := range cfg.Cells {
		c, err := startCell(ctx, n, dna)
		if err != nil {
			n.Close()
			return nil, fmt.Errorf("peer: starting %s: %w", dna.Name, err)
		}
		n.cells[dna.Name] = c
		n.order = append(n.order, dna.Name)
	}
	return n, nil
}

// Cell returns the named cell, or nil.
func (n *Node) Cell(name string) *Cell { return n.cells[name] }

// Cells returns the node's cells in start order.
func (n *Node) Cells() []*Cell {
	out := make([]*Cell, 0, len(n.order))
	for _, name := range n.order {
		out = append(out, n.cells[name])
	}
	return out
}

// Close leaves every tree gracefully and stops the node. Once it returns
// the node no longer signs with its key, which the caller may wipe.
func (n *Node) Close() error {
	n.once.Do(func() {
		var wg sync.WaitGroup
		for _, c := range n.cells {
			wg.Add(1)
			go func() { defer wg.Done(); c.close() }()
		}
		wg.Wait()
	})
	return nil
}

func hostPort(ip string, port int) string { return net.JoinHostPort(ip, strconv.Itoa(port)) }
