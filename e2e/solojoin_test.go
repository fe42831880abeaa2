package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSoloJoinsNetwork: a conduit that knows no network runs its own solo
// network, and what is stored there works at once. Given the address of a
// node on the Network page (refused while nothing answers there), it joins
// that network, replicates the files and folders there, stops the solo
// network and serves the session from the network: the file reads back
// whole from there, and the network is saved on the stick for next time.
// (conduit's TestSoloMovesToNetwork covers a known network that comes up
// later, found by the conduit by itself.)
func TestSoloJoinsNetwork(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	stick := t.TempDir()
	data := filepath.Join(stick, "BorgData")
	if out, err := runCLI(t, aliceWords+"\n\n"+uiPass+"\n", "identity", "restore", "--data", data, "--test-kdf"); err != nil {
		t.Fatalf("restore: %v %s", err, out)
	}
	// No network known: the first start runs solo.
	p := startConduit(t, data, uiPass+"\n", "--unlock-stdin", "--poll", "300ms")
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: time.Minute}
	get(t, client, p.URL)

	plain := make([]byte, 2<<20+11)
	rand.Read(plain)
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		code, body := post(t, client, p.Base, "/files/upload?folder=&name=offline.bin&tid=00112233445566778899aabbccddeeff", bytes.NewReader(plain), "application/octet-stream")
		if code == http.StatusCreated {
			break
		}
		if code != http.StatusServiceUnavailable || time.Now().After(deadline) {
			t.Fatalf("upload while the network is down: %d %s\n%s", code, body, p.stderr.String())
		}
	}
	if page := get(t, client, p.Base+"/network"); !strings.Contains(page, `data-mode="solo"`) || !strings.Contains(page, `id="net-join"`) {
		t.Fatalf("the Network page does not say solo, or offers no network to join:\n%s", page)
	}
	form := url.Values{"folder": {""}, "name": {"Trip"}}
	if code, body := post(t, client, p.Base, "/files/mkdir", strings.NewReader(form.Encode()), "application/x-www-form-urlencoded"); code >= 400 {
		t.Fatalf("mkdir on the solo network: %d %s", code, body)
	}

	// A node's address that does not answer is refused, and nothing saved.
	if code, body := post(t, client, p.Base, "/network/join", strings.NewReader("addr=127.0.0.10"), "application/x-www-form-urlencoded"); code != http.StatusUnprocessableEntity || !strings.Contains(body, "No node of a network answered") {
		t.Fatalf("joining a network that is not there: %d\n%s", code, body)
	}
	if _, err := os.Stat(filepath.Join(data, "endpoints.json")); !os.IsNotExist(err) {
		t.Fatalf("a network that did not answer was saved: %v", err)
	}

	// A network comes up; the person gives one of its nodes on the Network page.
	dn := startNet(t, ctx, "all", 3, nil)
	waitMembers(t, ctx, dn.Nodes()[0].Endpoints, 3)
	up := time.Now()
	if code, body := post(t, client, p.Base, "/network/join", strings.NewReader("addr=127.0.0.10"), "application/x-www-form-urlencoded"); code != http.StatusOK || strings.Contains(body, `id="join-err"`) {
		t.Fatalf("joining the network (redirected to the Network page): %d\n%s", code, body)
	}
	var page string
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(300 * time.Millisecond) {
		page = get(t, client, p.Base+"/network/status")
		if strings.Contains(page, `data-moving="false"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the solo data did not move within 2 minutes of the network coming up:\n%s\n%s", page, p.stderr.String())
		}
	}
	t.Logf("network up to data moved: %v", time.Since(up).Round(time.Millisecond))
	if !strings.Contains(page, `data-mode="guest"`) || !strings.Contains(page, "1 file (2.1 MB), 1 folder.") {
		t.Fatalf("after the move the Network page says:\n%s", page)
	}

	files := get(t, client, p.Base+"/files")
	i := strings.Index(files, `href="/files/entry/`)
	if i < 0 || !strings.Contains(files, "Trip") {
		t.Fatalf("the moved file or folder is not listed:\n%s", files)
	}
	loc := files[i+len(`href="`) : i+len(`href="/files/entry/`)+32]
	got := get(t, client, p.Base+strings.Replace(loc, "/entry/", "/content/", 1))
	if sha256.Sum256([]byte(got)) != sha256.Sum256(plain) {
		t.Fatalf("read back from the network %d bytes that differ from the %d stored while solo", len(got), len(plain))
	}
	if _, err := os.Stat(filepath.Join(data, "endpoints.json")); err != nil {
		t.Fatalf("the network was not saved on the stick: %v", err)
	}
}

// post sends body to the conduit at base+path as a same-origin request.
func post(t *testing.T, c *http.Client, base, path string, body io.Reader, contentType string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+path, body)
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Origin", base)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
