//go:build !unix

package rusage

// PeakRSSMB is 0 where the figure is not measured (Windows): the
// benchmarks that report it run on Linux.
func PeakRSSMB() float64 { return 0 }
