package web

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/borgios/borghui/conduit"
)

// testWords is the public BIP39 test vector "legal winner … title".
const testWords = "legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth title"

// appServer runs a Server whose conduit holds an unlocked identity and
// whose session is sv (fakes of the sections' APIs; nil fields are
// sections the test does not use). It returns the server and a session
// cookie.
func appServer(t *testing.T, sv *services) (*Server, *http.Cookie) {
	t.Helper()
	c := conduit.New(conduit.Config{KeystoreDir: t.TempDir(), TestKDF: true})
	t.Cleanup(c.Close)
	pass := []byte("app test passphrase 123")
	if err := c.RestoreWords([]byte(testWords), nil, pass, pass, false); err != nil {
		t.Fatal(err)
	}
	s, err := Listen("127.0.0.1:0", Options{Conduit: c})
	if err != nil {
		t.Fatal(err)
	}
	if sv != nil {
		s.services = func() (*services, error) { return sv, nil }
	}
	go s.Serve()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return s, session(t, s)
}

// get fetches path with the session and returns the status and body.
func get(t *testing.T, s *Server, cookie *http.Cookie, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", s.BaseURL()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.AddCookie(cookie)
	resp := do(t, req)
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// post sends a form to path with the session, as htmx would when hx is
// set, and returns the response (its body read into the string).
func post(t *testing.T, s *Server, cookie *http.Cookie, path string, form url.Values, hx bool) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("POST", s.BaseURL()+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", s.BaseURL())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if hx {
		req.Header.Set("HX-Request", "true")
	}
	req.AddCookie(cookie)
	resp := do(t, req)
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func TestSectionsWaitForTheNetwork(t *testing.T) {
	s, cookie := appServer(t, nil) // no Network configured: never connects
	for _, path := range []string{"/files", "/mail", "/wallet"} {
		code, body := get(t, s, cookie, path)
		if code != http.StatusServiceUnavailable || !strings.Contains(body, `id="offline"`) {
			t.Errorf("GET %s offline: %d, want 503 and the offline notice\n%s", path, code, body)
		}
	}
}
