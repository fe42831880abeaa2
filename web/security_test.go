package web

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/borgios/borghui/conduit"
)

// testServer runs a real Server on a loopback port.
func testServer(t *testing.T) *Server {
	t.Helper()
	c := conduit.New(conduit.Config{KeystoreDir: t.TempDir(), TestKDF: true})
	t.Cleanup(c.Close)
	s, err := Listen("127.0.0.1:0", Options{Conduit: c})
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return s
}

var noRedirect = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout:       10 * time.Second,
}

// session exchanges a launch token and returns the session cookie.
func session(t *testing.T, s *Server) *http.Cookie {
	t.Helper()
	resp, err := noRedirect.Get(s.LaunchURL())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("launch: status %d location %q, want 303 to /", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, c := range resp.Cookies() {
		if c.Name == s.sessions.cookie {
			if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Domain != "" || c.Path != "/" {
				t.Fatalf("session cookie not HttpOnly/SameSite=Strict/host-only: %+v", c)
			}
			return c
		}
	}
	t.Fatal("launch set no session cookie")
	return nil
}

func do(t *testing.T, req *http.Request) *http.Response {
	t.Helper()
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestSecurity(t *testing.T) {
	s := testServer(t)
	cookie := session(t, s)
	base := s.BaseURL()
	port := base[strings.LastIndex(base, ":")+1:]

	tests := []struct {
		name   string
		method string
		path   string
		host   string
		header map[string]string
		body   string
		cookie bool
		want   int
	}{
		{name: "home with session", method: "GET", path: "/", cookie: true, want: 200},
		{name: "localhost host allowed", method: "GET", path: "/", host: "localhost:" + port, cookie: true, want: 200},
		{name: "wrong host (DNS rebinding)", method: "GET", path: "/", host: "evil.example:" + port, cookie: true, want: 403},
		{name: "right name, wrong port", method: "GET", path: "/", host: "127.0.0.1:1", cookie: true, want: 403},
		{name: "no session", method: "GET", path: "/", want: 401},
		{name: "no session POST", method: "POST", path: "/create", header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, want: 401},
		{name: "cross-site POST by Sec-Fetch-Site", method: "POST", path: "/create", cookie: true,
			header: map[string]string{"Sec-Fetch-Site": "cross-site", "Content-Type": "application/x-www-form-urlencoded"}, want: 403},
		{name: "cross-site POST by Origin", method: "POST", path: "/lock", cookie: true,
			header: map[string]string{"Origin": "http://evil.example", "Content-Type": "application/x-www-form-urlencoded"}, want: 403},
		{name: "cross-site join (the conduit would dial the address)", method: "POST", path: "/network/join", cookie: true,
			header: map[string]string{"Sec-Fetch-Site": "cross-site", "Content-Type": "application/x-www-form-urlencoded"}, body: "addr=10.0.0.1", want: 403},
		{name: "same-origin POST", method: "POST", path: "/create", cookie: true,
			header: map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": base, "Content-Type": "application/x-www-form-urlencoded"}, want: 303},
		{name: "assets without session", method: "GET", path: "/assets/app.css", want: 200},
		{name: "unknown path", method: "GET", path: "/nope", cookie: true, want: 404},
		{name: "oversized body", method: "POST", path: "/unlock", cookie: true,
			header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, body: "passphrase=" + strings.Repeat("a", maxFormBytes+10), want: 413},
		{name: "malformed form", method: "POST", path: "/restore", cookie: true,
			header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, body: "word=%zz", want: 400},
		{name: "wrong content type", method: "POST", path: "/restore", cookie: true,
			header: map[string]string{"Content-Type": "application/json"}, body: `{"word":"x"}`, want: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, base+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.host != "" {
				req.Host = tt.host
			}
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			if tt.cookie {
				req.AddCookie(cookie)
			}
			resp := do(t, req)
			if resp.StatusCode != tt.want {
				body, _ := io.ReadAll(resp.Body)
				t.Fatalf("status %d, want %d: %.200s", resp.StatusCode, tt.want, body)
			}
			// Every response, refusals included, carries the security headers.
			for k, want := range map[string]string{
				"Cache-Control":   "no-store",
				"Referrer-Policy": "no-referrer",
				"X-Frame-Options": "DENY",
			} {
				if got := resp.Header.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			csp := resp.Header.Get("Content-Security-Policy")
			for _, part := range []string{"script-src 'self'", "frame-ancestors 'none'", "default-src 'none'"} {
				if !strings.Contains(csp, part) {
					t.Errorf("CSP %q lacks %q", csp, part)
				}
			}
			if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
				t.Errorf("CSP allows inline or eval: %q", csp)
			}
		})
	}
}

func TestLaunchTokenIsOneTime(t *testing.T) {
	s := testServer(t)
	u := s.LaunchURL()
	first := do(t, mustReq(t, "GET", u))
	if first.StatusCode != http.StatusSeeOther {
		t.Fatalf("first use: %d, want 303", first.StatusCode)
	}
	again := do(t, mustReq(t, "GET", u))
	if again.StatusCode != http.StatusForbidden {
		t.Fatalf("reused token: %d, want 403", again.StatusCode)
	}
	if len(again.Cookies()) != 0 {
		t.Fatal("a reused token still set a cookie")
	}
	bogus := do(t, mustReq(t, "GET", s.BaseURL()+"/launch?token="+strings.Repeat("0", 64)))
	if bogus.StatusCode != http.StatusForbidden {
		t.Fatalf("unknown token: %d, want 403", bogus.StatusCode)
	}
	forged := mustReq(t, "GET", s.BaseURL()+"/")
	forged.AddCookie(&http.Cookie{Name: s.sessions.cookie, Value: strings.Repeat("a", 64)})
	if resp := do(t, forged); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("forged session cookie: %d, want 401", resp.StatusCode)
	}
}

func TestListenRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", "[::]:0", "192.0.2.1:0", "example.com:0", "nonsense"} {
		if s, err := Listen(addr, Options{}); err == nil {
			s.ln.Close()
			t.Errorf("Listen(%q) succeeded, want refusal", addr)
		}
	}
}

func TestWebSocketOrigin(t *testing.T) {
	s := testServer(t)
	cookie := session(t, s)
	wsURL := "ws" + strings.TrimPrefix(s.BaseURL(), "http") + "/ws"
	header := func(origin string, withCookie bool) http.Header {
		h := http.Header{}
		if origin != "" {
			h.Set("Origin", origin)
		}
		if withCookie {
			h.Set("Cookie", cookie.Name+"="+cookie.Value)
		}
		return h
	}
	tests := []struct {
		name   string
		origin string
		cookie bool
		want   int
	}{
		{"foreign origin", "http://evil.example", true, 403},
		{"missing origin", "", true, 403},
		{"other port", "http://127.0.0.1:1", true, 403},
		{"no session", s.BaseURL(), false, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, resp, err := websocket.DefaultDialer.Dial(wsURL, header(tt.origin, tt.cookie))
			if err == nil {
				conn.Close()
				t.Fatal("websocket upgraded, want refusal")
			}
			if resp == nil || resp.StatusCode != tt.want {
				t.Fatalf("refusal status %v, want %d", resp, tt.want)
			}
		})
	}

	// The right origin with a session upgrades and receives live events.
	conn, _, err := websocket.DefaultDialer.Dial(wsURL, header(s.BaseURL(), true))
	if err != nil {
		t.Fatalf("valid websocket refused: %v", err)
	}
	defer conn.Close()
	time.Sleep(50 * time.Millisecond) // let the handler subscribe
	s.opts.Conduit.Events().Publish(conduit.Event{Type: "identity", State: "locked"})
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var ev conduit.Event
	if err := conn.ReadJSON(&ev); err != nil {
		t.Fatal(err)
	}
	if ev.Type != "identity" || ev.State != "locked" {
		t.Fatalf("event %+v", ev)
	}
}

func TestLegacyFileUpload(t *testing.T) {
	s := testServer(t)
	cookie := session(t, s)
	// A PeerTree key file whose private key hex lost its leading zeros.
	file := `{"publicKey":"0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8","privateKey":"1","peerMUID":"1EHNa6Q4Jz2uvNExL497mE43ikXhwF6kZm"}`
	post := func(content []byte) *http.Response {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		fw, _ := mw.CreateFormFile("file", "peerTreeNet.key")
		fw.Write(content)
		for k, v := range map[string]string{"passphrase": "violet canyon 7 kettles", "confirm": "violet canyon 7 kettles"} {
			mw.WriteField(k, v)
		}
		mw.Close()
		req := mustReq(t, "POST", s.BaseURL()+"/restore/file")
		req.Body = io.NopCloser(&body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		req.AddCookie(cookie)
		return do(t, req)
	}
	if resp := post(bytes.Repeat([]byte("x"), maxFileBytes+1)); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized file: %d, want 413", resp.StatusCode)
	}
	if resp := post([]byte(`{"hello":"world"}`)); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("foreign file: %d, want 422", resp.StatusCode)
	}
	if resp := post([]byte(file)); resp.StatusCode != http.StatusSeeOther {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("PeerTree key file: %d, want 303: %.300s", resp.StatusCode, body)
	}
	info, err := s.opts.Conduit.Identity()
	if err != nil || info.MUID != "1EHNa6Q4Jz2uvNExL497mE43ikXhwF6kZm" {
		t.Fatalf("imported identity %+v (%v)", info, err)
	}
}

func mustReq(t *testing.T, method, u string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestParseURLEncoded(t *testing.T) {
	tests := []struct {
		in      string
		want    map[string][]string
		wantErr bool
	}{
		{in: "a=1&b=2&a=3", want: map[string][]string{"a": {"1", "3"}, "b": {"2"}}},
		{in: "w=hello+world&p=%C3%A9t%C3%A9", want: map[string][]string{"w": {"hello world"}, "p": {"été"}}},
		{in: "&&a=&", want: map[string][]string{"a": {""}}},
		{in: "a=%", wantErr: true},
		{in: "a=%4", wantErr: true},
		{in: "a=%zz", wantErr: true},
	}
	for _, tt := range tests {
		got := map[string][][]byte{}
		err := parseURLEncoded([]byte(tt.in), got)
		if (err != nil) != tt.wantErr {
			t.Fatalf("%q: err %v, wantErr %v", tt.in, err, tt.wantErr)
		}
		if tt.wantErr {
			continue
		}
		for k, vs := range tt.want {
			if len(got[k]) != len(vs) {
				t.Fatalf("%q: %s = %q, want %q", tt.in, k, got[k], vs)
			}
			for i, v := range vs {
				if string(got[k][i]) != v {
					t.Fatalf("%q: %s[%d] = %q, want %q", tt.in, k, i, got[k][i], v)
				}
			}
		}
	}
}

func FuzzParseURLEncoded(f *testing.F) {
	for _, s := range []string{"a=1&b=2", "w=%41%42+c", "%", "a=%zz", "==&&=", strings.Repeat("x=y&", 50)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := map[string][][]byte{}
		if err := parseURLEncoded([]byte(in), got); err != nil {
			return
		}
		// What we accept, the standard library decodes the same way.
		want, err := url.ParseQuery(in)
		if err != nil {
			return // we are more lenient about ';', which ParseQuery rejects
		}
		for k, vs := range want {
			if len(got[k]) != len(vs) {
				t.Fatalf("%q: key %q: %d values, stdlib %d", in, k, len(got[k]), len(vs))
			}
			for i := range vs {
				if string(got[k][i]) != vs[i] {
					t.Fatalf("%q: key %q: %q, stdlib %q", in, k, got[k][i], vs[i])
				}
			}
		}
	})
}

func TestWarningAndLegacyOffer(t *testing.T) {
	c := conduit.New(conduit.Config{KeystoreDir: t.TempDir(), TestKDF: true})
	t.Cleanup(c.Close)
	s, err := Listen("127.0.0.1:0", Options{Conduit: c, Warning: "Warning: memory is not locked."})
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	cookie := session(t, s)
	get := func() string {
		req := mustReq(t, "GET", s.BaseURL()+"/")
		req.AddCookie(cookie)
		body, _ := io.ReadAll(do(t, req).Body)
		return string(body)
	}
	if page := get(); !strings.Contains(page, "Warning: memory is not locked.") {
		t.Fatal("the memory warning is not shown")
	}
	if err := c.RestoreLegacyPhrase([]byte("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon diesel empower report divorce"),
		[]byte("violet canyon 7 kettles"), []byte("violet canyon 7 kettles"), false); err != nil {
		t.Fatal(err)
	}
	page := get()
	for _, want := range []string{"no 24 words", `id="create-new"`, "1EHNa6Q4Jz2uvNExL497mE43ikXhwF6kZm"} {
		if !strings.Contains(page, want) {
			t.Errorf("legacy home page lacks %q", want)
		}
	}
}
