package rusage

import (
	"runtime"
	"testing"
)

func TestPeakRSS(t *testing.T) {
	b := make([]byte, 64<<20)
	for i := range b {
		b[i] = 1
	}
	got := PeakRSSMB()
	runtime.KeepAlive(b)
	if runtime.GOOS == "linux" && (got < 64 || got > 4096) {
		t.Fatalf("peak RSS %.1f MiB after touching 64 MiB", got)
	}
}
