package web

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/borgios/borghui/conduit"
)

// fakeHome is a HomeControl over a real HomeList (so folders and quotas
// are checked for real) with 50 GB free everywhere and a pretend node.
type fakeHome struct {
	list    *conduit.HomeList
	suggest string

	mu      sync.Mutex
	running bool
	calls   []string
}

func newFakeHome(t *testing.T) *fakeHome {
	t.Helper()
	stick := t.TempDir()
	return &fakeHome{
		list: &conduit.HomeList{Path: filepath.Join(stick, conduit.HomeFile), Host: "this-host", Stick: []string{stick},
			FreeSpace: func(string) (int64, error) { return 50 << 30, nil }},
		suggest: filepath.Join(t.TempDir(), "BorgHUI node"),
	}
}

func (f *fakeHome) Home() HomeState {
	c, ok, err := f.list.Get()
	f.mu.Lock()
	defer f.mu.Unlock()
	st := HomeState{Allowed: ok, Choice: c, Running: ok && f.running, Suggest: f.suggest}
	if err != nil {
		st.Note = conduit.HomeMessage(err)
	}
	return st
}

func (f *fakeHome) Allow(folder string, quota int64) (HomeState, error) {
	f.mu.Lock()
	f.calls = append(f.calls, "allow")
	f.mu.Unlock()
	if _, err := f.list.Allow(folder, quota); err != nil {
		return f.Home(), err
	}
	f.mu.Lock()
	f.running = true
	f.mu.Unlock()
	return f.Home(), nil
}

func (f *fakeHome) Disallow() (HomeState, error) {
	f.mu.Lock()
	f.calls = append(f.calls, "stop")
	f.mu.Unlock()
	if err := f.list.Disallow(); err != nil {
		return f.Home(), err
	}
	f.mu.Lock()
	f.running = false
	f.mu.Unlock()
	return f.Home(), nil
}

func (f *fakeHome) Free(folder string) (int64, error) { return f.list.Free(folder) }

// homeServer is appServer with home mode driven by hc (nil: none).
func homeServer(t *testing.T, hc HomeControl) (*Server, *http.Cookie) {
	t.Helper()
	c := conduit.New(conduit.Config{KeystoreDir: t.TempDir(), TestKDF: true, Network: &conduit.NetworkConfig{Mode: "guest",
		Endpoints: func(context.Context) (conduit.Endpoints, error) { return nil, conduit.ErrNoNetwork }}})
	t.Cleanup(c.Close)
	if err := c.RestoreWords([]byte(testWords), nil, []byte(appPass), []byte(appPass), false); err != nil {
		t.Fatal(err)
	}
	opts := Options{Conduit: c}
	if hc != nil {
		opts.Home = hc
	}
	s, err := Listen("127.0.0.1:0", opts)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return s, session(t, s)
}

func TestSettingsHomeCard(t *testing.T) {
	fh := newFakeHome(t)
	s, cookie := homeServer(t, fh)
	code, body := get(t, s, cookie, "/settings")
	if code != http.StatusOK {
		t.Fatalf("GET /settings: %d", code)
	}
	for _, want := range []string{`id="home-card"`, `data-mode="guest"`, "Mode: Guest.", `data-allowed="false"`,
		`id="home-folder-in"`, `value="` + fh.suggest + `"`, `id="home-quota-in"`, `value="10"`, "Free there: 50.0 GB.",
		`hx-get="/settings/home/free"`, `id="home-allow"`, "Off by default"} {
		if !strings.Contains(body, want) {
			t.Errorf("settings page lacks %q", want)
		}
	}
	// The form does not refresh itself (it would wipe what is typed).
	card := body[strings.Index(body, `id="home-card"`)-30:]
	if head := card[:strings.Index(card, ">")]; strings.Contains(head, "hx-trigger") {
		t.Errorf("the form card refreshes itself: %s", head)
	}
	// Without a HomeControl the card says so and offers no form.
	s2, cookie2 := homeServer(t, nil)
	_, body = get(t, s2, cookie2, "/settings")
	if !strings.Contains(body, `id="home-unavailable"`) || strings.Contains(body, `id="home-allow"`) {
		t.Error("no home control, yet the card offers the form")
	}
	if resp, body := post(t, s2, cookie2, "/settings/home", url.Values{"action": {"allow"}, "folder": {"/x"}, "quota": {"2"}}, true); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="home-unavailable"`) {
		t.Errorf("allow without a home control: %d %s", resp.StatusCode, body)
	}
}

func TestSettingsHomeAllowAndStop(t *testing.T) {
	fh := newFakeHome(t)
	s, cookie := homeServer(t, fh)
	// Folder names are hostile input: they come back escaped.
	folder := filepath.Join(t.TempDir(), `<script>alert("x")</script>&co`)
	resp, body := post(t, s, cookie, "/settings/home", url.Values{"action": {"allow"}, "folder": {" " + folder + " "}, "quota": {"2,5"}}, true)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(body, `<section class="card" id="home-card"`) {
		t.Fatalf("allow: %d\n%s", resp.StatusCode, body)
	}
	for _, want := range []string{`id="home-done"`, "Home mode allowed", `data-allowed="true"`, `data-running="true"`,
		"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&amp;co", "2.5 GB", `id="home-stop"`, `hx-trigger="borg:network from:document"`} {
		if !strings.Contains(body, want) {
			t.Errorf("allowed card lacks %q\n%s", want, body)
		}
	}
	if strings.Contains(body, "<script>alert") {
		t.Fatal("a folder name came back unescaped")
	}
	c, ok, err := fh.list.Get()
	if err != nil || !ok || c.Folder != folder || c.QuotaBytes != 5<<29 {
		t.Fatalf("recorded %+v %v %v", c, ok, err)
	}
	if st, err := os.Stat(folder); err != nil || !st.IsDir() {
		t.Fatal("folder not made")
	}
	// The card refreshes itself alone while allowed.
	if code, body := getHX(t, s, cookie, "/settings/home"); code != http.StatusOK || !strings.Contains(body, `data-running="true"`) {
		t.Fatalf("GET /settings/home: %d %s", code, body)
	}
	// Stop: the node ends, the folder stays and is named.
	resp, body = post(t, s, cookie, "/settings/home", url.Values{"action": {"stop"}}, true)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "The node stopped") || !strings.Contains(body, "&lt;script&gt;") ||
		!strings.Contains(body, `data-allowed="false"`) || !strings.Contains(body, `id="home-allow"`) {
		t.Fatalf("stop: %d\n%s", resp.StatusCode, body)
	}
	if _, ok, _ := fh.list.Get(); ok {
		t.Fatal("still allowed after stop")
	}
	if _, err := os.Stat(folder); err != nil {
		t.Fatal("stopping deleted the person's folder")
	}
	// Without htmx: a whole page.
	resp, body = post(t, s, cookie, "/settings/home", url.Values{"action": {"allow"}, "folder": {folder}, "quota": {"1"}}, false)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "<html") || !strings.Contains(body, `id="home-done"`) {
		t.Fatalf("plain allow: %d\n%s", resp.StatusCode, body)
	}
	// Locked: back to the start, nothing changes.
	s.opts.Conduit.Lock()
	if resp, _ := post(t, s, cookie, "/settings/home", url.Values{"action": {"stop"}}, true); resp.StatusCode != http.StatusNoContent || resp.Header.Get("HX-Redirect") != "/" {
		t.Fatalf("locked stop: %d", resp.StatusCode)
	}
	if _, ok, _ := fh.list.Get(); !ok {
		t.Fatal("a locked conduit stopped home mode")
	}
}

func TestSettingsHomeRefusals(t *testing.T) {
	fh := newFakeHome(t)
	s, cookie := homeServer(t, fh)
	disk := t.TempDir()
	stickFolder := filepath.Join(filepath.Dir(fh.list.Path), "node")
	tests := []struct {
		name, folder, quota, action, want string
	}{
		{"not a number", filepath.Join(disk, "a"), "lots", "allow", "number of GB"},
		{"negative", filepath.Join(disk, "a"), "-3", "allow", "number of GB"},
		{"too small", filepath.Join(disk, "a"), "0.5", "allow", "at least 1 GB"},
		{"too big", filepath.Join(disk, "a"), "51", "allow", "Only 50.0 GB is free"},
		{"relative", "borg<b>node", "2", "allow", "full path"},
		{"on the stick", stickFolder, "2", "allow", "on the stick"},
		{"no action", filepath.Join(disk, "a"), "2", "", "Choose to run a node here"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := post(t, s, cookie, "/settings/home", url.Values{"action": {tt.action}, "folder": {tt.folder}, "quota": {tt.quota}}, true)
			if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, tt.want) {
				t.Fatalf("%d, want 422 with %q\n%s", resp.StatusCode, tt.want, body)
			}
			// The form comes back with what was typed, escaped.
			if !strings.Contains(body, `id="home-allow"`) || strings.Contains(body, "<b>") {
				t.Fatalf("the answer is not the form with the typed values escaped\n%s", body)
			}
			if tt.action == "allow" && tt.quota != "lots" && !strings.Contains(body, `value="`+tt.quota+`"`) {
				t.Fatalf("typed quota lost\n%s", body)
			}
			if _, ok, _ := fh.list.Get(); ok {
				t.Fatal("allowed after a refusal")
			}
		})
	}
	if _, err := os.Stat(filepath.Join(disk, "a")); !os.IsNotExist(err) {
		t.Fatal("a refused choice made its folder")
	}
	// A damaged list: stopping says what to do and the file is kept.
	os.WriteFile(fh.list.Path, []byte("{not json"), 0o600)
	resp, body := post(t, s, cookie, "/settings/home", url.Values{"action": {"stop"}}, true)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, conduit.HomeFile) {
		t.Fatalf("damaged list: %d\n%s", resp.StatusCode, body)
	}
	if data, _ := os.ReadFile(fh.list.Path); string(data) != "{not json" {
		t.Fatal("the damaged list was rewritten")
	}
}

func TestSettingsHomeFree(t *testing.T) {
	fh := newFakeHome(t)
	s, cookie := homeServer(t, fh)
	tests := []struct{ folder, want string }{
		{filepath.Join(t.TempDir(), "new"), `data-free="50.0 GB"`},
		{"relative<i>", "full path"},
		{"", `data-free=""`},
	}
	for _, tt := range tests {
		code, body := getHX(t, s, cookie, "/settings/home/free?folder="+url.QueryEscape(tt.folder))
		if code != http.StatusOK || !strings.HasPrefix(body, `<p class="hint" id="home-free"`) || !strings.Contains(body, tt.want) || strings.Contains(body, "<i>") {
			t.Errorf("free %q: %d %s", tt.folder, code, body)
		}
	}
	if code, _ := get(t, s, cookie, "/settings/home/free?folder=/"); code != http.StatusSeeOther {
		t.Errorf("plain GET of the fragment: %d, want 303 to the page", code)
	}
}

// getHX is get as htmx sends it.
func getHX(t *testing.T, s *Server, cookie *http.Cookie, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", s.BaseURL()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("HX-Request", "true")
	req.AddCookie(cookie)
	resp := do(t, req)
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}
