//go:build unix

package rusage

import (
	"runtime"
	"syscall"
)

// PeakRSSMB is the process's peak resident set size in MiB (0 if the
// system does not say).
func PeakRSSMB() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	if runtime.GOOS == "darwin" {
		return float64(ru.Maxrss) / (1 << 20) // bytes
	}
	return float64(ru.Maxrss) / 1024 // KiB
}
