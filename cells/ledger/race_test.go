//go:build race

package ledger

// raceEnabled: the race detector slows ECDSA about fifteenfold, so the
// network tests pace their load to keep the tree's failure detector fed.
const raceEnabled = true
