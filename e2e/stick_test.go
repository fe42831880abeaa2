package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/borgios/borghui/internal/fattest"
	"github.com/borgios/borghui/internal/seglog"
)

// TestPullOutFAT: the stick is a real FAT filesystem (an image made by
// mkfs.vfat, mounted with fusefat) holding the binary, which runs from
// it as a guest on a 3-node network. Mid-upload the stick is detached:
// the conduit wipes its keys and exits. Mounted again, the keystore
// unlocks, the upload's journal holds the chunks stored before the pull,
// and sending the same file again continues from them; the file reads
// back whole.
func TestPullOutFAT(t *testing.T) {
	stick := fattest.New(t, 512<<20)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	dn := startNet(t, ctx, "all", 3, nil)
	waitMembers(t, ctx, dn.Nodes()[0].Endpoints, 3)
	var joins []string
	for _, n := range dn.Nodes() {
		joins = append(joins, "--join", n.IP)
	}

	bin := filepath.Join(stick.Dir, "borghui")
	copyFile(t, borghui(t), bin)
	data := filepath.Join(stick.Dir, "BorgData")
	// No --data: the keystore goes in BorgData beside the binary.
	restore := exec.Command(bin, "identity", "restore", "--test-kdf")
	restore.Stdin = strings.NewReader(aliceWords + "\n\n" + uiPass + "\n")
	if out, err := restore.CombinedOutput(); err != nil {
		t.Fatalf("restore on the stick: %v\n%s", err, out)
	}
	// No --data: the conduit finds BorgData beside the binary.
	start := func() (*conduitProc, *http.Client) {
		args := append([]string{"--no-browser", "--listen", "127.0.0.1:0", "--test-kdf", "--unlock-stdin", "--poll", "300ms"}, joins...)
		p := startProc(t, exec.Command(bin, args...), uiPass+"\n")
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, Timeout: 2 * time.Minute}
		get(t, c, p.URL)
		return p, c
	}

	plain := make([]byte, 40<<20+123)
	rand.Read(plain)
	const mtime = "1763700000123"
	upload := func(c *http.Client, base string, body io.Reader) (int, string) {
		req, _ := http.NewRequest("POST", base+"/files/upload?folder=&name=big.bin&tid=00112233445566778899aabbccddeeff&mtime="+mtime, body)
		req.ContentLength = int64(len(plain))
		req.Header.Set("Content-Type", "application/octet-stream")
		req.Header.Set("Origin", base)
		resp, err := c.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	p, c := start()
	waitSession(t, c, p.Base)
	// The browser sends 16 MiB and then stalls, as a slow disk would.
	pr, pw := io.Pipe()
	defer pw.Close()
	go pw.Write(plain[:16<<20]) // fails once the pipe is closed: the test is past it
	go upload(c, p.Base, pr)
	journal := waitJournal(t, data, 5)
	t.Logf("%d chunks journaled before the pull", len(journal)-1)

	stick.Detach()
	pulled := time.Now()
	select {
	case <-p.done:
		t.Logf("stick pulled to exit: %v", time.Since(pulled).Round(time.Millisecond))
	case <-time.After(10 * time.Second):
		t.Fatalf("the conduit still runs 10 s after its FAT stick was detached\n%s", p.stderr.String())
	}
	if !strings.Contains(p.stderr.String(), "the stick was removed; wiping keys") {
		t.Fatalf("no wipe notice:\n%s", p.stderr.String())
	}
	pw.CloseWithError(io.ErrUnexpectedEOF)
	stick.WaitGone(20 * time.Second)
	stick.Mount()

	// Mounted again: the journal holds what it held, the keystore unlocks.
	_, again, err := seglog.Open(journalPath(t, data))
	if err != nil || len(again) < len(journal) {
		t.Fatalf("after the pull the journal reads %d records (%v), had %d", len(again), err, len(journal))
	}
	p, c = start()
	waitSession(t, c, p.Base)
	code, msg := upload(c, p.Base, bytes.NewReader(plain))
	if code != http.StatusCreated || !strings.Contains(msg, "continuing an earlier upload") {
		t.Fatalf("the upload after the pull: %d %q, want it to continue", code, msg)
	}
	t.Log(msg)
	page := get(t, c, p.Base+"/files")
	i := strings.Index(page, `href="/files/entry/`)
	if i < 0 {
		t.Fatalf("big.bin is not listed:\n%s", page)
	}
	loc := page[i+len(`href="`) : i+len(`href="/files/entry/`)+32]
	got := get(t, c, p.Base+strings.Replace(loc, "/entry/", "/content/", 1))
	if sha256.Sum256([]byte(got)) != sha256.Sum256(plain) {
		t.Fatalf("read back %d bytes that differ from the %d sent", len(got), len(plain))
	}
	if left, _ := filepath.Glob(filepath.Join(data, "journals", "*")); len(left) > 0 {
		t.Fatalf("journals left after the upload finished: %v", left)
	}
}

// waitSession waits until the conduit's session is open (uploads are
// refused with 503 before).
func waitSession(t *testing.T, c *http.Client, base string) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		resp, err := c.Get(base + "/files")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && bytes.Contains(b, []byte(`id="file-list"`)) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the session did not open in a minute: %v", err)
		}
	}
}

func journalPath(t *testing.T, data string) string {
	t.Helper()
	all, _ := filepath.Glob(filepath.Join(data, "journals", "*.upload"))
	if len(all) != 1 {
		t.Fatalf("upload journals: %v, want one", all)
	}
	return all[0]
}

// waitJournal waits until the one upload journal on the stick records n
// chunks and returns its records.
func waitJournal(t *testing.T, data string, n int) [][]byte {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		if all, _ := filepath.Glob(filepath.Join(data, "journals", "*.upload")); len(all) == 1 {
			if l, recs, err := seglog.Open(all[0]); err == nil {
				l.Close()
				if len(recs) > n {
					return recs
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the upload journal did not reach %d chunks", n)
		}
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o700); err != nil {
		t.Fatalf("copying %s: %v", to, err)
	}
}
