package e2e

import (
	"context"
	"crypto/rand"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestNoTrace: a whole session — create an identity, upload a file, send
// a letter, send shells, quit — with HOME, the XDG folders and TMPDIR
// pointing at watched folders of the "host" and the binary on a "stick"
// elsewhere. Afterwards not one file in the watched folders was created,
// changed or removed, and the stick's logs hold no word of the seed, the
// passphrase or the key. (The browser is the test's own, with its own
// profile and environment.)
func TestNoTrace(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	dn := startNet(t, ctx, "all", 3, nil)
	eps := dn.Nodes()[0].Endpoints
	waitMembers(t, ctx, eps, 3)
	var joins []string
	for _, n := range dn.Nodes() {
		joins = append(joins, "--join", n.IP)
	}

	host := t.TempDir()
	vars := map[string]string{"HOME": "home", "XDG_CONFIG_HOME": "home/.config", "XDG_CACHE_HOME": "home/.cache",
		"XDG_DATA_HOME": "home/.local/share", "XDG_STATE_HOME": "home/.local/state", "XDG_RUNTIME_DIR": "run", "TMPDIR": "tmp"}
	env := []string{"PATH=" + os.Getenv("PATH")}
	for k, dir := range vars {
		p := filepath.Join(host, dir)
		if err := os.MkdirAll(p, 0o700); err != nil {
			t.Fatal(err)
		}
		env = append(env, k+"="+p)
	}
	stick := t.TempDir()
	bin := filepath.Join(stick, "borghui")
	copyFile(t, borghui(t), bin)
	before := snapshot(t, host)

	cmd := exec.Command(bin, append([]string{"--no-browser", "--listen", "127.0.0.1:0", "--test-kdf", "--poll", "300ms"}, joins...)...)
	cmd.Env = env
	p := startProc(t, cmd, "")
	tab := browserFor(t, 3*time.Minute)

	// Create an identity.
	var words, quiz []string
	var muid string
	run(t, tab, "create",
		chromedp.Navigate(p.URL),
		chromedp.Click("#create"),
		chromedp.WaitVisible("#words"),
		chromedp.Evaluate(`Array.from(document.querySelectorAll('#words li')).map(li => li.textContent.trim())`, &words),
		chromedp.Click("#written"),
		chromedp.WaitVisible("#check"),
		chromedp.Evaluate(`Array.from(document.querySelectorAll('input[name=answer]')).map(i => i.id)`, &quiz),
	)
	if len(words) != 24 || len(quiz) == 0 {
		t.Fatalf("words %d, quiz %v", len(words), quiz)
	}
	for _, id := range quiz {
		run(t, tab, "quiz", fill(id, word(words, id)))
	}
	const pass = "no trace passphrase 4417 quartz"
	run(t, tab, "passphrase",
		chromedp.Click("#check"),
		chromedp.WaitVisible("#finish"),
		fill("passphrase", pass),
		fill("confirm", pass),
		chromedp.Click("#finish"),
		chromedp.WaitVisible("#muid"),
		chromedp.Text("#muid", &muid),
	)
	fund(t, ctx, eps, muid, "20")

	// Upload, mail, shells, quit.
	src := filepath.Join(t.TempDir(), "notes.bin")
	plain := make([]byte, 3<<20+5)
	rand.Read(plain)
	if err := os.WriteFile(src, plain, 0o600); err != nil {
		t.Fatal(err)
	}
	bob := inspect(t, bobWords).MUID
	run(t, tab, "upload",
		chromedp.Navigate(p.Base+"/files"),
		chromedp.WaitVisible("#file-list"),
		chromedp.SetUploadFiles("#upload-input", []string{src}, chromedp.ByID),
		chromedp.WaitVisible(`#transfers li.done`),
	)
	run(t, tab, "mail",
		chromedp.Navigate(p.Base+"/mail"),
		chromedp.Click("#compose"),
		chromedp.WaitVisible("#to"),
		chromedp.SendKeys("#to", muid),
		chromedp.SendKeys("#subject", "a note to myself"),
		chromedp.SendKeys("#body", "nothing stays behind"),
		chromedp.Click("#send"),
		chromedp.WaitVisible("#send-result"),
		chromedp.Navigate(p.Base+"/mail"),
		waitText(`li.msg`, "a note to myself", 30*time.Second),
	)
	run(t, tab, "shells",
		chromedp.Navigate(p.Base+"/wallet"),
		waitText("#balance", "20", 30*time.Second),
		chromedp.SendKeys("#send-to", bob),
		chromedp.SendKeys("#send-amount", "2.5"),
		chromedp.Click("#prepare"),
		chromedp.WaitVisible("#confirm"),
		chromedp.Click("#confirm-send"),
		waitText("#send-status", "applied", 30*time.Second),
	)
	run(t, tab, "quit",
		chromedp.Navigate(p.Base+"/settings"),
		chromedp.Click("#quit"),
		chromedp.WaitVisible("#quit-confirm"),
		chromedp.Click("#quit-confirm"),
	)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("the conduit did not quit\n%s", p.stderr.String())
	}

	after := snapshot(t, host)
	for path, was := range before {
		if now, ok := after[path]; !ok {
			t.Errorf("removed on the host: %s", path)
		} else if now != was {
			t.Errorf("changed on the host: %s", path)
		}
	}
	for path := range after {
		if _, ok := before[path]; !ok {
			t.Errorf("left on the host: %s", path)
		}
	}
	data := filepath.Join(stick, "BorgData")
	if left, _ := os.ReadDir(filepath.Join(data, "tmp")); len(left) > 0 {
		t.Errorf("the stick's temp folder was not emptied: %d entries", len(left))
	}
	scanLogs(t, []string{data}, []*conduitProc{p}, words, pass)
}

// snapshot maps every file and folder below root to its size, mode and
// modification time.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		out[rel] = info.Mode().String() + " " + info.ModTime().String() + " " + strconv.FormatInt(info.Size(), 10)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
