package peer

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/borgios/borghui/peer/tree"
)

// Status is what the monitor reports about one cell. It is read-only and
// holds nothing secret: the tree view and counters.
type Status struct {
	Cell       string            `json:"cell"`
	ID         string            `json:"id"`
	Addr       string            `json:"addr"`
	Receptor   string            `json:"receptor"`
	Tree       string            `json:"tree"`
	Epoch      uint64            `json:"epoch"`
	Role       string            `json:"role"`
	Pos        int               `json:"pos"`
	Size       int               `json:"size"`
	Root       string            `json:"root"`
	Parent     string            `json:"parent,omitempty"`
	Children   []string          `json:"children"`
	JoinMs     float64           `json:"joinMs"`
	Deliveries map[string]int    `json:"deliveries"`
	Tree2      tree.Counters     `json:"treeCounters"`
	Transport  map[string]uint64 `json:"transportCounters"`
	Dropped    uint64            `json:"injectedDrops"`
}

// Status reports the cell's state.
func (c *Cell) Status() Status {
	c.mu.Lock()
	v, cnt, joined := c.view, c.counters, c.joinedIn
	c.mu.Unlock()
	s := Status{
		Cell: c.dna.Name, ID: string(c.ID()), Addr: c.Addr(), Receptor: c.ReceptorAddr(),
		Tree: v.Tree, Epoch: v.Epoch, Role: v.Role.String(), Pos: v.Pos, Size: v.Size,
		Root: string(v.Root.ID), Parent: string(v.Parent.ID),
		JoinMs:     float64(joined.Microseconds()) / 1000,
		Deliveries: c.Deliveries(),
		Tree2:      cnt,
		Transport:  c.tr.Counters(),
		Dropped:    c.dropped.Load(),
	}
	for _, ch := range v.Children {
		s.Children = append(s.Children, string(ch.ID))
	}
	return s
}

type monitor struct {
	addr string
	srv  *http.Server
}

// startMonitor serves GET /status on the cell's monitor port: on 127.0.0.1
// unless the node allows a public monitor. Nothing on it changes anything.
func startMonitor(c *Cell, cfg Config) (*monitor, error) {
	ip := "127.0.0.1"
	if cfg.MonitorPublic || isLoopback(cfg.IP) {
		ip = cfg.IP
	}
	ln, err := net.Listen("tcp", hostPort(ip, c.dna.MonPort))
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(c.Status())
	})
	m := &monitor{addr: ln.Addr().String(), srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}}
	go func() {
		if err := m.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			c.log.Warn("monitor stopped", "err", err)
		}
	}()
	return m, nil
}

func (m *monitor) close() {
	if m == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = m.srv.Shutdown(ctx)
}

func isLoopback(ip string) bool {
	a := net.ParseIP(ip)
	return a != nil && a.IsLoopback()
}
