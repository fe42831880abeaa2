package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// hostileWords are public BIP39 test words (a Trezor vector): the identity
// under attack is worth nothing.
const hostileWords = "legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth title"

// TestHostileOrigin attacks a running conduit from hostile pages in the same
// real Chromium that holds a valid BorgHUI session, as a malicious web page
// would:
//
//   - from http://127.0.0.2:P (another site: the SameSite=Strict cookie
//     stays home),
//   - from http://127.0.0.1:Q (same site, other origin: the cookie IS sent,
//     so the server's own checks must refuse),
//   - from http://localhost:Q (another site by name),
//
// each page tries to read the home page (fetch with credentials), to lock
// the identity (no-cors fetch POST, and an auto-submitted form), to open the
// live websocket and to frame the conduit. Then DNS rebinding: Go requests
// with the session cookie and a foreign Host, and a page at a foreign name
// that reaches the conduit (Chromium resolves *.localhost to loopback),
// read and POST /lock. Every refusal is checked where it happens: the
// page's own view, the status the conduit answered (from Chromium's network
// events, with whether the session cookie rode along), the conduit's state
// as seen from Go with the browser's cookie, and the frames' documents as
// DevTools sees them. Controls prove each attempt would have worked without
// the defences: the same code from the conduit's own origin reads the
// identity, opens the websocket and locks; the page's own Lock form locks;
// the right Host is served; frames of other sites load and are seen.
func TestHostileOrigin(t *testing.T) {
	data := filepath.Join(t.TempDir(), "BorgData")
	if _, err := runCLI(t, hostileWords+"\n\n"+passphrase+"\n", "identity", "restore", "--data", data, "--test-kdf"); err != nil {
		t.Fatal(err)
	}
	p := startConduit(t, data, passphrase+"\n", "--unlock-stdin")
	base := p.Base
	bu, err := url.Parse(base)
	if err != nil || bu.Hostname() != "127.0.0.1" || bu.Port() == "" {
		t.Fatalf("conduit base %q: want http://127.0.0.1:PORT (%v)", base, err)
	}
	port := bu.Port()

	// Hostile servers: another loopback address (another site), and the
	// conduit's own address on another port (same site, other origin), which
	// also answers as localhost:Q (another site by name).
	other := hostileServer(t, "127.0.0.2:0", base)
	sameSite := hostileServer(t, "127.0.0.1:0", base)
	_, sameSitePort, _ := net.SplitHostPort(sameSite.Listener.Addr().String())

	ctx := browser(t)
	nl := watchNetwork(ctx)

	// 1. The browser gets a real session from the one-time launch URL.
	var muid string
	if err := chromedp.Run(ctx,
		chromedp.Navigate(p.URL),
		chromedp.WaitVisible("#muid"),
		chromedp.Text("#muid", &muid),
	); err != nil {
		t.Fatalf("launch: %v", err)
	}
	if muid == "" {
		t.Fatal("the home page shows no MUID")
	}
	cookie := sessionCookie(t, ctx, base)
	st := &stateChecker{base: base, cookie: cookie}
	if s := st.get(t); s != "unlocked" {
		t.Fatalf("conduit %s before the attacks, want unlocked", s)
	}

	// 2-4. The hostile pages.
	origins := []struct {
		tag, origin string
		peer        string // a site the page frames for control, cross-site to it
		sameSite    bool   // the session cookie is sent along
	}{
		{"other-site", other.URL, sameSite.URL, false},
		{"same-site", sameSite.URL, other.URL, true},
		{"localhost", "http://localhost:" + sameSitePort, other.URL, false},
	}
	for _, o := range origins {
		t.Run(o.tag, func(t *testing.T) {
			res := runAttackPage(t, ctx, o.origin, o.peer, o.tag)
			t.Logf("%s page results: %+v", o.tag, res)

			// (a) The read fails in the page: no Access-Control-Allow-Origin.
			if res.Read.OK || res.Read.Muid || !strings.Contains(res.Read.Error, "Failed to fetch") {
				t.Errorf("read of the conduit from %s: %+v, want a CORS failure", o.origin, res.Read)
			}
			// (b) The no-cors POST /lock: the page learns nothing of the
			// answer (Cross-Origin-Resource-Policy even withholds the opaque
			// response); what the conduit did is checked below.
			if res.Lock.Status != 0 || res.Lock.OK {
				t.Errorf("lock fetch from %s: %+v, want no visible answer", o.origin, res.Lock)
			}
			// (d) The websocket never opens.
			if res.WS.Opened || !res.WS.Error || res.WS.Timeout {
				t.Errorf("websocket from %s: %+v, want refused (error, no open)", o.origin, res.WS)
			}

			// What the conduit answered, from Chromium's network log: every
			// attempt reached the server (nothing was stopped inside the
			// browser before it left), and the cookie rode along exactly when
			// the hostile origin is same-site.
			wantCookie, cookieWords := "samesite", "withheld by Chromium (SameSite=Strict)"
			if o.sameSite {
				wantCookie, cookieWords = "sent", "sent along"
			}
			var readStatus int64 = 401 // no session cookie: the session check refuses
			if o.sameSite {
				readStatus = 200 // the conduit served it; only CORS keeps it from the page
			}
			nl.expect(t, "read-"+o.tag, readStatus, wantCookie)
			nl.expectFailed(t, "read-"+o.tag, "CORS MissingAllowOriginHeader")
			nl.expect(t, "lock-"+o.tag, 403, wantCookie) // cross-origin protection
			nl.expectFailed(t, "lock-"+o.tag, "ERR_BLOCKED_BY_RESPONSE.NotSameOrigin")
			wsEnd := "HTTP Authentication failed" // a 401: no session
			if o.sameSite {
				wsEnd = "Unexpected response code: 403" // the websocket's Origin check
			}
			nl.expectWS(t, "ws-"+o.tag, wsEnd)

			// (4) The frame: Chromium blocked it (its error page stands where
			// the conduit would be), while the control frames loaded and their
			// contents are visible to the same check.
			checkFrames(t, ctx, o.origin, o.peer, "frame-"+o.tag)
			nl.expectFailed(t, "frame-"+o.tag, "ERR_BLOCKED_BY_RESPONSE")

			if s := st.get(t); s != "unlocked" {
				t.Fatalf("conduit %s after the attacks from %s, want unlocked", s, o.origin)
			}
			note(t, ctx, "Checked afterwards from DevTools and Go: the session cookie was "+cookieWords+
				"; the conduit answered the read "+statusText(nl, "read-"+o.tag)+" (no Access-Control-Allow-Origin), the lock "+
				statusText(nl, "lock-"+o.tag)+", the websocket "+statusText(nl, "ws-"+o.tag)+
				"; Chromium put an error page in the conduit's frame; the conduit is still "+st.get(t)+".")
			if err := chromedp.Run(ctx, shot(t, ctx, "hostile-"+o.tag)); err != nil {
				t.Fatal(err)
			}

			// (c) An auto-submitted cross-site form: the browser lands on the
			// conduit's 403, and the identity stays unlocked.
			body := submitHostileForm(t, ctx, o.origin, o.tag, base)
			if !strings.Contains(body, "Cross-site request refused") {
				t.Errorf("form from %s landed on %q, want the cross-site refusal", o.origin, body)
			}
			nl.expect(t, "form-"+o.tag, 403, wantCookie)
			appendText(t, ctx, "This is where the form that a page at "+o.origin+" posted to /lock landed (the session cookie was "+
				cookieWords+"). The conduit is still "+st.get(t)+".")
			if err := chromedp.Run(ctx, shot(t, ctx, "hostile-form-"+o.tag)); err != nil {
				t.Fatal(err)
			}
			if s := st.get(t); s != "unlocked" {
				t.Fatalf("conduit %s after the form from %s, want unlocked", s, o.origin)
			}
		})
	}

	// (e) DNS rebinding. Go requests with the session cookie and a foreign
	// Host: refused, even as a "same-origin" POST (which is what a rebound
	// page's request looks like); the right Host with the same cookie works.
	t.Run("rebinding", func(t *testing.T) {
		for _, host := range []string{"attacker.example:" + port, "attacker.localhost:" + port, "127.0.0.1:1"} {
			code, body := st.do(t, "GET", "/", host, nil)
			if code != http.StatusForbidden || !strings.Contains(body, "Host check failed") {
				t.Errorf("GET with Host %s: %d %.80q, want 403 Host check failed", host, code, body)
			}
			code, body = st.do(t, "POST", "/lock", host, http.Header{
				"Origin":         {"http://" + host},
				"Sec-Fetch-Site": {"same-origin"},
				"Content-Type":   {"application/x-www-form-urlencoded"},
			})
			if code != http.StatusForbidden || !strings.Contains(body, "Host check failed") {
				t.Errorf("POST /lock with Host %s: %d %.80q, want 403 Host check failed", host, code, body)
			}
		}
		for _, host := range []string{"127.0.0.1:" + port, "localhost:" + port} {
			if code, body := st.do(t, "GET", "/", host, nil); code != http.StatusOK || !strings.Contains(body, `id="muid"`) {
				t.Errorf("control: GET with Host %s: %d, want 200 with the identity", host, code)
			}
		}
		if s := st.get(t); s != "unlocked" {
			t.Fatalf("conduit %s after the rebinding requests, want unlocked", s)
		}

		// In the browser: Chromium resolves any *.localhost to loopback, so
		// http://attacker.localhost:PORT reaches the conduit under a foreign
		// name, as a rebound attacker.example would. Script running in that
		// origin (same-origin as far as the browser knows) is refused by the
		// Host check, not by the session check (401) or the cross-origin
		// protection.
		rebound := "http://attacker.localhost:" + port
		var text string
		var lock fetchResult
		if err := chromedp.Run(ctx,
			chromedp.Navigate(rebound+"/?attack=rebind-get"),
			chromedp.Text("body", &text),
			evalAwait(attackJS+`; borgPost("/lock?attack=rebind-lock")`, &lock),
		); err != nil {
			t.Fatalf("rebound page: %v", err)
		}
		if !strings.Contains(text, "Host check failed") {
			t.Errorf("rebound page shows %q, want the Host check refusal", text)
		}
		if lock.Status != http.StatusForbidden || !strings.Contains(lock.Body, "Host check failed") {
			t.Errorf("same-origin POST /lock from the rebound page: %+v, want 403 Host check failed", lock)
		}
		nl.expect(t, "rebind-get", 403, "none")
		nl.expect(t, "rebind-lock", 403, "none")
		appendText(t, ctx, "This page is "+rebound+", a rebound name for 127.0.0.1. Its same-origin POST /lock was answered "+
			fmt.Sprint(lock.Status)+". The conduit is still "+st.get(t)+".")
		if err := chromedp.Run(ctx, shot(t, ctx, "hostile-rebinding")); err != nil {
			t.Fatal(err)
		}
		if s := st.get(t); s != "unlocked" {
			t.Fatalf("conduit %s after the rebound page, want unlocked", s)
		}
	})

	// The headers that keep pages unframeable and unreadable, seen from Go:
	// on the home page with a session, and on a refusal.
	for _, path := range []string{"/", "/lock"} {
		method := "GET"
		if path == "/lock" {
			method = "POST"
		}
		resp := st.raw(t, method, path, "", http.Header{"Sec-Fetch-Site": {"cross-site"}})
		resp.Body.Close()
		if resp.Header.Get("X-Frame-Options") != "DENY" ||
			!strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") ||
			resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s %s headers %v: want X-Frame-Options DENY, frame-ancestors 'none', no Access-Control-Allow-Origin", method, path, resp.Header)
		}
	}

	// 5. The conduit is still unlocked and usable, and the controls: the very
	// same code from the conduit's own origin reads the identity, opens the
	// websocket and locks; the page's own Lock form locks.
	var home string
	if err := chromedp.Run(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible("#muid"),
		chromedp.Text("#muid", &home),
		shot(t, ctx, "hostile-after"),
	); err != nil {
		t.Fatalf("home after the attacks: %v", err)
	}
	if home != muid {
		t.Fatalf("home after the attacks shows %q, want %q", home, muid)
	}
	var ctl attackResult
	if err := chromedp.Run(ctx, evalAwait(attackJS+`; borgAttack(`+jsString(base)+`, "control", {lock: false})`, &ctl)); err != nil {
		t.Fatalf("control: %v", err)
	}
	if !ctl.Read.OK || !ctl.Read.Muid {
		t.Errorf("control read from the conduit's own origin: %+v, want the home page with the identity", ctl.Read)
	}
	if !ctl.WS.Opened {
		t.Errorf("control websocket from the conduit's own origin: %+v, want open", ctl.WS)
	}
	nl.expect(t, "read-control", 200, "sent")
	nl.expectWS(t, "ws-control", "101")

	// The page follows the lock at once (its websocket hears of it and
	// reloads), which may end the evaluation before its promise settles: the
	// network log and the state tell what happened.
	var lock fetchResult
	if err := chromedp.Run(ctx, evalAwait(attackJS+`; borgLock(`+jsString(base)+`, "control")`, &lock)); err != nil {
		t.Logf("control lock evaluation: %v", err)
	}
	nl.expect(t, "lock-control", 303, "sent")
	if s := st.get(t); s != "locked" {
		t.Fatalf("control: the same lock fetch from the conduit's own origin left it %s, want locked", s)
	}
	// Wait for that reload rather than race it; open the start only if it
	// did not happen.
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	err = chromedp.Run(wctx, chromedp.WaitVisible("#unlock"))
	cancel()
	if err != nil {
		if err := chromedp.Run(ctx, chromedp.Navigate(base+"/")); err != nil {
			t.Fatal(err)
		}
	}
	var again string
	if err := chromedp.Run(ctx,
		fill("passphrase", passphrase),
		chromedp.Click("#unlock"),
		chromedp.WaitVisible("#muid"),
		chromedp.Text("#muid", &again),
	); err != nil {
		t.Fatalf("unlock after the control lock: %v", err)
	}
	if again != muid || st.get(t) != "unlocked" {
		t.Fatalf("unlocked again as %q (%s), want %q unlocked", again, st.get(t), muid)
	}
	if err := chromedp.Run(ctx,
		chromedp.Click("#lock"),
		chromedp.WaitVisible("#unlock"),
		shot(t, ctx, "hostile-control-locked"),
	); err != nil {
		t.Fatalf("control: the page's own Lock button: %v", err)
	}
	if s := st.get(t); s != "locked" {
		t.Fatalf("control: the page's own Lock form left the conduit %s, want locked", s)
	}
	nl.expectPath(t, "POST", base+"/lock", 303, "sent")
}

// attackJS is the attacker's code, run as the hostile pages' inline script
// and, for the controls, in the conduit's own page through DevTools.
const attackJS = `
async function borgRead(base, tag) {
  try {
    const resp = await fetch(base + "/?attack=read-" + tag, {credentials: "include"});
    const body = await resp.text();
    return {ok: true, status: resp.status, muid: body.includes('id="muid"')};
  } catch (e) {
    return {ok: false, error: String(e)};
  }
}
async function borgLock(base, tag) {
  try {
    const resp = await fetch(base + "/lock?attack=lock-" + tag, {method: "POST", mode: "no-cors", credentials: "include",
      headers: {"Content-Type": "application/x-www-form-urlencoded"}, body: "x=1"});
    return {sent: true, type: resp.type, status: resp.status};
  } catch (e) {
    return {sent: false, error: String(e)};
  }
}
async function borgPost(path) {
  try {
    const resp = await fetch(path, {method: "POST", headers: {"Content-Type": "application/x-www-form-urlencoded"}, body: "x=1"});
    return {sent: true, type: resp.type, status: resp.status, body: await resp.text()};
  } catch (e) {
    return {sent: false, error: String(e)};
  }
}
function borgWS(base, tag) {
  return new Promise(resolve => {
    const r = {opened: false, error: false};
    let ws;
    try {
      ws = new WebSocket(base.replace(/^http/, "ws") + "/ws?attack=ws-" + tag);
    } catch (e) {
      r.exception = String(e);
      resolve(r);
      return;
    }
    ws.onopen = () => { r.opened = true; ws.close(); };
    ws.onerror = () => { r.error = true; };
    ws.onclose = ev => { r.code = ev.code; resolve(r); };
    setTimeout(() => { r.timeout = true; resolve(r); }, 10000);
  });
}
async function borgAttack(base, tag, opts) {
  const r = {origin: location.origin};
  r.read = await borgRead(base, tag);
  if (opts.lock) r.lock = await borgLock(base, tag);
  r.ws = await borgWS(base, tag);
  return r;
}
`

// attackPage is the hostile page: it frames the conduit, and for control a
// page of its own site and one of another site; it runs the attacks and
// prints what it saw.
const attackPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>Hostile page</title>
<style>
body { font: 15px sans-serif; margin: 1.5em; color: #222; }
h1 { color: #a00; font-size: 22px; }
td, th { border: 1px solid #bbb; padding: 4px 8px; text-align: left; vertical-align: top; }
table { border-collapse: collapse; margin: 1em 0; }
iframe { width: 330px; height: 150px; border: 2px dashed #a00; }
.frames { display: flex; gap: 1em; }
pre { background: #f4f4f4; padding: .5em; white-space: pre-wrap; }
#notes p { background: #eef6ee; padding: .5em; }
</style></head>
<body>
<h1>Hostile page at <span id="origin"></span></h1>
<p>This page knows BorgHUI runs at <b>{{BASE}}</b> and that this browser holds a BorgHUI session. It tries to read it, lock it, listen to it and frame it.</p>
<table id="summary"><tr><th>Attempt</th><th>What this page saw</th></tr></table>
<div class="frames">
<div><p>BorgHUI in a frame:</p><iframe id="conduit-frame" src="{{BASE}}/?attack=frame-{{TAG}}" onload="window.__frames = (window.__frames || 0) + 1"></iframe></div>
<div><p>A page of this site in a frame (control):</p><iframe id="control-frame" src="/framed" onload="window.__frames = (window.__frames || 0) + 1"></iframe></div>
<div><p>A page of another site in a frame (control):</p><iframe id="peer-frame" src="{{PEER}}/framed" onload="window.__frames = (window.__frames || 0) + 1"></iframe></div>
</div>
<div id="notes"></div>
<pre id="results">running…</pre>
<script>
{{JS}}
(async () => {
  const base = {{BASE_JS}}, tag = {{TAG_JS}};
  document.getElementById("origin").textContent = location.origin;
  const r = await borgAttack(base, tag, {lock: true});
  for (let i = 0; i < 100 && (window.__frames || 0) < 3; i++) await new Promise(ok => setTimeout(ok, 50));
  let doc;
  try { doc = String(document.getElementById("conduit-frame").contentDocument); } catch (e) { doc = String(e); }
  r.frame = {loadEvents: window.__frames || 0, contentDocument: doc};
  const rows = [
    ["GET / with credentials (read)", r.read.ok ? "READ IT (identity shown: " + r.read.muid + ")" : "failed: " + r.read.error],
    ["POST /lock, no-cors fetch", r.lock.sent ? "response " + r.lock.type + ", status hidden from this page" : "no response visible: " + r.lock.error],
    ["WebSocket /ws", r.ws.opened ? "OPENED" : "refused (error " + r.ws.error + ", close code " + r.ws.code + ")"],
    ["Frame BorgHUI", "load events " + r.frame.loadEvents + "; contentDocument " + r.frame.contentDocument],
  ];
  const table = document.getElementById("summary");
  for (const [a, b] of rows) {
    const tr = table.insertRow();
    tr.insertCell().textContent = a;
    tr.insertCell().textContent = b;
  }
  document.getElementById("results").textContent = JSON.stringify(r, null, 1);
  window.__results = r;
  window.__done = true;
})();
window.__note = text => {
  const p = document.createElement("p");
  p.textContent = text;
  document.getElementById("notes").appendChild(p);
};
</script>
</body></html>
`

// formPage posts a form to the conduit's /lock as soon as it loads.
const formPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>You won</title></head>
<body><h1>You won a prize</h1>
<form id="f" method="post" action="{{BASE}}/lock?attack=form-{{TAG}}"><input type="hidden" name="x" value="1"><button>Claim</button></form>
<script>document.getElementById("f").submit();</script>
</body></html>
`

// hostileServer serves the hostile pages on addr.
func hostileServer(t *testing.T, addr, conduitBase string) *httptest.Server {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("hostile server on %s: %v (on Linux every 127.x.y.z is loopback)", addr, err)
	}
	render := func(tmpl string, q url.Values) string {
		tag := q.Get("tag")
		return strings.NewReplacer(
			"{{BASE}}", html.EscapeString(conduitBase),
			"{{PEER}}", html.EscapeString(q.Get("peer")),
			"{{TAG}}", html.EscapeString(tag),
			"{{BASE_JS}}", jsString(conduitBase),
			"{{TAG_JS}}", jsString(tag),
			"{{JS}}", attackJS,
		).Replace(tmpl)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /attack", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, render(attackPage, r.URL.Query()))
	})
	mux.HandleFunc("GET /form", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, render(formPage, r.URL.Query()))
	})
	mux.HandleFunc("GET /framed", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<!doctype html><p id="framed" style="font:14px sans-serif">A page of the hostile site, framed without trouble.</p>`)
	})
	srv := httptest.NewUnstartedServer(mux)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

type fetchResult struct {
	OK     bool   `json:"ok"`
	Sent   bool   `json:"sent"`
	Status int    `json:"status"`
	Type   string `json:"type"`
	Muid   bool   `json:"muid"`
	Body   string `json:"body"`
	Error  string `json:"error"`
}

type wsResult struct {
	Opened    bool   `json:"opened"`
	Error     bool   `json:"error"`
	Code      int    `json:"code"`
	Timeout   bool   `json:"timeout"`
	Exception string `json:"exception"`
}

type attackResult struct {
	Origin string      `json:"origin"`
	Read   fetchResult `json:"read"`
	Lock   fetchResult `json:"lock"`
	WS     wsResult    `json:"ws"`
	Frame  struct {
		LoadEvents      int    `json:"loadEvents"`
		ContentDocument string `json:"contentDocument"`
	} `json:"frame"`
}

// runAttackPage opens the hostile page on origin and waits for its results.
func runAttackPage(t *testing.T, ctx context.Context, origin, peer, tag string) attackResult {
	t.Helper()
	var res attackResult
	if err := chromedp.Run(ctx,
		chromedp.Navigate(origin+"/attack?"+url.Values{"tag": {tag}, "peer": {peer}}.Encode()),
		chromedp.Poll(`window.__done === true`, nil, chromedp.WithPollingTimeout(30*time.Second)),
		chromedp.Evaluate(`window.__results`, &res),
	); err != nil {
		t.Fatalf("hostile page on %s: %v", origin, err)
	}
	if res.Origin != origin {
		t.Fatalf("the hostile page ran in %q, want %q", res.Origin, origin)
	}
	return res
}

// checkFrames asserts from DevTools that the conduit's frame in the hostile
// page holds Chromium's error page, not the conduit, and that the two
// control frames (a page of the hostile site itself, and one of the other
// hostile site) loaded and are readable by the same means: so this look
// would see the identity if the conduit had rendered in its frame.
func checkFrames(t *testing.T, ctx context.Context, origin, peer, tag string) {
	t.Helper()
	// Any BorgHUI page, even its "not signed in" one, loads our assets.
	doc, unreachable, n := frameContent(t, ctx, "attack="+tag, `#muid, #locked-muid, #lock, script[src^="/assets/"], link[href^="/assets/"]`)
	if !strings.HasPrefix(doc, "chrome-error://") || !strings.Contains(unreachable, "attack="+tag) || n != 0 {
		t.Errorf("the conduit's frame holds %q (unreachable %q) with %d BorgHUI elements; want Chromium's error page and none", doc, unreachable, n)
	}
	for _, control := range []string{origin + "/framed", peer + "/framed"} {
		doc, _, n := frameContent(t, ctx, control, "#framed")
		if doc != control || n != 1 {
			t.Errorf("control frame %s: holds %q with %d #framed elements, want itself with 1", control, doc, n)
		}
	}
}

// frameContent finds the frame of the current page whose URL (or, for an
// error page, the URL it could not show) contains part, in the page's own
// frame tree or, for a cross-site frame Chromium runs in another process,
// as its own target. It returns the frame document's URL, the unreachable
// URL, and how many elements match sel in the frame's document.
func frameContent(t *testing.T, ctx context.Context, part, sel string) (doc, unreachable string, n int) {
	t.Helper()
	var tree *page.FrameTree
	if err := chromedp.Run(ctx, chromedp.ActionFunc(func(ctx context.Context) (err error) {
		tree, err = page.GetFrameTree().Do(ctx)
		return err
	})); err != nil {
		t.Fatal(err)
	}
	for _, c := range tree.ChildFrames {
		f := c.Frame
		if !strings.Contains(f.URL, part) && !strings.Contains(f.UnreachableURL, part) {
			continue
		}
		// In this process: look into the frame through its <iframe>.
		var owners []*cdp.Node
		if err := chromedp.Run(ctx, chromedp.Nodes("iframe", &owners, chromedp.ByQueryAll)); err != nil {
			t.Fatal(err)
		}
		for _, o := range owners {
			if o.FrameID != f.ID || o.ContentDocument == nil {
				continue
			}
			var found []*cdp.Node
			qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := chromedp.Run(qctx, chromedp.Nodes(sel, &found, chromedp.ByQueryAll, chromedp.AtLeast(0), chromedp.FromNode(o)))
			cancel()
			if err != nil {
				t.Fatalf("looking into the frame %s: %v", f.URL, err)
			}
			return f.URL, f.UnreachableURL, len(found)
		}
		t.Fatalf("frame %s is in the page's tree, but no <iframe> shows its document", f.URL)
	}

	// In another process: attach to the frame's own target.
	targets, err := chromedp.Targets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	for _, ti := range targets {
		seen = append(seen, string(ti.Type)+" "+ti.URL)
		if ti.Type != "iframe" || !strings.Contains(ti.URL, part) {
			continue
		}
		// Ending this context would detach from and close its target, and
		// closing a frame's target takes the whole tab with it (even after
		// the tab moved on): so it is left to end with the browser.
		fctx, _ := chromedp.NewContext(ctx, chromedp.WithTargetID(ti.TargetID))
		var root *page.FrameTree
		var found []*cdp.Node
		qctx, qcancel := context.WithTimeout(fctx, 5*time.Second)
		defer qcancel()
		if err := chromedp.Run(qctx,
			chromedp.ActionFunc(func(ctx context.Context) (err error) {
				root, err = page.GetFrameTree().Do(ctx)
				return err
			}),
			chromedp.Nodes(sel, &found, chromedp.ByQueryAll, chromedp.AtLeast(0)),
		); err != nil {
			t.Fatalf("looking into the frame target %s: %v", ti.URL, err)
		}
		return root.Frame.URL, root.Frame.UnreachableURL, len(found)
	}
	var inTree []string
	for _, c := range tree.ChildFrames {
		inTree = append(inTree, c.Frame.URL+" (unreachable "+c.Frame.UnreachableURL+")")
	}
	t.Fatalf("no frame of %s: frames %q, targets %q", part, inTree, seen)
	return "", "", 0
}

// submitHostileForm opens the hostile form page, which posts itself to the
// conduit, and returns the text of the page the browser lands on.
func submitHostileForm(t *testing.T, ctx context.Context, origin, tag, base string) string {
	t.Helper()
	if err := chromedp.Run(ctx, chromedp.Navigate(origin+"/form?tag="+url.QueryEscape(tag))); err != nil {
		t.Fatalf("form page on %s: %v", origin, err)
	}
	var loc, text string
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		err := chromedp.Run(ctx, chromedp.Location(&loc))
		if err == nil && strings.HasPrefix(loc, base+"/lock") {
			err = chromedp.Run(ctx, chromedp.WaitReady("body"), chromedp.Text("body", &text))
			if err == nil && text != "" {
				return text
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the form from %s did not land on the conduit: at %q (%v)", origin, loc, err)
		}
	}
}

// note appends a line to the hostile page (for the screenshot).
func note(t *testing.T, ctx context.Context, text string) {
	t.Helper()
	var discard any
	if err := chromedp.Run(ctx, chromedp.Evaluate(`window.__note(`+jsString(text)+`)`, &discard)); err != nil {
		t.Fatal(err)
	}
}

// appendText adds a paragraph at the end of any page (for the screenshot).
func appendText(t *testing.T, ctx context.Context, text string) {
	t.Helper()
	var discard any
	if err := chromedp.Run(ctx, chromedp.Evaluate(`{ const p = document.createElement("p"); p.textContent = `+jsString(text)+
		`; document.body.appendChild(p); }`, &discard)); err != nil {
		t.Fatal(err)
	}
}

func evalAwait(expr string, res any) chromedp.Action {
	return chromedp.Evaluate(expr, res, func(p *runtime.EvaluateParams) *runtime.EvaluateParams {
		return p.WithAwaitPromise(true)
	})
}

// sessionCookie returns the browser's BorgHUI session cookie and checks it
// is HttpOnly, SameSite=Strict and host-only.
func sessionCookie(t *testing.T, ctx context.Context, base string) *http.Cookie {
	t.Helper()
	var cookies []*network.Cookie
	if err := chromedp.Run(ctx, chromedp.ActionFunc(func(ctx context.Context) (err error) {
		cookies, err = network.GetCookies().WithURLs([]string{base + "/"}).Do(ctx)
		return err
	})); err != nil {
		t.Fatal(err)
	}
	for _, c := range cookies {
		if strings.HasPrefix(c.Name, "borghui_") {
			if !c.HTTPOnly || c.SameSite != network.CookieSameSiteStrict || c.Domain != "127.0.0.1" {
				t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Strict, host 127.0.0.1", c)
			}
			return &http.Cookie{Name: c.Name, Value: c.Value}
		}
	}
	t.Fatalf("the browser holds no BorgHUI session cookie after the launch URL: %d cookies", len(cookies))
	return nil
}

// stateChecker asks the conduit, from Go with the browser's own session
// cookie, whether the identity is locked.
type stateChecker struct {
	base   string
	cookie *http.Cookie
}

var hostileClient = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout:       10 * time.Second,
}

func (s *stateChecker) raw(t *testing.T, method, path, host string, h http.Header) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, s.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.AddCookie(s.cookie)
	resp, err := hostileClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func (s *stateChecker) do(t *testing.T, method, path, host string, h http.Header) (int, string) {
	t.Helper()
	resp := s.raw(t, method, path, host, h)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// get returns "unlocked" or "locked".
func (s *stateChecker) get(t *testing.T) string {
	t.Helper()
	code, body := s.do(t, "GET", "/", "", nil)
	switch {
	case code == http.StatusOK && strings.Contains(body, `id="muid"`):
		return "unlocked"
	case code == http.StatusOK && strings.Contains(body, `id="locked-muid"`):
		return "locked"
	}
	t.Fatalf("conduit home: %d %.300q: neither unlocked nor locked", code, body)
	return ""
}

// netLog records what Chromium sent and what came back, per request.
type netLog struct {
	mu   sync.Mutex
	reqs map[network.RequestID]*netReq
}

type netReq struct {
	method, url string
	ws          bool
	statuses    []int64  // one per hop (redirects keep the request id)
	cookies     []string // per hop: "sent", "samesite" (withheld by SameSite=Strict), "blocked: reasons", "none"
	failed      string   // Chromium's network error, and its CORS verdict
	wsError     string   // why a websocket handshake failed, as Chromium says
}

func watchNetwork(ctx context.Context) *netLog {
	nl := &netLog{reqs: map[network.RequestID]*netReq{}}
	get := func(id network.RequestID) *netReq {
		r := nl.reqs[id]
		if r == nil {
			r = &netReq{}
			nl.reqs[id] = r
		}
		return r
	}
	chromedp.ListenTarget(ctx, func(ev any) {
		nl.mu.Lock()
		defer nl.mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			r := get(e.RequestID)
			if r.url == "" {
				r.method, r.url = e.Request.Method, e.Request.URL
			}
		case *network.EventWebSocketCreated:
			r := get(e.RequestID)
			r.method, r.url, r.ws = "GET", e.URL, true
		case *network.EventRequestWillBeSentExtraInfo:
			r := get(e.RequestID)
			c := "none"
			for _, ac := range e.AssociatedCookies {
				if ac.Cookie == nil || !strings.HasPrefix(ac.Cookie.Name, "borghui_") {
					continue
				}
				switch {
				case len(ac.BlockedReasons) == 0:
					c = "sent"
				case slices.ContainsFunc(ac.BlockedReasons, func(r network.CookieBlockedReason) bool {
					return strings.Contains(string(r), "SameSiteStrict")
				}):
					c = "samesite"
				default:
					c = fmt.Sprint("blocked: ", ac.BlockedReasons)
				}
			}
			r.cookies = append(r.cookies, c)
		case *network.EventResponseReceivedExtraInfo:
			r := get(e.RequestID)
			r.statuses = append(r.statuses, e.StatusCode)
		case *network.EventWebSocketHandshakeResponseReceived:
			r := get(e.RequestID)
			if e.Response != nil && len(r.statuses) == 0 {
				r.statuses = append(r.statuses, e.Response.Status)
			}
		case *network.EventWebSocketFrameError:
			r := get(e.RequestID)
			if r.wsError == "" {
				r.wsError = e.ErrorMessage
			}
		case *network.EventLoadingFailed:
			r := get(e.RequestID)
			r.failed = e.ErrorText
			if e.CorsErrorStatus != nil {
				r.failed += " CORS " + string(e.CorsErrorStatus.CorsError)
			}
		}
	})
	return nl
}

// find waits for a request that match accepts to have an answer status.
// With needCookies it also waits for the request's cookie report.
func (nl *netLog) find(t *testing.T, match func(*netReq) bool, what string, needCookies bool) netReq {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		nl.mu.Lock()
		var found *netReq
		for _, r := range nl.reqs {
			if match(r) && len(r.statuses) > 0 && (len(r.cookies) > 0 || !needCookies) {
				c := *r
				found = &c
			}
		}
		nl.mu.Unlock()
		if found != nil {
			return *found
		}
		if time.Now().After(deadline) {
			nl.mu.Lock()
			var all []string
			for _, r := range nl.reqs {
				if strings.Contains(r.url, "attack=") || strings.Contains(r.url, "/lock") {
					all = append(all, fmt.Sprintf("%s %s ws=%v %v %v %s", r.method, r.url, r.ws, r.statuses, r.cookies, r.failed))
				}
			}
			nl.mu.Unlock()
			slices.Sort(all)
			t.Fatalf("no answered request %s in Chromium's network log; seen:\n%s", what, strings.Join(all, "\n"))
		}
	}
}

func byTag(tag string) func(*netReq) bool {
	return func(r *netReq) bool {
		u, err := url.Parse(r.url)
		return err == nil && u.Query().Get("attack") == tag
	}
}

// expect checks the conduit's first answer to the request tagged tag, and
// whether the session cookie was sent ("sent"), withheld by the browser
// for SameSite=Strict ("samesite") or absent for that host ("none").
func (nl *netLog) expect(t *testing.T, tag string, status int64, cookie string) {
	t.Helper()
	r := nl.find(t, byTag(tag), "tagged "+tag, true)
	nl.check(t, tag, r, status, cookie)
}

func (nl *netLog) expectPath(t *testing.T, method, u string, status int64, cookie string) {
	t.Helper()
	r := nl.find(t, func(r *netReq) bool { return r.method == method && r.url == u }, method+" "+u, true)
	nl.check(t, method+" "+u, r, status, cookie)
}

func (nl *netLog) check(t *testing.T, what string, r netReq, status int64, cookie string) {
	t.Helper()
	if r.statuses[0] != status {
		t.Errorf("%s (%s %s): the conduit answered %d, want %d", what, r.method, r.url, r.statuses[0], status)
	}
	if r.cookies[0] != cookie {
		t.Errorf("%s (%s %s): session cookie %s, want %s", what, r.method, r.url, r.cookies[0], cookie)
	}
}

// expectWS checks how the websocket handshake tagged tag ended: "101" for
// an upgrade, else Chromium's error message. Chromium reports a refused
// handshake only as a message: "Unexpected response code: 403", and for a
// 401 "HTTP Authentication failed; no valid credentials available".
func (nl *netLog) expectWS(t *testing.T, tag, want string) {
	t.Helper()
	match := func(r *netReq) bool { return r.ws && byTag(tag)(r) }
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		nl.mu.Lock()
		got := ""
		for _, r := range nl.reqs {
			if match(r) {
				if len(r.statuses) > 0 {
					got = fmt.Sprint(r.statuses[0])
				} else {
					got = r.wsError
				}
			}
		}
		nl.mu.Unlock()
		if got != "" && strings.Contains(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("websocket %s: handshake ended %q, want %q", tag, got, want)
			return
		}
	}
}

// expectFailed checks Chromium refused the response of the request tagged
// tag with this network error.
func (nl *netLog) expectFailed(t *testing.T, tag, errText string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		nl.mu.Lock()
		var got []string
		for _, r := range nl.reqs {
			if byTag(tag)(r) {
				got = append(got, r.failed)
			}
		}
		nl.mu.Unlock()
		if slices.ContainsFunc(got, func(f string) bool { return strings.Contains(f, errText) }) {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%s: Chromium's errors %q, want %q", tag, got, errText)
			return
		}
	}
}

func statusText(nl *netLog, tag string) string {
	nl.mu.Lock()
	defer nl.mu.Unlock()
	for _, r := range nl.reqs {
		if byTag(tag)(r) {
			switch {
			case len(r.statuses) > 0:
				return fmt.Sprint(r.statuses[0])
			case r.wsError != "":
				return fmt.Sprintf("%q", r.wsError)
			}
		}
	}
	return "?"
}
