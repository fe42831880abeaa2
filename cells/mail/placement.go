package mail

import (
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"strings"
)

// weight is the rendezvous weight of node for mailbox muid: the first 8
// bytes (big-endian) of SHA-256("borgios/mail/hrw\n" ‖ muid ‖ 0x00 ‖ node
// ID text).
func weight(muid, node string) uint64 {
	h := sha256.New()
	h.Write([]byte("borgios/mail/hrw\n"))
	h.Write([]byte(muid))
	h.Write([]byte{0})
	h.Write([]byte(node))
	var sum [32]byte
	return binary.BigEndian.Uint64(h.Sum(sum[:0]))
}

// Rank orders nodes for mailbox muid by rendezvous (highest-random-weight)
// hashing: the first R distinct nodes are the mailbox's home, where its
// card and its messages live. Duplicate IDs are dropped; ties fall back to
// the node ID. The input is not changed.
func Rank[T any](muid string, nodes []T, nodeID func(T) string) []T {
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
		s = append(s, scored{n, k, weight(muid, k)})
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
func RankMembers(muid string, members []Member) []Member {
	return Rank(muid, members, func(m Member) string { return m.ID })
}
