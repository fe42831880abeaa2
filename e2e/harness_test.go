package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/borgios/borghui/internal/testvec"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// borghui builds the binary once per test run.
func borghui(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "borghui-e2e-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "borghui")
		cmd := exec.Command("go", "build", "-o", binPath, ".")
		cmd.Dir = testvec.Root(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// syncBuffer collects a process's output safely across goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// conduitProc is one running borghui process.
type conduitProc struct {
	cmd    *exec.Cmd
	URL    string // one-time launch URL
	Base   string
	stdout syncBuffer
	stderr syncBuffer
	done   chan error
}

// startConduit runs borghui on a free loopback port with dataDir and waits
// for its launch URL.
func startConduit(t *testing.T, dataDir, stdin string, extra ...string) *conduitProc {
	t.Helper()
	args := append([]string{"--no-browser", "--listen", "127.0.0.1:0", "--data", dataDir, "--test-kdf"}, extra...)
	return startProc(t, exec.Command(borghui(t), args...), stdin)
}

// startProc runs cmd (a borghui conduit) and waits for its launch URL.
func startProc(t *testing.T, cmd *exec.Cmd, stdin string) *conduitProc {
	t.Helper()
	p := &conduitProc{cmd: cmd, done: make(chan error, 1)}
	p.cmd.Stdin = strings.NewReader(stdin)
	p.cmd.Stderr = &p.stderr
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urls := make(chan [2]string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		var base string
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(&p.stdout, line)
			if b, ok := strings.CutPrefix(line, "BorgHUI is running at "); ok {
				base = b
			}
			if u, ok := strings.CutPrefix(line, "Open BorgHUI: "); ok {
				urls <- [2]string{u, base}
			}
		}
		_, _ = io.Copy(io.Discard, out)
		p.done <- p.cmd.Wait()
	}()
	select {
	case u := <-urls:
		p.URL, p.Base = u[0], u[1]
	case err := <-p.done:
		t.Fatalf("borghui exited before listening: %v\nstderr:\n%s", err, p.stderr.String())
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		t.Fatalf("borghui did not print its launch URL\nstderr:\n%s", p.stderr.String())
	}
	t.Cleanup(func() { p.stop(t) })
	return p
}

// stop asks borghui to quit (SIGTERM) and waits for it.
func (p *conduitProc) stop(t *testing.T) {
	t.Helper()
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		t.Errorf("borghui did not stop on SIGTERM")
	}
}

// runCLI runs a borghui sub-command with stdin and returns its stdout.
func runCLI(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(borghui(t), args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("%v: %s", err, stderr.String())
	}
	return string(out), nil
}

// browser starts headless Chromium with a throwaway profile, for at most
// two minutes.
func browser(t *testing.T) context.Context {
	t.Helper()
	return browserFor(t, 2*time.Minute)
}

// browserFor starts headless Chromium for at most d.
func browserFor(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	path := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		if os.Getenv("BORGHUI_REQUIRE_BROWSER") == "1" {
			t.Fatal("Chromium is required for the browser tests: apt-get install chromium")
		}
		t.Skip("no Chromium on PATH (apt-get install chromium); skipping browser test")
	}
	// The profile is removed after Chromium has exited (t.TempDir's cleanup
	// can race with Chromium's last writes).
	profile, err := os.MkdirTemp("", "borghui-e2e-profile-")
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1100, 1400),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	ctx, cancelC := context.WithTimeout(ctx, d)
	t.Cleanup(func() {
		cancelC()
		cancelB()
		cancelA()
		for i := 0; i < 20 && os.RemoveAll(profile) != nil; i++ {
			time.Sleep(100 * time.Millisecond)
		}
	})
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

// shot saves a full-page screenshot as a test artifact.
func shot(t *testing.T, ctx context.Context, name string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		// A full-page capture (beyond the viewport) now and then never
		// returns in headless Chromium; give it a few seconds, then take
		// the viewport, which the 1100×1400 window makes most of a page.
		var buf []byte
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := chromedp.FullScreenshot(&buf, 100).Do(sctx) // quality 100 gives PNG
		cancel()
		if err != nil && ctx.Err() == nil {
			if err := chromedp.CaptureScreenshot(&buf).Do(ctx); err != nil {
				return err
			}
		}
		dir := filepath.Join(testvec.Root(t), "artifacts", "e2e")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644)
	})
}
