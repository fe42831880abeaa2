package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"
)

// The goals for the conduit's start and idle memory.
const (
	startGoalMs = 150 // cold start to listening, excluding the KDF
	rssGoalMB   = 40  // idle RSS after unlock
)

// benchStartWords is the identity the benchmark restores: a public BIP39
// test vector (the e2e tests' alice), never a real person's.
const (
	benchStartWords = "legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth title"
	benchStartPass  = "bench start passphrase 123"
)

// startOptions is what `borghui bench start` measures.
type startOptions struct {
	Binary  string
	Runs    int           // locked starts timed
	Idle    time.Duration // idle time before the RSS is read
	RealKDF bool          // also unlock once with the real KDF
	Verbose io.Writer     // the conduits' stderr is copied here (nil: kept for errors only)
}

// startCase is one way of starting the conduit and what it cost.
type startCase struct {
	Name string `json:"name"`
	Runs int    `json:"runs"`
	// Exec to the "BorgHUI is running at" line.
	ListenMinMs float64 `json:"listenMinMs"`
	ListenP50Ms float64 `json:"listenP50Ms"`
	ListenMaxMs float64 `json:"listenMaxMs"`
	// Exec to the solo session connected (0: not asked).
	ConnectedMs float64 `json:"connectedMs,omitempty"`
	// Memory after idling, in MB (10^6 bytes), from /proc/PID/status.
	Mem procMem `json:"memory"`
	// RealKDF: the start ran the keystores' real Argon2id; its listen
	// time includes the KDF, so the start goal does not apply to it.
	RealKDF bool `json:"realKdf,omitempty"`
}

// startResult is the output of `borghui bench start`.
type startResult struct {
	Binary      string      `json:"binary"`
	IdleSeconds float64     `json:"idleSeconds"`
	Cases       []startCase `json:"cases"`
	GoalStartMs float64     `json:"goalStartMs"`
	GoalRSSMB   float64     `json:"goalRssMB"`
}

// procMem is a process's memory, in MB (10^6 bytes).
type procMem struct {
	RSS  float64 `json:"rssMB"`     // VmRSS: resident now
	HWM  float64 `json:"peakRssMB"` // VmHWM: the peak resident
	Anon float64 `json:"anonMB"`    // RssAnon: heap, stacks, Go runtime
	File float64 `json:"fileMB"`    // RssFile: the binary's pages, mmapped files (bbolt)
}

// benchStart measures the conduit's cold start to listening and its idle
// resident memory, locked and unlocked on a solo network (issue 7).
func benchStart(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("borghui bench start", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o startOptions
	fs.IntVar(&o.Runs, "runs", 10, "locked starts to time")
	fs.StringVar(&o.Binary, "binary", "", "the borghui binary to measure (default: this one)")
	fs.DurationVar(&o.Idle, "idle", 5*time.Second, "how long a started conduit idles before its memory is read")
	fs.BoolVar(&o.RealKDF, "real-kdf", false, "also restore and unlock an identity with the real KDF (256 MiB Argon2id) and read that conduit's memory")
	verbose := fs.Bool("v", false, "copy the conduits' log (stderr) to this stderr")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if o.Runs < 1 || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "borghui bench start: --runs wants a positive number, and nothing follows the flags")
		return 2
	}
	if o.Binary == "" {
		exe, err := os.Executable()
		if err != nil {
			fmt.Fprintln(stderr, "borghui bench:", err)
			return 1
		}
		o.Binary = exe
	}
	if *verbose {
		o.Verbose = stderr
	}
	return runBench(stdout, stderr, "start", *asJSON, func(ctx context.Context) (startResult, error) {
		return runStartBench(ctx, o)
	}, startResult.String)
}

// runStartBench restores a test identity on a temporary stick, then times
// o.Runs locked starts and two unlocked ones (the first makes the solo
// node on the stick, the second reuses it), reading each kind's memory
// after o.Idle; with o.RealKDF, also one unlocked start of an identity
// restored on a second stick with the real KDF.
func runStartBench(ctx context.Context, o startOptions) (startResult, error) {
	res := startResult{Binary: o.Binary, IdleSeconds: o.Idle.Seconds(), GoalStartMs: startGoalMs, GoalRSSMB: rssGoalMB}
	stick, err := os.MkdirTemp("", "borghui-bench-start-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(stick)
	data := filepath.Join(stick, "BorgData")
	if err := restoreIdentity(ctx, o.Binary, data, true); err != nil {
		return res, err
	}

	locked := startCase{Name: "locked (no KDF)", Runs: o.Runs}
	var took []time.Duration
	for i := range o.Runs {
		p, err := startConduitProc(ctx, o, "", "--no-browser", "--listen", "127.0.0.1:0", "--data", data)
		if err != nil {
			return res, err
		}
		took = append(took, p.listening)
		if i == o.Runs-1 {
			locked.Mem, err = p.idleMem(ctx, o.Idle)
		}
		if serr := p.stop(); err == nil {
			err = serr
		}
		if err != nil {
			return res, err
		}
	}
	locked.ListenMinMs, locked.ListenP50Ms, locked.ListenMaxMs = summarize(took)
	res.Cases = append(res.Cases, locked)

	for _, name := range []string{"unlocked, solo made (test KDF)", "unlocked, solo again (test KDF)"} {
		c, err := unlockedCase(ctx, o, data, true)
		if err != nil {
			return res, err
		}
		c.Name = name
		res.Cases = append(res.Cases, c)
	}
	if o.RealKDF {
		realData := filepath.Join(stick, "real", "BorgData")
		if err := os.Mkdir(filepath.Dir(realData), 0o700); err != nil {
			return res, err
		}
		if err := restoreIdentity(ctx, o.Binary, realData, false); err != nil {
			return res, err
		}
		c, err := unlockedCase(ctx, o, realData, false)
		if err != nil {
			return res, err
		}
		c.Name, c.RealKDF = "unlocked, real KDF", true
		res.Cases = append(res.Cases, c)
	}
	return res, nil
}

// restoreIdentity writes the test identity's keystore in data, with the
// test KDF or the real one.
func restoreIdentity(ctx context.Context, binary, data string, testKDF bool) error {
	args := []string{"identity", "restore", "--data", data}
	if testKDF {
		args = append(args, "--test-kdf")
	}
	restore := exec.CommandContext(ctx, binary, args...)
	restore.Stdin = strings.NewReader(benchStartWords + "\n\n" + benchStartPass + "\n")
	if out, err := restore.CombinedOutput(); err != nil {
		return fmt.Errorf("restoring the test identity: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// unlockedCase starts the conduit unlocked (with the test KDF the unlock
// costs next to nothing), waits for its solo session, idles and reads its
// memory.
func unlockedCase(ctx context.Context, o startOptions, data string, testKDF bool) (startCase, error) {
	c := startCase{Runs: 1}
	args := []string{"--no-browser", "--listen", "127.0.0.1:0", "--data", data, "--unlock-stdin"}
	if testKDF {
		args = append(args, "--test-kdf")
	}
	p, err := startConduitProc(ctx, o, benchStartPass+"\n", args...)
	if err != nil {
		return c, err
	}
	defer p.stop()
	ms := float64(p.listening) / float64(time.Millisecond)
	c.ListenMinMs, c.ListenP50Ms, c.ListenMaxMs = ms, ms, ms
	connected, err := p.waitConnected(ctx, 2*time.Minute)
	if err != nil {
		return c, err
	}
	c.ConnectedMs = float64(connected) / float64(time.Millisecond)
	if c.Mem, err = p.idleMem(ctx, o.Idle); err != nil {
		return c, err
	}
	return c, p.stop()
}

// benchProc is one conduit process started by the benchmark.
type benchProc struct {
	cmd       *exec.Cmd
	began     time.Time
	listening time.Duration // exec to the "BorgHUI is running at" line
	base      string
	launch    string
	stderr    *tailBuffer
	done      chan error
	stopOnce  sync.Once
	stopErr   error
}

// startConduitProc runs the conduit with args and waits for it to listen.
func startConduitProc(ctx context.Context, o startOptions, stdin string, args ...string) (*benchProc, error) {
	p := &benchProc{cmd: exec.CommandContext(ctx, o.Binary, args...), stderr: &tailBuffer{max: 16 << 10}, done: make(chan error, 1)}
	p.cmd.Stdin = strings.NewReader(stdin)
	p.cmd.Stderr = p.stderr
	if o.Verbose != nil {
		p.cmd.Stderr = io.MultiWriter(p.stderr, o.Verbose)
	}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	type urls struct {
		base, launch string
		at           time.Time
	}
	ready := make(chan urls, 1)
	p.began = time.Now()
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", o.Binary, err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		var u urls
		for sc.Scan() {
			if b, ok := runningAt(sc.Text()); ok {
				u.base, u.at = b, time.Now()
			}
			if l, ok := strings.CutPrefix(sc.Text(), "Open BorgHUI: "); ok && u.base != "" {
				u.launch = l
				ready <- u
			}
		}
		_, _ = io.Copy(io.Discard, out)
		p.done <- p.cmd.Wait()
	}()
	select {
	case u := <-ready:
		p.base, p.launch, p.listening = u.base, u.launch, u.at.Sub(p.began)
		return p, nil
	case err := <-p.done:
		return nil, fmt.Errorf("the conduit exited before listening: %v: %s", err, p.stderr.String())
	case <-time.After(30 * time.Second):
		_ = p.stop()
		return nil, fmt.Errorf("the conduit did not listen within 30 s: %s", p.stderr.String())
	case <-ctx.Done():
		_ = p.stop()
		return nil, ctx.Err()
	}
}

// runningAt reads the conduit's "BorgHUI is running at URL" line.
func runningAt(line string) (string, bool) {
	base, ok := strings.CutPrefix(strings.TrimSpace(line), "BorgHUI is running at ")
	return base, ok && strings.HasPrefix(base, "http")
}

// waitConnected opens the launch link and polls the Network section until
// it says connected; it returns the time from exec.
func (p *benchProc) waitConnected(ctx context.Context, limit time.Duration) (time.Duration, error) {
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	if _, err := httpGet(ctx, client, p.launch); err != nil {
		return 0, fmt.Errorf("opening the launch link: %w", err)
	}
	deadline := time.Now().Add(limit)
	for {
		page, err := httpGet(ctx, client, p.base+"/network/status")
		if err != nil {
			return 0, fmt.Errorf("reading the network state: %w", err)
		}
		if strings.Contains(page, `data-state="connected"`) {
			return time.Since(p.began), nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("the solo session did not connect within %v: %s", limit, p.stderr.String())
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case err := <-p.done:
			p.done <- err
			return 0, fmt.Errorf("the conduit exited: %v: %s", err, p.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func httpGet(ctx context.Context, c *http.Client, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %s", req.URL.Path, resp.Status)
	}
	return string(b), err
}

// idleMem lets the conduit idle for d, then reads its memory (zeros where
// /proc is not there).
func (p *benchProc) idleMem(ctx context.Context, d time.Duration) (procMem, error) {
	select {
	case <-ctx.Done():
		return procMem{}, ctx.Err()
	case err := <-p.done:
		p.done <- err
		return procMem{}, fmt.Errorf("the conduit exited while idle: %v: %s", err, p.stderr.String())
	case <-time.After(d):
	}
	if runtime.GOOS != "linux" {
		return procMem{}, nil
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return procMem{}, fmt.Errorf("reading the conduit's memory: %w", err)
	}
	return parseProcStatus(string(b))
}

// stop ends the conduit with SIGTERM (SIGKILL after 10 s) and waits; an
// exit other than a clean one after SIGTERM is an error.
func (p *benchProc) stop() error {
	p.stopOnce.Do(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-p.done:
			if err != nil {
				p.stopErr = fmt.Errorf("the conduit did not stop cleanly: %v: %s", err, p.stderr.String())
			}
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
			p.stopErr = errors.New("the conduit did not stop within 10 s of SIGTERM")
		}
	})
	return p.stopErr
}

// tailBuffer keeps the last max bytes written to it, safely across
// goroutines.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if over := len(t.b) - t.max; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.b))
}

// parseProcStatus reads VmRSS, VmHWM, RssAnon and RssFile (kB) from the
// text of /proc/PID/status, in MB.
func parseProcStatus(text string) (procMem, error) {
	var m procMem
	fields := map[string]*float64{"VmRSS": &m.RSS, "VmHWM": &m.HWM, "RssAnon": &m.Anon, "RssFile": &m.File}
	seen := 0
	for line := range strings.Lines(text) {
		key, val, ok := strings.Cut(line, ":")
		dst := fields[key]
		if !ok || dst == nil {
			continue
		}
		num, ok := strings.CutSuffix(strings.TrimSpace(val), " kB")
		kb, err := strconv.ParseUint(strings.TrimSpace(num), 10, 64)
		if !ok || err != nil {
			return procMem{}, fmt.Errorf("proc status: %s is %q, want a number of kB", key, strings.TrimSpace(val))
		}
		*dst = float64(kb) * 1024 / 1e6
		seen++
	}
	if m.RSS == 0 || seen < 2 {
		return procMem{}, errors.New("proc status: no VmRSS and VmHWM")
	}
	return m, nil
}

// summarize gives the min, median (nearest rank) and max of ds, in ms.
func summarize(ds []time.Duration) (lo, p50, hi float64) {
	if len(ds) == 0 {
		return 0, 0, 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return ms(s[0]), ms(s[percentileIndex(len(s), 50)]), ms(s[len(s)-1])
}

// percentileIndex is the index of the p-th percentile (nearest rank) in a
// sorted slice of n values.
func percentileIndex(n int, p float64) int {
	i := int(math.Ceil(p/100*float64(n))) - 1
	return min(max(i, 0), n-1)
}

// String is the result as one table.
func (r startResult) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "borghui bench start: %s\n", r.Binary)
	fmt.Fprintf(&b, "listen: exec to \"BorgHUI is running at\"; connected: exec to the solo session open; memory after %.0f s idle, MB = 10^6 bytes\n", r.IdleSeconds)
	fmt.Fprintf(&b, "test KDF starts use --test-kdf: the KDF costs next to nothing and is excluded, as the goal says")
	if slices.ContainsFunc(r.Cases, func(c startCase) bool { return c.RealKDF }) {
		fmt.Fprintf(&b, "; the real KDF start's times include its Argon2id runs (listen: the identity's; connected: also the solo node key's)")
	}
	fmt.Fprintf(&b, "\n\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "start\truns\tlisten min ms\tp50 ms\tmax ms\tconnected ms\tRSS MB\tpeak MB\tanon MB\tfile MB\t")
	for _, c := range r.Cases {
		conn := "-"
		if c.ConnectedMs > 0 {
			conn = fmt.Sprintf("%.0f", c.ConnectedMs)
		}
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f\t%.1f\t%s\t%.1f\t%.1f\t%.1f\t%.1f\t\n", c.Name, c.Runs,
			c.ListenMinMs, c.ListenP50Ms, c.ListenMaxMs, conn, c.Mem.RSS, c.Mem.HWM, c.Mem.Anon, c.Mem.File)
	}
	_ = tw.Flush()
	fmt.Fprintf(&b, "\ngoals: cold start to listening < %.0f ms (%s); idle RSS after unlock < %.0f MB (%s)\n",
		r.GoalStartMs, verdict(r.worst(func(c startCase) float64 {
			if c.RealKDF {
				return 0
			}
			return c.ListenP50Ms
		}), r.GoalStartMs),
		r.GoalRSSMB, verdict(r.worst(func(c startCase) float64 {
			if c.ConnectedMs == 0 {
				return 0
			}
			return c.Mem.RSS
		}), r.GoalRSSMB))
	return b.String()
}

// worst is the largest f over the cases.
func (r startResult) worst(f func(startCase) float64) float64 {
	w := 0.0
	for _, c := range r.Cases {
		w = max(w, f(c))
	}
	return w
}

func verdict(got, goal float64) string {
	if got == 0 {
		return "not measured"
	}
	if got < goal {
		return fmt.Sprintf("met, worst %.1f", got)
	}
	return fmt.Sprintf("MISSED, worst %.1f", got)
}
