package main

import (
	"io"

	"github.com/borgios/borghui/peer/sim"
)

// simCmd runs the tree state machine for N nodes with virtual time and an
// in-memory network, and prints what it measured.
func simCmd(args []string, stdout, stderr io.Writer) int {
	return sim.Main(args, stdout, stderr)
}
