package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
)

// startProfile writes a CPU profile of this process to
// $BORGHUI_CPUPROFILE/<command>-<pid>.pprof when that variable names a
// folder; it is how the throughput of node processes under `borghui bench`
// is looked into. The returned function stops it (a no-op when off).
func startProfile(args []string) func() {
	dir := os.Getenv("BORGHUI_CPUPROFILE")
	if dir == "" {
		return func() {}
	}
	name := "conduit"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name = args[0]
	}
	f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s-%d.pprof", name, os.Getpid())))
	if err != nil {
		fmt.Fprintln(os.Stderr, "borghui: cpu profile:", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, "borghui: cpu profile:", err)
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
