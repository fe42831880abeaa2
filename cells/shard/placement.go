package shard

import (
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"strings"
)

// weight is the rendezvous weight of node for shard id: the first 8 bytes
// (big-endian) of SHA-256("borgios/shard/hrw\n" ‖ id ‖ node ID text).
func weight(id ID, node string) uint64 {
	h := sha256.New()
	h.Write([]byte("borgios/shard/hrw\n"))
	h.Write(id[:])
	h.Write([]byte(node))
	var sum [32]byte
	return binary.BigEndian.Uint64(h.Sum(sum[:0]))
}

// Rank orders nodes for shard id by rendezvous (highest-random-weight)
// hashing: the first R distinct nodes are the shard's home, the rest the
// order in which repair looks further. Duplicate IDs are dropped; ties
// (never seen in practice) fall back to the node ID. The input is not
// changed.
func Rank[T any](id ID, nodes []T, nodeID func(T) string) []T {
	type scored struct {
		n T
		k string
		w uint64
	}
	seen := make(map[string]bool, len(nodes))
	s := make([]scored, 0, len(nodes))
	for _, n := range nodes {
		k := nodeID(n)
		if seen[k] {
			continue
		}
		seen[k] = true
		s = append(s, scored{n, k, weight(id, k)})
	}
	slices.SortFunc(s, func(a, b scored) int {
		if a.w != b.w {
			if a.w > b.w {
				return -1
			}
			return 1
		}
		return strings.Compare(a.k, b.k)
	})
	out := make([]T, len(s))
	for i, x := range s {
		out[i] = x.n
	}
	return out
}

// RankMembers is Rank over client-side members.
func RankMembers(id ID, members []Member) []Member {
	return Rank(id, members, func(m Member) string { return m.ID })
}
