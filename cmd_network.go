package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/borgios/borghui/conduit"
	"github.com/borgios/borghui/failover"
	"github.com/borgios/borghui/peer"
)

// receptorTargets turns the conduit's --join flags into receptor endpoints
// per cell: a bare IP names a node with every cell on its usual receptor
// port; CELL=HOST:PORT one cell's receptor.
func receptorTargets(flags []string) (conduit.Endpoints, error) {
	eps := conduit.Endpoints{}
	for _, f := range flags {
		cell, addr, scoped := strings.Cut(f, "=")
		if scoped {
			if !knownCell(cell) {
				return nil, fmt.Errorf("--join %q: unknown cell %q", f, cell)
			}
			if _, err := peer.ParseJoinAddr(addr, peer.DNA{}); err != nil || !strings.Contains(addr, ":") {
				return nil, fmt.Errorf("--join %q: want CELL=HOST:PORT", f)
			}
			eps[cell] = append(eps[cell], failover.Endpoint{Addr: addr})
			continue
		}
		at, err := conduit.EndpointsAt(f)
		if err != nil {
			return nil, err
		}
		for cell, es := range at {
			eps[cell] = append(eps[cell], es...)
		}
	}
	return eps, nil
}

func knownCell(name string) bool {
	for _, d := range peer.Cells {
		if d.Name == name {
			return true
		}
	}
	return false
}

// networkEndpoints says where the cells are: the --join flags, else the
// endpoints the last session saved on the stick.
func networkEndpoints(flags conduit.Endpoints, saved string) func(context.Context) (conduit.Endpoints, error) {
	return func(context.Context) (conduit.Endpoints, error) {
		if len(flags) > 0 {
			return flags, nil
		}
		lists, err := failover.Load(saved)
		if errors.Is(err, fs.ErrNotExist) || err == nil && len(lists) == 0 {
			return nil, conduit.ErrNoNetwork
		}
		if err != nil {
			return nil, fmt.Errorf("reading the saved network: %w", err)
		}
		return conduit.Endpoints(lists), nil
	}
}

// savedNetwork reports whether the stick holds endpoints saved by an
// earlier session.
func savedNetwork(path string) bool {
	lists, err := failover.Load(path)
	return err == nil && len(lists) > 0
}
