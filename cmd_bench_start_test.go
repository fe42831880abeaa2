package main

import (
	"strings"
	"testing"
	"time"
)

func TestParseProcStatus(t *testing.T) {
	const linux = "Name:\tborghui\nVmPeak:\t 1254000 kB\nVmHWM:\t   26000 kB\nVmRSS:\t   25000 kB\nRssAnon:\t   10000 kB\nRssFile:\t   15000 kB\nRssShmem:\t       0 kB\nThreads:\t10\n"
	tests := []struct {
		name    string
		text    string
		want    procMem
		wantErr string
	}{
		{"linux", linux, procMem{RSS: 25.6, HWM: 26.624, Anon: 10.24, File: 15.36}, ""},
		{"no breakdown", "VmHWM:\t2000 kB\nVmRSS:\t1000 kB\n", procMem{RSS: 1.024, HWM: 2.048}, ""},
		{"empty", "", procMem{}, "no VmRSS"},
		{"rss only", "VmRSS:\t1000 kB\n", procMem{}, "no VmRSS"},
		{"not kB", "VmHWM:\t2000 kB\nVmRSS:\t1000 MB\n", procMem{}, `VmRSS is "1000 MB"`},
		{"not a number", "VmHWM:\tlots kB\nVmRSS:\t1000 kB\n", procMem{}, "want a number of kB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseProcStatus(tt.text)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !sameMB(got.RSS, tt.want.RSS) || !sameMB(got.HWM, tt.want.HWM) || !sameMB(got.Anon, tt.want.Anon) || !sameMB(got.File, tt.want.File) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func sameMB(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

func TestRunningAt(t *testing.T) {
	tests := []struct {
		line string
		want string
		ok   bool
	}{
		{"BorgHUI is running at http://127.0.0.1:41234", "http://127.0.0.1:41234", true},
		{"BorgHUI is running at http://127.0.0.1:41234\r", "http://127.0.0.1:41234", true},
		{"Open BorgHUI: http://127.0.0.1:41234/launch?token=x", "", false},
		{"BorgHUI is already running from this stick.", "", false},
		{"BorgHUI is running at ", "", false},
	}
	for _, tt := range tests {
		got, ok := runningAt(tt.line)
		if ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("runningAt(%q) = %q, %v; want %q, %v", tt.line, got, ok, tt.want, tt.ok)
		}
	}
}

func TestSummarize(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var ds []time.Duration
		for _, x := range v {
			ds = append(ds, time.Duration(x)*time.Millisecond)
		}
		return ds
	}
	tests := []struct {
		name        string
		in          []time.Duration
		lo, p50, hi float64
	}{
		{"none", nil, 0, 0, 0},
		{"one", ms(7), 7, 7, 7},
		{"two", ms(9, 3), 3, 3, 9},
		{"odd", ms(5, 1, 3), 1, 3, 5},
		{"ten unsorted", ms(10, 1, 9, 2, 8, 3, 7, 4, 6, 5), 1, 5, 10},
	}
	for _, tt := range tests {
		in := append([]time.Duration(nil), tt.in...)
		lo, p50, hi := summarize(tt.in)
		if lo != tt.lo || p50 != tt.p50 || hi != tt.hi {
			t.Errorf("%s: summarize = %v/%v/%v, want %v/%v/%v", tt.name, lo, p50, hi, tt.lo, tt.p50, tt.hi)
		}
		for i := range in {
			if in[i] != tt.in[i] {
				t.Fatalf("%s: summarize reordered its input", tt.name)
			}
		}
	}
}

func TestPercentileIndex(t *testing.T) {
	tests := []struct {
		n    int
		p    float64
		want int
	}{
		{1, 50, 0}, {10, 50, 4}, {10, 90, 8}, {10, 99, 9}, {10, 100, 9}, {10, 0, 0}, {100, 99, 98}, {3, 50, 1},
	}
	for _, tt := range tests {
		if got := percentileIndex(tt.n, tt.p); got != tt.want {
			t.Errorf("percentileIndex(%d, %v) = %d, want %d", tt.n, tt.p, got, tt.want)
		}
	}
}

func TestTailBuffer(t *testing.T) {
	b := &tailBuffer{max: 8}
	for _, s := range []string{"abc", "defgh", "ijk"} {
		if n, err := b.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
	}
	if got := b.String(); got != "defghijk" {
		t.Fatalf("tail = %q, want the last 8 bytes", got)
	}
}

func TestStartResultString(t *testing.T) {
	r := startResult{Binary: "borghui", IdleSeconds: 5, GoalStartMs: startGoalMs, GoalRSSMB: rssGoalMB, Cases: []startCase{
		{Name: "locked", Runs: 10, ListenMinMs: 7, ListenP50Ms: 9, ListenMaxMs: 13, Mem: procMem{RSS: 13.6}},
		{Name: "unlocked", Runs: 1, ListenMinMs: 30, ListenP50Ms: 30, ListenMaxMs: 30, ConnectedMs: 60, Mem: procMem{RSS: 45}},
	}}
	out := r.String()
	for _, want := range []string{"listen min ms", "locked", "< 150 ms (met, worst 30.0)", "< 40 MB (MISSED, worst 45.0)"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}
