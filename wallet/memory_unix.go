//go:build unix

package wallet

import "golang.org/x/sys/unix"

// raiseMemlockLimit lifts the soft RLIMIT_MEMLOCK to the hard limit: many
// systems ship a small soft limit that a process may raise on its own.
func raiseMemlockLimit() {
	var lim unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_MEMLOCK, &lim) != nil || lim.Cur >= lim.Max {
		return
	}
	lim.Cur = lim.Max
	_ = unix.Setrlimit(unix.RLIMIT_MEMLOCK, &lim)
}
