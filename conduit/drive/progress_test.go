package drive

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/borgios/borghui/conduit/files"
)

func TestMeter(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	secs := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	type step struct {
		at   time.Duration // since start
		done int64
		want Progress
	}
	for _, c := range []struct {
		name    string
		total   int64
		resumed int // chunks of 100 bytes a journal records as finished
		steps   []step
	}{
		{"steady", 1000, 0, []step{
			{500 * time.Millisecond, 50, Progress{Done: 50, Total: 1000, Rate: 100, ETA: secs(9.5)}}, // the average so far
			{time.Second, 100, Progress{Done: 100, Total: 1000, Rate: 100, ETA: secs(9)}},
			{2 * time.Second, 300, Progress{Done: 300, Total: 1000, Rate: 130, ETA: secs(700.0 / 130)}}, // 0.3·200 + 0.7·100
			{2500 * time.Millisecond, 900, Progress{Done: 900, Total: 1000, Rate: 130, ETA: secs(100.0 / 130)}},
			{3 * time.Second, 1000, Progress{Done: 1000, Total: 1000, Rate: 0.3*700 + 0.7*130, ETA: 0}},
		}},
		{"stalled", 1000, 0, []step{
			{time.Second, 500, Progress{Done: 500, Total: 1000, Rate: 500, ETA: secs(1)}},
			{2 * time.Second, 500, Progress{Done: 500, Total: 1000, Rate: 350, ETA: secs(500.0 / 350)}},
		}},
		{"nothing yet", 1000, 0, []step{
			{0, 0, Progress{Done: 0, Total: 1000, Rate: 0, ETA: -1}},
		}},
		{"resumed bytes are not speed", 1000, 2, []step{
			{time.Second, 300, Progress{Done: 300, Total: 1000, Rate: 100, ETA: secs(7)}},
		}},
		{"empty file", 0, 0, []step{
			{0, 0, Progress{Done: 0, Total: 0, ETA: 0}},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			now := start
			var j *files.Journal
			if c.resumed > 0 {
				var err error
				j, err = files.CreateJournal(filepath.Join(t.TempDir(), "j"), files.JournalHeader{
					Kind: "upload", File: files.HexID{1}, Size: c.total, ChunkSize: 100})
				if err != nil {
					t.Fatal(err)
				}
				defer j.Close()
				for i := range c.resumed {
					if err := j.Done(files.JournalChunk{Index: uint32(i), ID: files.HexID{2}, Size: 100 + files.Overhead}); err != nil {
						t.Fatal(err)
					}
				}
			}
			var got Progress
			report := meter(c.total, j, func() time.Time { return now }, func(p Progress) { got = p })
			for i, s := range c.steps {
				now = start.Add(s.at)
				report(s.done)
				if got.Done != s.want.Done || got.Total != s.want.Total || !near(got.Rate, s.want.Rate) || !nearDur(got.ETA, s.want.ETA) {
					t.Fatalf("step %d: %+v, want %+v", i, got, s.want)
				}
			}
		})
	}
	if meter(10, nil, time.Now, nil) != nil {
		t.Fatal("a meter without a progress func")
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

func nearDur(a, b time.Duration) bool {
	d := a - b
	return d < time.Microsecond && d > -time.Microsecond
}
