package conduit

import (
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/borgios/borghui/cells/ftree"
	"github.com/borgios/borghui/cells/shard"
	"github.com/borgios/borghui/peer"
)

// MountCellServers puts the server of each cell type the node runs on its
// tree: shard storage and file maps, with their data under dataDir. The
// returned function stops them (before the node closes).
func MountCellServers(n *peer.Node, dataDir string, log *slog.Logger) (stop func(), err error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var stops []func()
	stop = func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	if c := n.Cell(shard.CellName); c != nil {
		s, err := shard.Mount(c, shard.Config{Dir: filepath.Join(dataDir, "shard"), Log: log.With("cell", shard.CellName)})
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
	return stop, nil
}
