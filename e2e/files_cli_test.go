package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/borgios/borghui/conduit/files"
)

// TestFilesCommandResumesAfterKill runs `borghui files put` as a real
// process against five shard processes, kills it (SIGKILL) part way, runs
// it again, and checks that it resumed from its journal on the stick
// instead of sending the file again; then the same for `files get`, and
// the file comes back byte for byte.
func TestFilesCommandResumesAfterKill(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	fn := startFilesNet(t, ctx)
	stick := t.TempDir()
	const words = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon art"
	const pass = "correct horse battery staple 42"
	if _, err := runCLI(t, words+"\n\n"+pass+"\n", "identity", "restore", "--data", stick, "--test-kdf"); err != nil {
		t.Fatal(err)
	}
	const size = 96 << 20
	src := filepath.Join(t.TempDir(), "film.bin")
	plain := make([]byte, size)
	rand.Read(plain)
	if err := os.WriteFile(src, plain, 0o600); err != nil {
		t.Fatal(err)
	}
	args := func(verb string, rest ...string) []string {
		return append([]string{"files", verb, "--data", stick, "--join", fn.recp, "--progress", "json"}, rest...)
	}

	// 1. put, killed once a quarter is stored.
	killedAt := runUntil(t, pass, args("put", src), size/4)
	journals, _ := filepath.Glob(filepath.Join(stick, "journals", "*.upload"))
	if len(journals) != 1 {
		t.Fatalf("after the kill the stick holds %d upload journals, want 1", len(journals))
	}
	// 2. put again: it resumes.
	out, stderr := runFull(t, pass, args("put", src))
	m := regexp.MustCompile(`resuming: (\d+) chunks`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("the second put did not resume: %s", stderr)
	}
	resumed, _ := strconv.Atoi(m[1])
	if int64(resumed)*files.DefaultChunkSize < killedAt-8*files.DefaultChunkSize {
		t.Fatalf("resumed %d chunks, but %d bytes were reported stored before the kill", resumed, killedAt)
	}
	link := strings.TrimSpace(out)
	if !strings.HasPrefix(link, "borg://cap/") {
		t.Fatalf("put printed %q, not a link", out)
	}
	if journals, _ = filepath.Glob(filepath.Join(stick, "journals", "*")); len(journals) != 0 {
		t.Fatalf("the finished upload left its journal: %v", journals)
	}
	// Nothing was sent twice beyond the chunks in flight at the kill: the
	// nodes hold 3 copies of each chunk and of the manifest, plus at most
	// the window's worth of unjournaled chunks.
	chunks := size / files.DefaultChunkSize
	held := 0
	for _, n := range fn.dn.Nodes() {
		held += countBlobs(t, n.Data)
	}
	if low, high := 3*(chunks+1), 3*(chunks+1)+3*8; held < low || held > high {
		t.Fatalf("the nodes hold %d blobs, want %d..%d (resent chunks would add %d)", held, low, high, 3*resumed)
	}
	t.Logf("killed at %d MiB, resumed %d chunks, %d blobs held", killedAt>>20, resumed, held)

	// 3. get, killed part way, then resumed.
	dst := filepath.Join(t.TempDir(), "film.copy")
	runUntil(t, pass, args("get", link, dst), size/3)
	if _, err := os.Stat(dst); err == nil {
		t.Fatal("an interrupted get left the final file")
	}
	_, stderr = runFull(t, pass, args("get", link, dst))
	if !strings.Contains(stderr, "resuming:") {
		t.Fatalf("the second get did not resume: %s", stderr)
	}
	got, err := os.ReadFile(dst)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("the fetched file differs (%d bytes): %v", len(got), err)
	}
}

// runUntil starts borghui with args, reads its JSON progress on stderr and
// kills it (SIGKILL) once at least after bytes are done; it returns the
// bytes done at the kill. A run that finishes first fails the test.
func runUntil(t *testing.T, stdin string, args []string, after int64) int64 {
	t.Helper()
	cmd := exec.Command(borghui(t), args...)
	cmd.Stdin = strings.NewReader(stdin + "\n")
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(pipe)
	var lines []string
	for sc.Scan() {
		var p files.Progress
		if json.Unmarshal(sc.Bytes(), &p) != nil {
			lines = append(lines, sc.Text())
			continue
		}
		if p.Done >= after && p.Done < p.Total {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			return p.Done
		}
	}
	_ = cmd.Wait()
	t.Fatalf("borghui %s ended before it could be killed: %s", args[1], strings.Join(lines, "\n"))
	return 0
}

// runFull runs borghui with args to the end and returns stdout and the
// non-progress lines of stderr.
func runFull(t *testing.T, stdin string, args []string) (string, string) {
	t.Helper()
	cmd := exec.Command(borghui(t), args...)
	cmd.Stdin = strings.NewReader(stdin + "\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var text []string
	for _, l := range strings.Split(stderr.String(), "\n") {
		if !strings.HasPrefix(l, "{") {
			text = append(text, l)
		}
	}
	if err != nil {
		t.Fatalf("borghui %s: %v: %s", args[1], err, strings.Join(text, "\n"))
	}
	return string(out), strings.Join(text, "\n")
}
