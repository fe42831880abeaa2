// Package rusage reports the process's peak resident memory, for the
// benchmarks' memory figures, on every platform the binary is built for.
package rusage
