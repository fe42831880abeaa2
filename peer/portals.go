package peer

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
)

// A portal list bootstraps a node or a client: for each cell type, some
// nodes to contact. Two formats are read:
//
//   - the reference network's borgPortalsList.dat: a JSON array of
//     {netName, netPort, recpPort, monPort, maxChildren, activeNodes: [{ip,
//     pKey, ...}]}, where pKey is a 65-byte uncompressed key in hex;
//   - ours: {"version": 1, "portals": [{"cell", "nodes": [{"id", "addr",
//     "recp"}]}]}, where id is the node ID (hex of its 65-byte key) and addr
//     and recp are host:port.
//
// A portal is only a hint of where to knock: whoever answers must still
// prove its node key on the TLS connection (its node card), so a stale or
// forged list cannot impersonate a node.

// Portal is one known node of one cell type.
type Portal struct {
	Cell string
	ID   string // node ID (hex of the 65-byte key); may be empty if unknown
	Addr string // host:port of the node-to-node port
	Recp string // host:port of the receptor
}

// maxPortalFile bounds what is read from a portal list file.
const maxPortalFile = 4 << 20

// ReadPortals reads a portal list file in either format.
func ReadPortals(path string) ([]Portal, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("peer: portal list: %w", err)
	}
	defer f.Close()
	data := make([]byte, maxPortalFile+1)
	n, _ := readFull(f, data)
	if n > maxPortalFile {
		return nil, fmt.Errorf("peer: portal list %s is larger than %d bytes", path, maxPortalFile)
	}
	return ParsePortals(data[:n])
}

func readFull(f *os.File, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		k, err := f.Read(buf[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// ParsePortals parses a portal list in either format.
func ParsePortals(data []byte) ([]Portal, error) {
	var probe any
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("peer: portal list is not JSON: %w", err)
	}
	switch probe.(type) {
	case []any:
		return parseReferencePortals(data)
	case map[string]any:
		return parseOurPortals(data)
	}
	return nil, errors.New("peer: portal list is neither a reference list nor ours")
}

type referencePortal struct {
	NetName     string `json:"netName"`
	NetPort     *int   `json:"netPort"`
	RecpPort    *int   `json:"recpPort"`
	ActiveNodes []struct {
		IP   string `json:"ip"`
		PKey string `json:"pKey"`
	} `json:"activeNodes"`
}

func parseReferencePortals(data []byte) ([]Portal, error) {
	var list []referencePortal
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("peer: reference portal list: %w", err)
	}
	var out []Portal
	for _, cell := range list {
		dna, err := LookupDNA(cell.NetName)
		if err != nil {
			continue // cells we do not run (chat, memory, apache) are skipped
		}
		net, recp := dna.NetPort, dna.RecpPort
		if cell.NetPort != nil {
			net = *cell.NetPort
		}
		if cell.RecpPort != nil {
			recp = *cell.RecpPort
		}
		for _, n := range cell.ActiveNodes {
			ip, err := netip.ParseAddr(n.IP)
			if err != nil {
				continue // the reference wrote "ext=>int" and other forms we cannot dial
			}
			p := Portal{Cell: dna.Name,
				Addr: netip.AddrPortFrom(ip, uint16(net)).String(),
				Recp: netip.AddrPortFrom(ip, uint16(recp)).String()}
			if validNodeID(n.PKey) {
				p.ID = n.PKey
			}
			out = append(out, p)
		}
	}
	return out, nil
}

type ourPortals struct {
	Version int `json:"version"`
	Portals []struct {
		Cell  string `json:"cell"`
		Nodes []struct {
			ID   string `json:"id"`
			Addr string `json:"addr"`
			Recp string `json:"recp"`
		} `json:"nodes"`
	} `json:"portals"`
}

func parseOurPortals(data []byte) ([]Portal, error) {
	var f ourPortals
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("peer: portal list: %w", err)
	}
	if f.Version != 1 {
		return nil, fmt.Errorf("peer: portal list version %d is not supported", f.Version)
	}
	var out []Portal
	for _, cell := range f.Portals {
		dna, err := LookupDNA(cell.Cell)
		if err != nil {
			return nil, err
		}
		for _, n := range cell.Nodes {
			if _, err := netip.ParseAddrPort(n.Addr); err != nil {
				return nil, fmt.Errorf("peer: portal list: node address %q: %w", n.Addr, err)
			}
			if n.Recp != "" {
				if _, err := netip.ParseAddrPort(n.Recp); err != nil {
					return nil, fmt.Errorf("peer: portal list: receptor address %q: %w", n.Recp, err)
				}
			}
			if n.ID != "" && !validNodeID(n.ID) {
				return nil, fmt.Errorf("peer: portal list: node id %.16q… is not a 65-byte key in hex", n.ID)
			}
			out = append(out, Portal{Cell: dna.Name, ID: n.ID, Addr: n.Addr, Recp: n.Recp})
		}
	}
	return out, nil
}

// WritePortals writes portals in our format.
func WritePortals(path string, portals []Portal) error {
	var f ourPortals
	f.Version = 1
	idx := map[string]int{}
	for _, p := range portals {
		i, ok := idx[p.Cell]
		if !ok {
			i = len(f.Portals)
			idx[p.Cell] = i
			f.Portals = append(f.Portals, struct {
				Cell  string `json:"cell"`
				Nodes []struct {
					ID   string `json:"id"`
					Addr string `json:"addr"`
					Recp string `json:"recp"`
				} `json:"nodes"`
			}{Cell: p.Cell})
		}
		f.Portals[i].Nodes = append(f.Portals[i].Nodes, struct {
			ID   string `json:"id"`
			Addr string `json:"addr"`
			Recp string `json:"recp"`
		}{p.ID, p.Addr, p.Recp})
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

func validNodeID(s string) bool {
	if len(s) != 130 || s[:2] != "04" {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// ParseJoinAddr accepts host:port or a bare IP (which gets the cell's net
// port) as given to --join.
func ParseJoinAddr(s string, dna DNA) (string, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.String(), nil
	}
	if ip, err := netip.ParseAddr(s); err == nil {
		return netip.AddrPortFrom(ip, uint16(dna.NetPort)).String(), nil
	}
	return "", fmt.Errorf("peer: --join %q is neither host:port nor an IP address", s)
}
