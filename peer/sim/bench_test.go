package sim

import (
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/borgios/borghui/peer/tree"
)

func benchRun(b *testing.B, o Options) {
	b.Helper()
	var res Result
	for b.Loop() {
		var err error
		if res, err = Run(o); err != nil {
			b.Fatal(err)
		}
		if res.InvariantViolations != 0 {
			b.Fatalf("%d violations: %v", res.InvariantViolations, res.Violations)
		}
	}
	b.ReportMetric(res.MessagesPerJoin, "msgs/join")
	b.ReportMetric(float64(res.MaxBroadcastHops), "hops")
	b.ReportMetric(res.ConvergeVirtualMs, "converge-virtual-ms")
	b.ReportMetric(float64(res.EventsProcessed), "events")
}

func BenchmarkSim10k(b *testing.B) {
	benchRun(b, Options{Nodes: 10_000, Fanout: 10, Storm: true, Seed: 1})
}

func BenchmarkSim10kLoss(b *testing.B) {
	benchRun(b, Options{Nodes: 10_000, Fanout: 10, Storm: true, Loss: 0.01, Seed: 2})
}

func BenchmarkSim10kChurn(b *testing.B) {
	benchRun(b, Options{Nodes: 10_000, Fanout: 10, Churn: 0.05, Seed: 3})
}

func BenchmarkSim10kPartition(b *testing.B) {
	benchRun(b, Options{Nodes: 10_000, Fanout: 10, Partition: true, Seed: 4})
}

// BenchmarkStorm100k: 10^5 nodes join within one second (default batching).
func BenchmarkStorm100k(b *testing.B) {
	benchRun(b, Options{Nodes: 100_000, Fanout: 10, Storm: true, Seed: 5})
}

// BenchmarkBroadcast1M builds 10^6 nodes by joins (batches of 65536) and
// broadcasts from the root; about 1.5 minutes and 5 GB:
// BORGHUI_SIM_1M=1 go test -run '^$' -bench Broadcast1M ./peer/sim/
func BenchmarkBroadcast1M(b *testing.B) {
	if os.Getenv("BORGHUI_SIM_1M") == "" {
		b.Skip("set BORGHUI_SIM_1M=1")
	}
	benchRun(b, Options{Nodes: 1_000_000, Fanout: 10, Storm: true, Seed: 6, Timing: tree.Timing{MaxBatch: tree.MaxSlots}})
}

// TestFigures prints the figures of the design note as JSON:
// BORGHUI_SIM_FIGURES=1 go test -run TestFigures -v -timeout 30m ./peer/sim/
func TestFigures(t *testing.T) {
	if os.Getenv("BORGHUI_SIM_FIGURES") == "" {
		t.Skip("set BORGHUI_SIM_FIGURES=1")
	}
	runs := []struct {
		name string
		o    Options
	}{
		{"1M broadcast (k=10, built by a join storm, batches of 65536)", Options{Nodes: 1_000_000, Fanout: 10, Storm: true, Seed: 6, Timing: tree.Timing{MaxBatch: tree.MaxSlots}}},
		{"100k join storm (k=10, default batches of 1024)", Options{Nodes: 100_000, Fanout: 10, Storm: true, Seed: 5}},
		{"10k join storm", Options{Nodes: 10_000, Fanout: 10, Storm: true, Seed: 1}},
		{"10k 1% loss for 60 s", Options{Nodes: 10_000, Fanout: 10, Loss: 0.01, Duration: time.Minute, Seed: 2}},
		{"10k 5% churn", Options{Nodes: 10_000, Fanout: 10, Churn: 0.05, Seed: 3}},
		{"10k partition 10 s + heal", Options{Nodes: 10_000, Fanout: 10, Partition: true, Seed: 4}},
		{"10k root + last node die", Options{Nodes: 10_000, Fanout: 10, KillRootAndLast: true, Seed: 7}},
	}
	for _, r := range runs {
		res, err := Run(r.o)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(res)
		t.Logf("%s:\n%s", r.name, b)
		if res.InvariantViolations != 0 {
			t.Errorf("%s: %d violations", r.name, res.InvariantViolations)
		}
	}
}
