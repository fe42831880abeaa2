// Package treebench measures real PeerTree node processes on loopback for
// `borghui bench tree`: it starts a devnet of N `borghui node` processes,
// joins an in-process node of its own to the same tree, and measures from
// there:
//
//   - joinP50ms: each process's own time from starting its cell to holding a
//     position (its monitor's joinMs), median over the joiners;
//   - rttP50ms: median round trip of signed echo requests to the processes
//     over the persistent connections;
//   - broadcastP99ms: for probe broadcasts from our node, the 99th percentile
//     of the time until each process's acknowledgement arrives (delivery
//     plus the direct way back);
//   - healRootMs, healMiddleMs: time from SIGKILL of the root (then of a
//     node with children) until every survivor's monitor shows one complete
//     tree without it; the nodes run with --loss (default 1%) so the failure
//     detector works under loss, and falseEvictions counts live nodes that
//     were evicted on the way;
//   - bulkMBps: a BulkSize transfer from our node to one process (per-chunk
//     SHA-256, fsync'd on the receiver), rawTLSMBps: raw TLS 1.3 loopback
//     throughput measured in the same run, bulkRatio = bulk / raw.
package treebench
