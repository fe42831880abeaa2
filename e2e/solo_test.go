package e2e

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSoloFirstRun: a conduit given no network and with none saved runs a
// one-node network of every cell on this computer, so a file stored on
// the first run reads back and the Network page says
// solo. The solo node's endpoints are not saved as "the network".
func TestSoloFirstRun(t *testing.T) {
	stick := t.TempDir()
	data := filepath.Join(stick, "BorgData")
	if out, err := runCLI(t, aliceWords+"\n\n"+uiPass+"\n", "identity", "restore", "--data", data, "--test-kdf"); err != nil {
		t.Fatalf("restore: %v %s", err, out)
	}
	p := startConduit(t, data, uiPass+"\n", "--unlock-stdin", "--poll", "300ms")
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: time.Minute}
	resp, err := client.Get(p.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	plain := make([]byte, 3<<20+7)
	rand.Read(plain)
	var loc string
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		req, _ := http.NewRequest("POST", p.Base+"/files/upload?folder=&name=first.bin&tid=00112233445566778899aabbccddeeff", bytes.NewReader(plain))
		req.Header.Set("Content-Type", "application/octet-stream")
		req.Header.Set("Origin", p.Base)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusCreated {
			break
		}
		if resp.StatusCode != http.StatusServiceUnavailable || time.Now().After(deadline) {
			t.Fatalf("upload on the first run: %d %s\n%s", resp.StatusCode, body, p.stderr.String())
		}
	}
	page := get(t, client, p.Base+"/files")
	i := strings.Index(page, `href="/files/entry/`)
	if i < 0 {
		t.Fatalf("the stored file is not listed:\n%s", page)
	}
	loc = page[i+len(`href="`) : i+len(`href="/files/entry/`)+32]
	got := get(t, client, p.Base+strings.Replace(loc, "/entry/", "/content/", 1))
	if got != string(plain) {
		t.Fatalf("read back %d bytes that differ from the %d stored", len(got), len(plain))
	}
	if net := get(t, client, p.Base+"/network"); !strings.Contains(net, `data-mode="solo"`) {
		t.Fatalf("the Network page does not say solo:\n%s", net)
	}
	if _, err := os.Stat(filepath.Join(data, "endpoints.json")); !os.IsNotExist(err) {
		t.Fatalf("the solo node was saved as the network: %v", err)
	}
}

func get(t *testing.T, c *http.Client, url string) string {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d\n%s", url, resp.StatusCode, b)
	}
	return string(b)
}

// TestStickRemoved: when the data folder vanishes (the stick pulled out),
// the conduit wipes its keys and exits; the figure is logged.
func TestStickRemoved(t *testing.T) {
	stick := t.TempDir()
	data := filepath.Join(stick, "BorgData")
	if out, err := runCLI(t, aliceWords+"\n\n"+uiPass+"\n", "identity", "restore", "--data", data, "--test-kdf"); err != nil {
		t.Fatalf("restore: %v %s", err, out)
	}
	p := startConduit(t, data, uiPass+"\n", "--unlock-stdin")
	// The folder vanishes at once, as with a pulled stick: a rename, not a
	// RemoveAll, which would race the conduit still writing its solo node
	// key and fail with "directory not empty".
	if err := os.Rename(data, data+".pulled"); err != nil {
		t.Fatal(err)
	}
	removed := time.Now()
	select {
	case <-p.done:
		took := time.Since(removed)
		t.Logf("removal to exit: %v", took.Round(time.Millisecond))
	case <-time.After(10 * time.Second):
		t.Fatalf("the conduit still runs 10 s after its stick was removed\n%s", p.stderr.String())
	}
	if !strings.Contains(p.stderr.String(), "the stick was removed") {
		t.Fatalf("no removal notice:\n%s", p.stderr.String())
	}
	// Nothing written where the stick was: a mount point left behind is
	// the host's disk.
	if _, err := os.Lstat(data); !errors.Is(err, fs.ErrNotExist) {
		var written []string
		filepath.WalkDir(data, func(p string, _ fs.DirEntry, _ error) error { written = append(written, p); return nil })
		t.Fatalf("the conduit wrote where the stick was after it was removed: %s", strings.Join(written, ", "))
	}
}

// TestSecondStartHandsOff: starting borghui again on a stick it already
// runs from does not start a second conduit; it gets a fresh launch link
// from the first one, which works.
func TestSecondStartHandsOff(t *testing.T) {
	stick := t.TempDir()
	data := filepath.Join(stick, "BorgData")
	if out, err := runCLI(t, aliceWords+"\n\n"+uiPass+"\n", "identity", "restore", "--data", data, "--test-kdf"); err != nil {
		t.Fatalf("restore: %v %s", err, out)
	}
	p := startConduit(t, data, uiPass+"\n", "--unlock-stdin")
	out, err := runCLI(t, "", "--no-browser", "--data", data)
	if err != nil {
		t.Fatalf("second start: %v", err)
	}
	link := ""
	for _, line := range strings.Split(out, "\n") {
		if l, ok := strings.CutPrefix(line, "Open BorgHUI: "); ok {
			link = l
		}
	}
	if !strings.HasPrefix(link, p.Base+"/launch?token=") || !strings.Contains(out, "already running") {
		t.Fatalf("second start printed %q, want a launch link of the first run (%s)", out, p.Base)
	}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	if home := get(t, client, link); !strings.Contains(home, `id="muid"`) {
		t.Fatalf("the handed-off link does not open the unlocked conduit:\n%s", home)
	}
	// A nonce that was never written on the stick gets nothing.
	resp, err := http.Get(p.Base + "/handoff?nonce=" + strings.Repeat("ab", 32))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a made-up handoff nonce: %d, want 403", resp.StatusCode)
	}
}
