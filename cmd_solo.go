package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/borgios/borghui/conduit"
	"github.com/borgios/borghui/failover"
	"github.com/borgios/borghui/peer"
	"github.com/borgios/borghui/usbboot"
	"github.com/borgios/borghui/web"
)

// soloPassphrase protects the solo node's key on the stick. The solo
// node's key guards no secret of the person's (files and mail are sealed
// before they reach any cell), so a fixed passphrase is enough.
const soloPassphrase = "borghui solo node"

// soloOffsets are the port offsets tried for the solo node, so it does
// not collide with a node of a real network on the same computer.
var soloOffsets = []int{30000, 31000, 32000, 33000, 34000}

// solo is a complete one-node network of every cell on 127.0.0.1, started
// the first time the conduit needs a network and finds none: files, mail
// and wallet work from the first double-click.
type solo struct {
	layout  usbboot.Layout
	testKDF bool
	log     *slog.Logger

	mu    sync.Mutex
	node  *peer.Node
	stop  func()
	close func()
}

// endpoints starts the node (once) and returns its receptors.
func (s *solo) endpoints(ctx context.Context) (conduit.Endpoints, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.node == nil {
		if err := s.start(); err != nil {
			return nil, err
		}
	}
	eps := conduit.Endpoints{}
	for _, c := range s.node.Cells() {
		eps[c.Name()] = []failover.Endpoint{{Addr: c.ReceptorAddr(), ID: string(c.ID())}}
	}
	return eps, nil
}

func (s *solo) start() error {
	dir := filepath.Join(s.layout.Data, "solo")
	key, err := conduit.OpenNodeKey(dir, []byte(soloPassphrase), s.testKDF)
	if err != nil {
		return fmt.Errorf("solo node key: %w", err)
	}
	var errs []error
	for _, off := range soloOffsets {
		dnas, err := peer.CellsAt(off)
		if err != nil {
			key.Destroy()
			return err
		}
		clock := conduit.NewNetClock(time.Now)
		ctx, cancel := context.WithCancel(context.Background())
		node, err := peer.Start(ctx, peer.Config{Key: key, Cells: dnas, IP: "127.0.0.1", Clock: clock.Now,
			DataDir: dir, BulkDir: filepath.Join(dir, "bulk"), Log: s.log})
		if err != nil {
			cancel()
			errs = append(errs, err)
			continue
		}
		stopCells, err := conduit.MountCellServers(node, conduit.CellsConfig{Dir: dir, Clock: clock, Key: key, Log: s.log})
		if err != nil {
			node.Close()
			cancel()
			key.Destroy()
			return fmt.Errorf("solo cells: %w", err)
		}
		s.node, s.stop = node, stopCells
		s.close = func() { stopCells(); node.Close(); cancel(); key.Destroy() }
		s.log.Info("solo network running on this computer", "portOffset", off)
		return nil
	}
	key.Destroy()
	return fmt.Errorf("solo node: no free ports: %w", errors.Join(errs...))
}

// info describes the solo node for the Network page (nil before it runs).
func (s *solo) info() *web.NodeInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.node == nil {
		return nil
	}
	cells := s.node.Cells()
	ni := &web.NodeInfo{ID: string(cells[0].ID())}
	for _, c := range cells {
		ni.Cells = append(ni.Cells, c.Status())
	}
	return ni
}

// Close stops the node, if it runs.
func (s *solo) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.close != nil {
		s.close()
		s.node, s.close = nil, nil
	}
}
