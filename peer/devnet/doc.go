// Package devnet starts and stops a development network: N real `borghui
// node` processes on loopback, one per 127.0.0.x address (Linux) or one per
// port offset on 127.0.0.1 (elsewhere). The first node founds each cell's
// tree; the others join it. It serves `borghui devnet`, `borghui bench
// tree` and the multi-process tests.
//
// A node reports readiness on stdout with one line per cell:
//
//	node ready cell=<name> id=<node id> net=<host:port> recp=<host:port> mon=<host:port>
//
// Nothing here speaks the network protocol; it only runs processes and reads
// those lines.
package devnet
