// Package peer is the PeerTree node of BorgHUI Conduit: the body of every
// full cell.
//
// A Node runs one tree per cell type it hosts. For each it drives the pure
// state machine of package tree with the real clock and the network of
// package transport (TLS 1.3 bound to the node key, persistent framed
// connections, every message a verified signer envelope), serves the
// receptor that cells plug request handlers into, and a read-only monitor.
// Bulk data moves with package bulk over authenticated streams. See
// DESIGN.md for the contracts between these packages.
//
// The cell types' fixed DNA (ports and fan-out) is in [Cells]; a port offset
// lets many nodes share one host. A portal list (the reference network's
// borgPortalsList.dat, or ours) bootstraps a node.
package peer
