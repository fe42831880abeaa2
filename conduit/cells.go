package conduit

import (
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/borgios/borghui/cells/crono"
	"github.com/borgios/borghui/cells/ftree"
	"github.com/borgios/borghui/cells/ledger"
	"github.com/borgios/borghui/cells/mail"
	"github.com/borgios/borghui/cells/shard"
	"github.com/borgios/borghui/peer"
	"github.com/borgios/borghui/signer"
)

// CellsConfig configures the cell servers of a node.
type CellsConfig struct {
	// Dir is the node's data folder; each cell keeps its data below it.
	Dir string
	// Clock is the node's network clock: the crono cell, when the node
	// runs it, becomes its offset source. Nil: the host clock.
	Clock *NetClock
	// Key is the node's key: the ledger signs the blocks it makes with it.
	Key signer.Key
	// NetworkKey is the network wallet's public key (65 bytes), from which
	// the ledger's genesis derives; nil: the development network's
	// (DevNetworkWallet), whose shells are play money.
	NetworkKey []byte
	// ShardCapacity bounds the bytes the shard cell keeps for the whole
	// network (a home node's quota); 0 means no bound.
	ShardCapacity int64
	Log           *slog.Logger
}

// MountCellServers puts the server of each cell type the node runs on its
// tree, with their data under cfg.Dir. The returned function stops them
// (before the node closes).
func MountCellServers(n *peer.Node, cfg CellsConfig) (stop func(), err error) {
	log, dataDir := cfg.Log, cfg.Dir
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = NewNetClock(nil)
	}
	var stops []func()
	stop = func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	if c := n.Cell(shard.CellName); c != nil {
		s, err := shard.Mount(c, shard.Config{Dir: filepath.Join(dataDir, "shard"), Capacity: cfg.ShardCapacity, Log: log.With("cell", shard.CellName)})
		if err != nil {
			stop()
			return nil, fmt.Errorf("conduit: shard cell: %w", err)
		}
		stops = append(stops, func() { s.Close() })
	}
	if c := n.Cell(ftree.CellName); c != nil {
		s, err := ftree.NewServer(ftree.ServerConfig{Dir: filepath.Join(dataDir, "ftree"), Log: log.With("cell", ftree.CellName)})
		if err != nil {
			stop()
			return nil, fmt.Errorf("conduit: ftree cell: %w", err)
		}
		if err := s.Mount(c); err != nil {
			s.Close()
			stop()
			return nil, fmt.Errorf("conduit: ftree cell: %w", err)
		}
		stops = append(stops, func() { s.Close() })
	}
	if c := n.Cell(ledger.CellName); c != nil {
		netKey := cfg.NetworkKey
		if netKey == nil {
			dev, err := DevNetworkWallet()
			if err != nil {
				stop()
				return nil, err
			}
			netKey = dev.PublicKey()
			dev.Destroy()
		}
		s, err := ledger.Mount(c, ledger.Config{Dir: filepath.Join(dataDir, "ledger"), Key: cfg.Key, NetworkKey: netKey,
			Clock: cfg.Clock.Now, Log: log.With("cell", ledger.CellName)})
		if err != nil {
			stop()
			return nil, fmt.Errorf("conduit: ledger cell: %w", err)
		}
		stops = append(stops, func() { s.Close() })
	}
	if c := n.Cell(mail.CellName); c != nil {
		s, err := mail.Mount(c, mail.Config{Dir: filepath.Join(dataDir, "mail"), Clock: cfg.Clock.Now, Log: log.With("cell", mail.CellName)})
		if err != nil {
			stop()
			return nil, fmt.Errorf("conduit: mail cell: %w", err)
		}
		stops = append(stops, func() { s.Close() })
	}
	if c := n.Cell(crono.CellName); c != nil {
		s, err := crono.Mount(c, crono.Config{HostClock: cfg.Clock.Host, Log: log.With("cell", crono.CellName)})
		if err != nil {
			stop()
			return nil, fmt.Errorf("conduit: crono cell: %w", err)
		}
		cfg.Clock.Follow(s.Offset)
		stops = append(stops, func() { s.Close() })
	}
	return stop, nil
}
