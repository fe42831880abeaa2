package conduit

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/borgios/borghui/cells/ftree"
	"github.com/borgios/borghui/cells/ledger"
	"github.com/borgios/borghui/cells/mail"
	"github.com/borgios/borghui/cells/shard"
	"github.com/borgios/borghui/failover"
	"github.com/borgios/borghui/peer"
	"github.com/borgios/borghui/peer/transport"
)

// neededCells are the cells a session cannot open without (crono is
// optional).
var neededCells = []string{shard.CellName, ftree.CellName, mail.CellName, ledger.CellName}

// TryNetwork makes a conduit on the solo network try the network now
// rather than at its next probe (after the person gave a network to join,
// say). It does nothing otherwise.
func (c *Conduit) TryNetwork() {
	select {
	case c.net.kick <- struct{}{}:
	default:
	}
}

// awaitNetwork waits until every needed cell of the network answers at
// one of its endpoints, trying every ten polls and whenever TryNetwork is
// called; false when ctx ends first.
func (c *Conduit) awaitNetwork(ctx context.Context, nc *NetworkConfig) bool {
	every := nc.Poll
	if every <= 0 {
		every = DefaultPoll
	}
	t := time.NewTicker(every * probeEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		case <-c.net.kick:
		}
		err := c.reachable(ctx, nc)
		if err == nil {
			c.log.Info("the network answers; leaving the solo network")
			return true
		}
		if !errors.Is(err, ErrNoNetwork) && ctx.Err() == nil {
			c.log.Info("the network is still out of reach", "err", err)
		}
	}
}

// reachable dials the network's needed cells: nil when each answers at one
// of its endpoints (a dial checks the node's signed card).
func (c *Conduit) reachable(ctx context.Context, nc *NetworkConfig) error {
	eps, err := nc.Endpoints(ctx)
	if err != nil {
		return err
	}
	return c.reachableAt(ctx, eps)
}

// reachableAt is reachable for the endpoints eps.
func (c *Conduit) reachableAt(ctx context.Context, eps Endpoints) error {
	key, err := c.Signer()
	if err != nil {
		return err
	}
	for _, cell := range neededCells {
		var errs []error
		ok := false
		for _, ep := range eps[cell] {
			dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			tc, err := transport.Dial(dctx, ep.Addr, transport.ClientConfig{Key: key, Expect: transport.NodeID(ep.ID)})
			cancel()
			if err == nil {
				tc.Close()
				ok = true
				break
			}
			errs = append(errs, err)
		}
		if !ok {
			return fmt.Errorf("conduit: no %s of the network answered: %w", cell, errors.Join(errs...))
		}
	}
	return nil
}

// EndpointsAt is the network whose node is at addr: every cell's receptor
// there (a bare IP gets each cell's receptor port; HOST:PORT is taken for
// every cell).
func EndpointsAt(addr string) (Endpoints, error) {
	eps := Endpoints{}
	for _, d := range peer.Cells {
		a, err := peer.ParseJoinAddr(addr, peer.DNA{NetPort: d.RecpPort})
		if err != nil {
			return nil, err
		}
		eps[d.Name] = append(eps[d.Name], failover.Endpoint{Addr: a})
	}
	return eps, nil
}

// ErrBadAddress: not an IP address or HOST:PORT.
var ErrBadAddress = errors.New("that is not a node's address; type an IP address, or HOST:PORT")

// ErrNotAnswering: no needed cell of the network given answered.
var ErrNotAnswering = errors.New("conduit: the network does not answer")

// JoinNetwork makes the network whose node is at addr the one to use: when
// every needed cell answers there, it is saved on the stick (for this run
// and the next ones) and a conduit on the solo network moves to it now,
// taking the solo data along.
func (c *Conduit) JoinNetwork(ctx context.Context, addr string) error {
	nc := c.cfg.Network
	if nc == nil {
		return ErrNoNetwork
	}
	eps, err := EndpointsAt(strings.TrimSpace(addr))
	if err != nil || strings.TrimSpace(addr) == "" {
		return fmt.Errorf("%w: %q", ErrBadAddress, addr)
	}
	if err := c.reachableAt(ctx, eps); err != nil {
		return fmt.Errorf("%w: %w", ErrNotAnswering, err)
	}
	if err := failover.Save(filepath.Join(nc.Dir, EndpointsFile), eps.lists()); err != nil {
		return fmt.Errorf("conduit: saving the network: %w", err)
	}
	c.log.Info("network saved; trying it", "addr", addr)
	c.TryNetwork()
	return nil
}
