package e2e

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/borgios/borghui/cells/ledger"
	"github.com/borgios/borghui/cells/mail"
	"github.com/borgios/borghui/cells/shard"
	"github.com/borgios/borghui/conduit"
	"github.com/borgios/borghui/failover"
	"github.com/borgios/borghui/peer/devnet"
	"github.com/borgios/borghui/wallet"
)

// The two people of the UI test: public BIP39 test vectors.
const (
	aliceWords = "legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth title"
	bobWords   = "letter advice cage absurd amount doctor acoustic avoid letter advice cage absurd amount doctor acoustic avoid letter advice cage absurd amount doctor acoustic bless"
	uiPass     = "ui test passphrase 123"
)

// person is one conduit process and its browser tab.
type person struct {
	name string
	muid string
	proc *conduitProc
	tab  context.Context
}

// TestUIOnDevnet is the conduit's whole UI, in real headless Chromium,
// over a devnet of three real node processes and two conduits, Alice and
// Bob: Alice uploads a file (progress observed) and shares it with Bob,
// who downloads it (bytes match); Alice mails Bob with an attachment, Bob
// reads and replies, both see their mail delivered; Alice sends Bob
// shells (balances and histories right on both sides); and a node serving
// Alice is killed in the middle of a download, which completes through
// failover. Every page is screenshotted into artifacts/e2e/.
func TestUIOnDevnet(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	dn := startNet(t, ctx, "all", 3, nil)
	var joins []string
	for _, n := range dn.Nodes() {
		joins = append(joins, "--join", n.IP)
	}
	waitMembers(t, ctx, dn.Nodes()[0].Endpoints, 3)

	root := browserFor(t, 5*time.Minute)
	start := func(name, words string) *person {
		t.Helper()
		stick := t.TempDir()
		data := filepath.Join(stick, "BorgData")
		if out, err := runCLI(t, words+"\n\n"+uiPass+"\n", "identity", "restore", "--data", data, "--test-kdf"); err != nil {
			t.Fatalf("restore %s: %v %s", name, err, out)
		}
		args := append([]string{"--unlock-stdin", "--nick", name, "--poll", "300ms"}, joins...)
		p := startConduit(t, data, uiPass+"\n", args...)
		tab, _ := chromedp.NewContext(root)
		var muid string
		if err := chromedp.Run(tab, chromedp.Navigate(p.URL), chromedp.WaitVisible("#muid"), chromedp.Text("#muid", &muid)); err != nil {
			t.Fatalf("%s's home page: %v", name, err)
		}
		return &person{name: name, muid: strings.TrimSpace(muid), proc: p, tab: tab}
	}
	alice, bob := start("alice", aliceWords), start("bob", bobWords)
	fund(t, ctx, dn.Nodes()[0].Endpoints, alice.muid, "100")

	// 1. Files: Alice uploads through the picker and watches the progress.
	plain := make([]byte, 24<<20+12345)
	rand.Read(plain)
	upload := filepath.Join(t.TempDir(), "holiday video.bin")
	if err := os.WriteFile(upload, plain, 0o600); err != nil {
		t.Fatal(err)
	}
	var statuses []string
	run(t, alice.tab, "alice uploads",
		chromedp.Navigate(alice.proc.Base+"/files"),
		chromedp.WaitVisible("#file-list"),
		shot(t, alice.tab, "ui-01-files-empty"),
		chromedp.Evaluate(`window.__statuses = []; new MutationObserver(() => {
			document.querySelectorAll('#transfers li .status').forEach(s => window.__statuses.push(s.textContent)) })
			.observe(document.getElementById('transfers'), {subtree: true, childList: true, characterData: true}); true`, nil),
		chromedp.SetUploadFiles("#upload-input", []string{upload}, chromedp.ByID),
		chromedp.WaitVisible(`#transfers li.done`),
		chromedp.Evaluate(`window.__statuses`, &statuses),
		chromedp.WaitVisible(`//table[contains(@class,"files")]//a[text()="holiday video.bin"]`),
		shot(t, alice.tab, "ui-02-files-uploaded"),
	)
	if !anyContains(statuses, " of ") || !anyContains(statuses, "/s") {
		t.Fatalf("no progress with bytes and rate was shown during the upload: %q", statuses)
	}

	// 2. Share with Bob by address; Bob opens the mail's link and downloads.
	run(t, alice.tab, "alice shares",
		chromedp.Click(`//a[text()="holiday video.bin"]`),
		chromedp.WaitVisible("#share-to"),
		chromedp.SendKeys("#share-to", bob.muid),
		chromedp.Click("#share"),
		chromedp.WaitVisible("#share-state"),
		shot(t, alice.tab, "ui-03-file-shared"),
	)
	want := sha256.Sum256(plain)
	run(t, bob.tab, "bob opens the shared file",
		chromedp.Navigate(bob.proc.Base+"/mail"),
		waitText(`li.msg`, "holiday video.bin", 30*time.Second),
		shot(t, bob.tab, "ui-04-bob-inbox"),
		chromedp.Click(`li.msg a`),
		chromedp.WaitVisible("button.open-attachment"),
		chromedp.Click("button.open-attachment"),
		chromedp.WaitVisible("#download"),
		shot(t, bob.tab, "ui-05-bob-shared-file"),
	)
	if got := fetchHash(t, bob.tab, "#download", false); got != hex.EncodeToString(want[:]) {
		t.Fatalf("Bob downloaded a file with SHA-256 %s, want %x\nBob's conduit:\n%s", got, want, bob.proc.stderr.String())
	}

	// 3. Mail with an attachment from Files; Bob replies; both delivered.
	run(t, alice.tab, "alice writes to bob",
		chromedp.Navigate(alice.proc.Base+"/mail"),
		chromedp.WaitVisible("#compose"),
		chromedp.Click("#compose"),
		chromedp.WaitVisible("#to"),
		chromedp.SendKeys("#to", bob.muid),
		chromedp.SendKeys("#subject", "Dinner <b>friday</b>"),
		chromedp.SendKeys("#body", "Bring the video.\n<script>alert(1)</script>"),
		chromedp.Click(`input[name=attach]`),
		shot(t, alice.tab, "ui-06-compose"),
		chromedp.Click("#send"),
		chromedp.WaitVisible("#send-result"),
		shot(t, alice.tab, "ui-07-sent"),
	)
	run(t, bob.tab, "bob reads and replies",
		chromedp.Navigate(bob.proc.Base+"/mail"),
		waitText(`li.msg`, "Dinner <b>friday</b>", 30*time.Second),
		chromedp.Click(`//li[contains(@class,"msg")][contains(.,"Dinner")]//a`),
		chromedp.WaitVisible("#msg-body"),
		waitText("#msg-body", "<script>alert(1)</script>", 5*time.Second),
		waitText("#msg-subject", "Dinner <b>friday</b>", 5*time.Second),
		chromedp.WaitVisible("button.open-attachment"),
		shot(t, bob.tab, "ui-08-bob-reads"),
		chromedp.Click("#reply"),
		chromedp.WaitVisible("#body"),
		chromedp.SendKeys("#body", "Will do."),
		chromedp.Click("#send"),
		chromedp.WaitVisible("#send-result"),
	)
	var alerts int
	run(t, bob.tab, "no script ran", chromedp.Evaluate(`document.querySelectorAll('#msg-body script, #msg-subject b').length`, &alerts))
	if alerts != 0 {
		t.Fatalf("the message's HTML became %d elements; it must show as text", alerts)
	}
	run(t, alice.tab, "alice sees the reply and delivery",
		chromedp.Navigate(alice.proc.Base+"/mail"),
		waitText(`li.msg`, "Re: Dinner", 30*time.Second),
		shot(t, alice.tab, "ui-09-alice-inbox"),
		chromedp.Navigate(alice.proc.Base+"/mail?folder=sent"),
		waitText(`li.msg .state`, "delivered", 30*time.Second),
		shot(t, alice.tab, "ui-10-alice-sent"),
	)
	run(t, bob.tab, "bob sees his reply delivered",
		chromedp.Navigate(bob.proc.Base+"/mail?folder=sent"),
		waitText(`li.msg .state`, "delivered", 30*time.Second),
	)

	// 4. Shells: Alice sends Bob 12.5 with a confirm step.
	run(t, alice.tab, "alice sends shells",
		chromedp.Navigate(alice.proc.Base+"/wallet"),
		waitText("#balance", "100", 30*time.Second),
		shot(t, alice.tab, "ui-11-wallet"),
		chromedp.SendKeys("#send-to", bob.muid),
		chromedp.SendKeys("#send-amount", "12.5"),
		chromedp.SendKeys("#send-memo", "for the <i>tickets</i>"),
		chromedp.Click("#prepare"),
		chromedp.WaitVisible("#confirm"),
		waitText("#confirm", "12.5", 5*time.Second),
		shot(t, alice.tab, "ui-12-wallet-confirm"),
		chromedp.Click("#confirm-send"),
		waitText("#send-status", "applied", 30*time.Second),
		chromedp.Navigate(alice.proc.Base+"/wallet"),
		waitText("#balance", "87.5", 30*time.Second),
		chromedp.WaitVisible("tr.tx"),
		shot(t, alice.tab, "ui-13-wallet-after"),
	)
	var aliceTx, bobTx int
	run(t, bob.tab, "bob's balance",
		chromedp.Navigate(bob.proc.Base+"/wallet"),
		waitText("#balance", "12.5", 30*time.Second),
		chromedp.WaitVisible("tr.tx"),
		chromedp.Evaluate(`document.querySelectorAll('tr.tx').length`, &bobTx),
		shot(t, bob.tab, "ui-14-bob-wallet"),
	)
	run(t, alice.tab, "alice's history", chromedp.Evaluate(`document.querySelectorAll('tr.tx').length`, &aliceTx))
	if aliceTx != 2 || bobTx != 1 {
		t.Fatalf("histories: Alice %d entries, Bob %d; want 2 (funded, sent) and 1 (received)", aliceTx, bobTx)
	}

	// 5. Network and Settings pages.
	run(t, alice.tab, "network and settings pages",
		chromedp.Navigate(alice.proc.Base+"/network"),
		chromedp.WaitVisible("table.endpoints"),
		shot(t, alice.tab, "ui-15-network"),
		chromedp.Navigate(alice.proc.Base+"/settings"),
		chromedp.WaitVisible("#change-pass"),
		shot(t, alice.tab, "ui-16-settings"),
	)

	// 6. Failover: a node serving Alice dies in the middle of a download.
	run(t, alice.tab, "alice opens her file",
		chromedp.Navigate(alice.proc.Base+"/files"),
		chromedp.Click(`//a[text()="holiday video.bin"]`),
		chromedp.WaitVisible("#download"),
	)
	got := fetchHash(t, alice.tab, "#download", true, func() {
		dn.Nodes()[0].Kill()
	})
	if got != hex.EncodeToString(want[:]) {
		t.Fatalf("the download through a node's death has SHA-256 %s, want %x", got, want)
	}
	run(t, alice.tab, "network after the kill", chromedp.Navigate(alice.proc.Base+"/network"), chromedp.WaitVisible("table.endpoints"),
		shot(t, alice.tab, "ui-17-network-after-kill"))
}

func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action) {
	t.Helper()
	start := time.Now()
	defer func() { t.Logf("%s: %v", what, time.Since(start).Round(time.Millisecond)) }()
	if err := chromedp.Run(ctx, actions...); err != nil {
		var loc, body string
		_ = chromedp.Run(ctx, chromedp.Location(&loc), chromedp.Evaluate(`document.body ? document.body.innerText.slice(0, 3000) : ""`, &body))
		t.Fatalf("%s: %v\nat %s:\n%s", what, err, loc, body)
	}
}

// waitText waits until an element matching sel contains text (as the
// person reads it), reloading nothing: live updates must bring it.
func waitText(sel, text string, within time.Duration) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		deadline := time.Now().Add(within)
		js := fmt.Sprintf(`Array.from(document.querySelectorAll(%q)).some(e => e.textContent.includes(%q))`, sel, text)
		for {
			var ok bool
			if err := chromedp.Evaluate(js, &ok).Do(ctx); err != nil {
				return err
			}
			if ok {
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("no %s shows %q within %s", sel, text, within)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}

// fetchHash downloads the href of the link sel in the page (the browser's
// own fetch, with its session) and returns the SHA-256 of the bytes. With
// pause, the page stops reading after 8 MiB, midway() runs, and the read
// goes on.
func fetchHash(t *testing.T, tab context.Context, sel string, pause bool, midway ...func()) string {
	t.Helper()
	js := fmt.Sprintf(`(async () => {
		window.__half = false; window.__go = %v; window.__hash = "";
		try {
		const r = await fetch(document.querySelector(%q).href);
		if (!r.ok) { window.__hash = "status " + r.status; return; }
		const rd = r.body.getReader(); const parts = []; let n = 0;
		for (;;) {
			const {done, value} = await rd.read();
			if (done) break;
			parts.push(value); n += value.length;
			if (n >= 8 << 20 && !window.__half) { window.__half = true; while (!window.__go) await new Promise(ok => setTimeout(ok, 50)); }
		}
		const all = new Uint8Array(n); let o = 0; for (const p of parts) { all.set(p, o); o += p.length; }
		const d = await crypto.subtle.digest("SHA-256", all);
		window.__hash = Array.from(new Uint8Array(d), b => b.toString(16).padStart(2, "0")).join("");
		} catch (e) { window.__hash = "error: " + e; }
	})(); true`, !pause, sel)
	run(t, tab, "start download", chromedp.Evaluate(js, nil))
	poll := func(expr string) {
		t.Helper()
		for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
			var ok bool
			if err := chromedp.Run(tab, chromedp.Evaluate(expr, &ok)); err != nil {
				t.Fatalf("poll %s: %v", expr, err)
			}
			if ok {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", expr)
			}
		}
	}
	if pause {
		poll("window.__half")
		for _, f := range midway {
			f()
		}
		run(t, tab, "resume download", chromedp.Evaluate(`window.__go = true`, nil))
	}
	poll(`window.__hash !== ""`)
	var h string
	run(t, tab, "read hash", chromedp.Evaluate(`window.__hash`, &h))
	return h
}

func anyContains(ss []string, sub string) bool {
	for _, s := range ss {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// waitMembers waits until the shard and mail cells of the devnet know each
// other (the conduits place data by their member lists).
func waitMembers(t *testing.T, ctx context.Context, eps map[string]devnet.Endpoint, n int) {
	t.Helper()
	probe, err := wallet.NewNodeKey()
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Destroy()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		sm, err1 := shard.Discover(ctx, probe, eps[shard.CellName].Recp)
		mm, _, err2 := mail.Discover(ctx, probe, eps[mail.CellName].Recp)
		if err1 == nil && err2 == nil && len(sm) == n && len(mm) == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the cells did not find each other")
		}
	}
}

// fund sends amount shells from the devnet's network wallet to muid and
// waits until it is applied.
func fund(t *testing.T, ctx context.Context, eps map[string]devnet.Endpoint, muid, amount string) {
	t.Helper()
	dev, err := conduit.DevNetworkWallet()
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Destroy()
	ep := eps[ledger.CellName]
	w, err := conduit.NewWallet(dev, []failover.Endpoint{{Addr: ep.Recp, ID: ep.ID}}, conduit.WalletOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var st *ledger.StatusResponse
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		d, err := w.Prepare(ctx, muid, amount, "", "welcome")
		if err == nil {
			if st, err = w.Send(ctx, d); err == nil && st.Status != ledger.StatusRejected {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("funding %s: %+v %v", muid, st, err)
		}
	}
	for deadline := time.Now().Add(30 * time.Second); st.Status != ledger.StatusApplied; time.Sleep(100 * time.Millisecond) {
		if st, err = w.Status(ctx, st.ID); err != nil || time.Now().After(deadline) {
			t.Fatalf("funding %s: %+v %v", muid, st, err)
		}
	}
}
