package peer

import (
	"fmt"
	"slices"
	"strings"
)

// DNA is the fixed description of a cell type: its tree's name, its three
// ports and its fan-out. Every member of one tree uses the same DNA.
type DNA struct {
	Name        string `json:"netName"`
	NetPort     int    `json:"netPort"`  // node-to-node (the tree)
	RecpPort    int    `json:"recpPort"` // receptor: the client API
	MonPort     int    `json:"monPort"`  // read-only monitor, loopback unless configured
	MaxChildren int    `json:"maxChildren"`
}

// The cell types of BorgIOS, with the reference network's port numbers
// (protocol.md) so existing portal lists keep their meaning.
var (
	ShardCell = DNA{Name: "shardTreeCell", NetPort: 13350, RecpPort: 13355, MonPort: 13340, MaxChildren: 25}
	FtreeCell = DNA{Name: "ftreeFileMgrCell", NetPort: 13351, RecpPort: 13381, MonPort: 13341, MaxChildren: 25}
	PaysCell  = DNA{Name: "peerPaysCell", NetPort: 13390, RecpPort: 13392, MonPort: 13391, MaxChildren: 25}
	MailCell  = DNA{Name: "mailTreeCell", NetPort: 13393, RecpPort: 13395, MonPort: 13394, MaxChildren: 25}
	CronoCell = DNA{Name: "cronoTreeCell", NetPort: 13396, RecpPort: 13397, MonPort: 13398, MaxChildren: 3}
)

// Cells lists every known cell type.
var Cells = []DNA{ShardCell, FtreeCell, PaysCell, MailCell, CronoCell}

// CellsAt returns every cell type with its ports moved by offset (see
// WithOffset), for a node that runs them all.
func CellsAt(offset int) ([]DNA, error) {
	return Offset(Cells, offset)
}

// Offset returns dnas with their ports moved by offset.
func Offset(dnas []DNA, offset int) ([]DNA, error) {
	out := make([]DNA, len(dnas))
	for i, d := range dnas {
		var err error
		if out[i], err = d.WithOffset(offset); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// LookupDNA finds a cell type by name (case-insensitive).
func LookupDNA(name string) (DNA, error) {
	for _, d := range Cells {
		if strings.EqualFold(d.Name, name) {
			return d, nil
		}
	}
	names := make([]string, len(Cells))
	for i, d := range Cells {
		names[i] = d.Name
	}
	return DNA{}, fmt.Errorf("peer: unknown cell %q (known: %s)", name, strings.Join(names, ", "))
}

// ParseCells parses a comma-separated list of cell names; "all" means every
// cell type.
func ParseCells(list string) ([]DNA, error) {
	if strings.TrimSpace(list) == "all" {
		return slices.Clone(Cells), nil
	}
	var out []DNA
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		d, err := LookupDNA(name)
		if err != nil {
			return nil, err
		}
		if !slices.ContainsFunc(out, func(x DNA) bool { return x.Name == d.Name }) {
			out = append(out, d)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("peer: no cells named")
	}
	return out, nil
}

// WithOffset returns the DNA with every port moved by offset, so several
// nodes can run on one host. The offset must keep ports in range.
func (d DNA) WithOffset(offset int) (DNA, error) {
	for _, p := range []int{d.NetPort, d.RecpPort, d.MonPort} {
		if p+offset < 1 || p+offset > 65535 {
			return DNA{}, fmt.Errorf("peer: port offset %d moves port %d out of range", offset, p)
		}
	}
	d.NetPort += offset
	d.RecpPort += offset
	d.MonPort += offset
	return d, nil
}
