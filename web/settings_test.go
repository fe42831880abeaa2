package web

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/borgios/borghui/conduit"
	"github.com/borgios/borghui/internal/testvec"
	"github.com/borgios/borghui/wallet/keystore"
)

// appPass is the passphrase appServer's identity is saved under.
const appPass = "app test passphrase 123"

func TestSettingsPage(t *testing.T) {
	s, cookie := appServer(t, nil) // Settings needs no network
	code, body := get(t, s, cookie, "/settings")
	if code != http.StatusOK {
		t.Fatalf("GET /settings: %d\n%s", code, body)
	}
	for _, want := range []string{
		`id="old-pass"`, `id="new-pass"`, `id="new-confirm"`, `id="change-pass"`, `id="reveal-pass"`, `id="reveal"`,
		`id="remember-toggle"`, `id="quit"`, `href="/restore/legacy"`, `href="/restore/file"`, "keyring", `data-on="false"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("settings page lacks %q", want)
		}
	}
	if strings.Contains(body, `id="revealed-words"`) {
		t.Error("words shown without the passphrase")
	}
	s.opts.Conduit.Lock()
	if code, _ := get(t, s, cookie, "/settings"); code != http.StatusSeeOther {
		t.Fatalf("locked /settings: %d, want 303", code)
	}
	if resp, _ := post(t, s, cookie, "/settings/reveal", url.Values{"passphrase": {appPass}}, true); resp.StatusCode != http.StatusNoContent || resp.Header.Get("HX-Redirect") != "/" {
		t.Fatalf("locked reveal: %d", resp.StatusCode)
	}
}

func TestSettingsChangePassphrase(t *testing.T) {
	s, cookie := appServer(t, nil)
	const next = "a new passphrase for the stick 7"
	tests := []struct {
		name, old, new, confirm, want string
		code                          int
	}{
		{"wrong old", "not my passphrase 1234", next, next, "does not open", http.StatusUnprocessableEntity},
		{"weak", appPass, "short", "short", "at least 10 characters", http.StatusUnprocessableEntity},
		{"mismatch", appPass, next, next + "x", "differ", http.StatusUnprocessableEntity},
		{"done", appPass, next, next, "Passphrase changed", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := post(t, s, cookie, "/settings/passphrase", url.Values{"old": {tt.old}, "new": {tt.new}, "confirm": {tt.confirm}}, true)
			if resp.StatusCode != tt.code || !strings.Contains(body, tt.want) {
				t.Fatalf("%d %q, want %d with %q", resp.StatusCode, body, tt.code, tt.want)
			}
			if !strings.HasPrefix(body, `<section class="card" id="pass-card"`) || !strings.Contains(body, `id="change-pass"`) {
				t.Fatal("the answer is not the passphrase card with its form")
			}
			for _, secret := range []string{tt.old, tt.new} {
				if strings.Contains(body, secret) {
					t.Fatal("a passphrase came back in the page")
				}
			}
		})
	}
	c := s.opts.Conduit
	c.Lock()
	if err := c.Unlock([]byte(appPass)); !errors.Is(err, keystore.ErrWrongPassphrase) {
		t.Fatalf("the old passphrase still unlocks: %v", err)
	}
	if err := c.Unlock([]byte(next)); err != nil {
		t.Fatalf("the new passphrase does not unlock: %v", err)
	}
	// Without htmx the answer is a page.
	resp, body := post(t, s, cookie, "/settings/passphrase", url.Values{"old": {"wrong wrong wrong"}, "new": {next}, "confirm": {next}}, false)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "<html") {
		t.Fatalf("plain form: %d", resp.StatusCode)
	}
}

var wordRE = regexp.MustCompile(`<li>([a-z]+)</li>`)

func TestSettingsRevealWords(t *testing.T) {
	s, cookie := appServer(t, nil)
	resp, body := post(t, s, cookie, "/settings/reveal", url.Values{"passphrase": {"not the passphrase 99"}}, true)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "does not open") || strings.Contains(body, "revealed-words") {
		t.Fatalf("wrong passphrase: %d %s", resp.StatusCode, body)
	}
	if !strings.Contains(body, `id="reveal-pass"`) {
		t.Fatal("the form is gone after a wrong passphrase")
	}

	resp, body = post(t, s, cookie, "/settings/reveal", url.Values{"passphrase": {appPass}}, true)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `<ol class="words" id="revealed-words"`) {
		t.Fatalf("reveal: %d %s", resp.StatusCode, body)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("Cache-Control %q, want no-store", cc)
	}
	var words []string
	for _, m := range wordRE.FindAllStringSubmatch(body, -1) {
		words = append(words, m[1])
	}
	if strings.Join(words, " ") != testWords {
		t.Fatalf("revealed %q", words)
	}
	if !strings.Contains(body, `id="hide-words"`) || strings.Contains(body, appPass) {
		t.Fatal("no Hide link, or the passphrase came back")
	}
	// Hide: the card again, words gone.
	resp, body = getFragment(t, s, cookie, "/settings/reveal")
	if resp.StatusCode != http.StatusOK || strings.Contains(body, "revealed-words") || !strings.Contains(body, `id="reveal-pass"`) {
		t.Fatalf("hide: %d %s", resp.StatusCode, body)
	}
}

func TestSettingsLegacyHasNoWords(t *testing.T) {
	var v struct {
		Keys []struct {
			Phrase string `json:"legacyMnemonic27"`
		} `json:"keys"`
	}
	testvec.Load(t, "legacy-borghui.json", &v)
	c := conduit.New(conduit.Config{KeystoreDir: t.TempDir(), TestKDF: true})
	t.Cleanup(c.Close)
	if err := c.RestoreLegacyPhrase([]byte(v.Keys[0].Phrase), []byte(appPass), []byte(appPass), false); err != nil {
		t.Fatal(err)
	}
	s, cookie := optionsServer(t, nil, c, Options{})
	_, body := get(t, s, cookie, "/settings")
	if !strings.Contains(body, `id="no-words"`) || strings.Contains(body, `id="reveal-pass"`) {
		t.Fatal("a legacy identity is offered its words")
	}
	resp, body := post(t, s, cookie, "/settings/reveal", url.Values{"passphrase": {appPass}}, true)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "has no 24 words") {
		t.Fatalf("legacy reveal: %d %s", resp.StatusCode, body)
	}
}

func TestSettingsRememberWithoutKeyring(t *testing.T) {
	s, cookie := appServer(t, nil) // no remember list: the feature is off
	resp, body := post(t, s, cookie, "/settings/remember", url.Values{"remember": {"on"}, "passphrase": {appPass}}, true)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "no keyring service") || !strings.Contains(body, `data-on="false"`) {
		t.Fatalf("remember: %d %s", resp.StatusCode, body)
	}
	resp, body = post(t, s, cookie, "/settings/remember", url.Values{"remember": {"off"}}, true)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Forgotten") {
		t.Fatalf("forget: %d %s", resp.StatusCode, body)
	}
	if resp, _ := post(t, s, cookie, "/settings/remember", url.Values{"remember": {"maybe"}}, true); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("neither on nor off: %d", resp.StatusCode)
	}
}

func TestSettingsQuit(t *testing.T) {
	quit := make(chan struct{})
	s, cookie := optionsServer(t, nil, nil, Options{Quit: func() { close(quit) }})
	// The button asks first.
	resp, body := post(t, s, cookie, "/settings/quit", url.Values{}, false)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="quit-confirm"`) {
		t.Fatalf("quit: %d %s", resp.StatusCode, body)
	}
	select {
	case <-quit:
		t.Fatal("quit without the confirmation")
	case <-time.After(3 * quitDelay):
	}
	resp, body = post(t, s, cookie, "/settings/quit", url.Values{"confirm": {"yes"}}, false)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "BorgHUI stopped") || !strings.Contains(body, "remove the stick") {
		t.Fatalf("quit confirmed: %d %s", resp.StatusCode, body)
	}
	select {
	case <-quit:
	case <-time.After(5 * time.Second):
		t.Fatal("Options.Quit was not called")
	}
}

func TestSettingsQuitUnavailable(t *testing.T) {
	s, cookie := appServer(t, nil) // no Options.Quit
	resp, body := post(t, s, cookie, "/settings/quit", url.Values{"confirm": {"yes"}}, false)
	if resp.StatusCode != http.StatusNotImplemented || !strings.Contains(body, "not available") {
		t.Fatalf("quit without Options.Quit: %d %s", resp.StatusCode, body)
	}
}
