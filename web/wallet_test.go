package web

import (
	"context"
	"crypto/sha256"
	"fmt"
	"github.com/a-h/templ"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/borgios/borghui/cells/ledger"
	"github.com/borgios/borghui/conduit"
	"github.com/borgios/borghui/wallet"
	"github.com/borgios/borghui/wallet/address"
)

// fakeWallet is the Wallet section's view of a ledger, in memory.
type fakeWallet struct {
	mu       sync.Mutex
	muid     string
	balance  ledger.Amount
	entries  []*ledger.HistoryEntry // newest first
	more     bool
	befores  []*ledger.Cursor // History's before argument, per call
	sent     []*conduit.Draft
	prepares int
	status   *ledger.StatusResponse // Status answers this (nil: applied)
	fail     error                  // Balance and History fail with it
}

func (f *fakeWallet) MUID() string { return f.muid }

func (f *fakeWallet) Balance(context.Context) (*ledger.BalanceResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	return &ledger.BalanceResponse{MUID: f.muid, Balance: f.balance}, nil
}

func (f *fakeWallet) History(_ context.Context, before *ledger.Cursor, limit int) (*ledger.HistoryResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.befores = append(f.befores, before)
	if f.fail != nil {
		return nil, f.fail
	}
	return &ledger.HistoryResponse{MUID: f.muid, Entries: f.entries, More: f.more}, nil
}

// Prepare checks as conduit.Wallet.Prepare does.
func (f *fakeWallet) Prepare(_ context.Context, to, amount, fee, memo string) (*conduit.Draft, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.prepares++
	if f.fail != nil {
		return nil, f.fail
	}
	to = strings.TrimSpace(to)
	if _, err := address.ParseMUID(to); err != nil {
		return nil, conduit.ErrBadRecipient
	}
	if to == f.muid {
		return nil, conduit.ErrToSelf
	}
	amt, err := ledger.ParseAmount(strings.TrimSpace(amount))
	if err != nil || amt == 0 {
		return nil, conduit.ErrBadAmount
	}
	var fe ledger.Amount
	if strings.TrimSpace(fee) != "" {
		if fe, err = ledger.ParseAmount(strings.TrimSpace(fee)); err != nil {
			return nil, conduit.ErrBadAmount
		}
	}
	if amt+fe < amt || amt+fe > f.balance {
		return nil, conduit.ErrTooPoor
	}
	return &conduit.Draft{To: to, Amount: amt, Fee: fe, Memo: memo, Balance: f.balance}, nil
}

func (f *fakeWallet) Send(_ context.Context, d *conduit.Draft) (*ledger.StatusResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, d)
	id := sha256.Sum256([]byte(d.To + d.Amount.String() + d.Memo))
	return &ledger.StatusResponse{ID: id, Status: ledger.StatusPending}, nil
}

func (f *fakeWallet) Status(_ context.Context, id ledger.Hash) (*ledger.StatusResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.status != nil {
		st := *f.status
		st.ID = id
		return &st, nil
	}
	return &ledger.StatusResponse{ID: id, Status: ledger.StatusApplied, Height: 42}, nil
}

func (f *fakeWallet) sends() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.sent)
}

// freshIdentity is a fresh random identity for a test.
func freshIdentity(t testing.TB) *wallet.Identity {
	t.Helper()
	e, err := wallet.NewEntropy()
	if err != nil {
		t.Fatal(err)
	}
	id, err := wallet.FromEntropy(e, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(id.Destroy)
	return id
}

// ledgerEntry is an applied transfer from key to to, at height h.
func ledgerEntry(t testing.TB, key *wallet.Identity, to string, amount ledger.Amount, memo string, h uint64, bal ledger.Amount) *ledger.HistoryEntry {
	t.Helper()
	tr, err := ledger.NewTransfer(key, to, uint64(amount), 1_000, h, time.UnixMilli(1_700_000_000_000), memo)
	if err != nil {
		t.Fatal(err)
	}
	return &ledger.HistoryEntry{Height: h, Index: 0, Time: 1_700_000_000_000 + int64(h)*60_000, Balance: bal, Transfer: tr}
}

// walletServer runs the app over a fake wallet whose account is the
// conduit's identity, holding 20 shells.
func walletServer(t *testing.T) (*Server, *http.Cookie, *fakeWallet) {
	t.Helper()
	fw := &fakeWallet{balance: ledger.Shells(20)}
	s, cookie := appServer(t, &services{wallet: fw})
	info, err := s.opts.Conduit.Identity()
	if err != nil {
		t.Fatal(err)
	}
	fw.muid = info.MUID
	return s, cookie, fw
}

// getFragment fetches path as htmx would and returns the response and body.
func getFragment(t *testing.T, s *Server, cookie *http.Cookie, path string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", s.BaseURL()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("HX-Request", "true")
	req.AddCookie(cookie)
	resp := do(t, req)
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func TestShells(t *testing.T) {
	for _, tt := range []struct {
		a    ledger.Amount
		want string
	}{
		{0, "0"}, {1, "0.000000001"}, {ledger.Shells(3), "3"}, {ledger.Shells(12) + ledger.Shells(1)/2, "12.5"},
		{ledger.Amount(1_234_567_890), "1.23456789"}, {ledger.GenesisSupply, "20000000"},
	} {
		if got := shells(tt.a); got != tt.want {
			t.Errorf("shells(%d) = %q, want %q", uint64(tt.a), got, tt.want)
		}
	}
}

func TestWalletPage(t *testing.T) {
	s, cookie, fw := walletServer(t)
	fw.balance = ledger.Shells(12) + ledger.Shells(1)/2
	net, err := conduit.DevNetworkWallet()
	if err != nil {
		t.Fatal(err)
	}
	defer net.Destroy()
	friend := freshIdentity(t)
	me, _ := s.opts.Conduit.Signer()
	fw.entries = []*ledger.HistoryEntry{
		ledgerEntry(t, me, friend.MUID(), ledger.Shells(2), "lunch", 9, ledger.Shells(12)+ledger.Shells(1)/2),
		ledgerEntry(t, net, fw.muid, ledger.Shells(1)/4, ledger.PayoutMemo, 8, ledger.Shells(14)),
		ledgerEntry(t, friend, fw.muid, ledger.Shells(5), "thanks", 7, ledger.Shells(14)-ledger.Shells(1)/4),
		ledgerEntry(t, net, fw.muid, ledger.Shells(1)/2, ledger.PayoutMemo, 6, ledger.Shells(9)),
		ledgerEntry(t, net, fw.muid, ledger.Shells(8), "welcome", 5, ledger.Shells(8)+ledger.Shells(1)/2), // a grant, not earned
	}
	fw.more = true

	code, body := get(t, s, cookie, "/wallet")
	if code != http.StatusOK {
		t.Fatalf("GET /wallet: %d\n%s", code, body)
	}
	for _, want := range []string{
		`id="balance"`, `>12.5<`, `hx-trigger="borg:wallet from:document"`,
		`id="send-to"`, `id="send-amount"`, `id="send-fee"`, `id="send-memo"`, `id="prepare"`,
		`id="receive-muid">` + fw.muid + `<`, `data-copy="` + fw.muid + `"`, `<svg class="qr"`,
		`class="tx" data-id="` + fw.entries[0].Transfer.ID().String() + `"`,
		`id="history-more"`, `before=5-0`,
		`id="earned-total">0.75<`, "2 storage", net.MUID(),
		`<option value="` + friend.MUID() + `">`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("wallet page lacks %q", want)
		}
	}
	if n := strings.Count(body, `<tr class="tx"`); n != 5 {
		t.Errorf("%d history rows, want 5", n)
	}
	if strings.Count(body, `class="badge">storage reward`) != 2 {
		t.Error("the two rewards are not marked")
	}

	// The balance refreshes alone.
	resp, frag := getFragment(t, s, cookie, "/wallet/balance")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(strings.TrimSpace(frag), `<p id="balance"`) || !strings.Contains(frag, "12.5") {
		t.Fatalf("balance fragment %d %q", resp.StatusCode, frag)
	}
}

func TestWalletPrepareRefusals(t *testing.T) {
	s, cookie, fw := walletServer(t)
	friend := freshIdentity(t).MUID()
	tests := []struct {
		name, to, amount, fee, memo, want string
	}{
		{"letters", friend, "abc", "", "", "Enter an amount above zero, with at most 9 decimals."},
		{"zero", friend, "0", "", "", "Enter an amount above zero"},
		{"negative", friend, "-1", "", "", "Enter an amount above zero"},
		{"ten decimals", friend, "1.0000000001", "", "", "at most 9 decimals"},
		{"comma", friend, "1,5", "", "", "at most 9 decimals"},
		{"bad fee", friend, "1", "x", "", "at most 9 decimals"},
		{"no recipient", "", "1", "", "", "That is not a BorgIOS address (MUID)."},
		{"bad recipient", "1BoatSLRHtKNngkdXEeobR76b53LETtpyU", "1", "", "", "not a BorgIOS address"},
		{"to self", fw.muid, "1", "", "", "That is your own address."},
		{"too poor", friend, "20", "0.1", "", "The amount and fee are more than your balance."},
		{"long memo", friend, "1", "", strings.Repeat("m", 141), "The memo is too long"},
		{"control memo", friend, "1", "", "a\tb", "on one line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := url.Values{"to": {tt.to}, "amount": {tt.amount}, "fee": {tt.fee}, "memo": {tt.memo}}
			resp, body := post(t, s, cookie, "/wallet/prepare", form, true)
			if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, tt.want) {
				t.Fatalf("prepare: %d %q, want 422 with %q", resp.StatusCode, body, tt.want)
			}
			if strings.Contains(body, `id="confirm"`) {
				t.Fatal("a refused transfer reached the confirm step")
			}
			// Without htmx: a page, still 422.
			resp, body = post(t, s, cookie, "/wallet/prepare", form, false)
			if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, tt.want) || !strings.Contains(body, "<html") {
				t.Fatalf("plain prepare: %d, want a 422 page with %q", resp.StatusCode, tt.want)
			}
		})
	}
	if fw.sends() != 0 {
		t.Fatal("a refused transfer was sent")
	}
}

var nonceRE = regexp.MustCompile(`name="nonce" value="([0-9a-f]{32})"`)

// confirmForm posts a transfer to /wallet/prepare and returns the confirm
// step's form and its HTML.
func confirmForm(t *testing.T, s *Server, cookie *http.Cookie, to, amount, fee, memo string) (url.Values, string) {
	t.Helper()
	resp, body := post(t, s, cookie, "/wallet/prepare", url.Values{"to": {to}, "amount": {amount}, "fee": {fee}, "memo": {memo}}, true)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("prepare: %d %s", resp.StatusCode, body)
	}
	m := nonceRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no nonce in the confirm step:\n%s", body)
	}
	field := func(name string) string {
		re := regexp.MustCompile(`name="` + name + `" value="([^"]*)"`)
		if m := re.FindStringSubmatch(body); m != nil {
			return m[1]
		}
		t.Fatalf("no %s field in the confirm step", name)
		return ""
	}
	return url.Values{"to": {field("to")}, "amount": {field("amount")}, "fee": {field("fee")}, "memo": {field("memo")}, "nonce": {m[1]}}, body
}

func TestWalletConfirmAndSendOnce(t *testing.T) {
	s, cookie, fw := walletServer(t)
	friend := freshIdentity(t).MUID()
	form, body := confirmForm(t, s, cookie, "  "+friend+" ", "12.5", "0.25", "for the bikes")
	for _, want := range []string{
		`id="confirm"`, `id="confirm-to">` + friend + `<`, `id="confirm-amount">12.5 shells<`, `id="confirm-fee">0.25 shells<`,
		`12.75 shells`, `id="confirm-memo">for the bikes<`, `id="confirm-after">7.25 shells<`, `id="confirm-send"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("confirm step lacks %q\n%s", want, body)
		}
	}
	if form.Get("amount") != "12.500000000" || form.Get("to") != friend {
		t.Fatalf("confirm fields %v", form)
	}
	if fw.sends() != 0 {
		t.Fatal("sent before the confirmation")
	}

	resp, body := post(t, s, cookie, "/wallet/send", form, true)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="send-status"`) || !strings.Contains(body, "pending") {
		t.Fatalf("send: %d %s", resp.StatusCode, body)
	}
	if !strings.Contains(body, `hx-trigger="every 1s, borg:wallet from:document"`) || !strings.Contains(body, `hx-get="/wallet/status/`) {
		t.Fatalf("a pending transfer is not followed:\n%s", body)
	}
	if n := fw.sends(); n != 1 {
		t.Fatalf("%d sends, want 1", n)
	}
	fw.mu.Lock()
	d := *fw.sent[0]
	fw.mu.Unlock()
	if d.To != friend || d.Amount != ledger.Shells(25)/2 || d.Fee != ledger.Shells(1)/4 || d.Memo != "for the bikes" {
		t.Fatalf("sent %+v", d)
	}

	// A double submit, or a replay, of the same confirmation sends nothing.
	for _, hx := range []bool{true, false} {
		resp, body = post(t, s, cookie, "/wallet/send", form, hx)
		if resp.StatusCode < 400 || !strings.Contains(body, "nothing more was sent") {
			t.Fatalf("second send (htmx %v): %d %s", hx, resp.StatusCode, body)
		}
	}
	if n := fw.sends(); n != 1 {
		t.Fatalf("%d sends after a double submit, want 1", n)
	}
}

func TestWalletSendRechecks(t *testing.T) {
	s, cookie, fw := walletServer(t)
	friend := freshIdentity(t).MUID()

	// Hidden fields changed after the review: nothing is sent.
	form, _ := confirmForm(t, s, cookie, friend, "1", "", "")
	form.Set("amount", "2")
	resp, body := post(t, s, cookie, "/wallet/send", form, true)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "differs from the one you reviewed") {
		t.Fatalf("tampered send: %d %s", resp.StatusCode, body)
	}
	// The balance fell meanwhile: Prepare runs again and refuses.
	form, _ = confirmForm(t, s, cookie, friend, "15", "", "")
	fw.mu.Lock()
	fw.balance = ledger.Shells(10)
	fw.mu.Unlock()
	resp, body = post(t, s, cookie, "/wallet/send", form, true)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "more than your balance") {
		t.Fatalf("send over the new balance: %d %s", resp.StatusCode, body)
	}
	// No nonce, or a made-up one.
	for _, nonce := range []string{"", "00112233445566778899aabbccddeeff"} {
		form, _ = confirmForm(t, s, cookie, friend, "1", "", "")
		form.Set("nonce", nonce)
		if resp, _ := post(t, s, cookie, "/wallet/send", form, true); resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("send with nonce %q: %d", nonce, resp.StatusCode)
		}
	}
	if n := fw.sends(); n != 0 {
		t.Fatalf("%d sends, want none", n)
	}
}

func TestWalletStatus(t *testing.T) {
	s, cookie, fw := walletServer(t)
	id := strings.Repeat("ab", 32)

	resp, body := getFragment(t, s, cookie, "/wallet/status/"+id+"?n=3")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "applied") || strings.Contains(body, "hx-trigger") {
		t.Fatalf("applied: %d %s", resp.StatusCode, body)
	}
	if h := resp.Header.Get("HX-Trigger-After-Settle"); !strings.Contains(h, "borg:wallet") {
		t.Fatalf("applied does not refresh the wallet: %q", h)
	}

	fw.status = &ledger.StatusResponse{Status: ledger.StatusPending}
	_, body = getFragment(t, s, cookie, "/wallet/status/"+id+"?n=3")
	if !strings.Contains(body, `hx-get="/wallet/status/`+id+`?n=4"`) {
		t.Fatalf("pending is not polled again:\n%s", body)
	}
	_, body = getFragment(t, s, cookie, "/wallet/status/"+id+"?n=119")
	if strings.Contains(body, "every 1s") || !strings.Contains(body, "Still pending") {
		t.Fatalf("polling does not stop after a while:\n%s", body)
	}

	fw.status = &ledger.StatusResponse{Status: ledger.StatusRejected, Reason: ledger.ReasonFunds}
	_, body = getFragment(t, s, cookie, "/wallet/status/"+id)
	if !strings.Contains(body, "rejected") || !strings.Contains(body, "balance was too low") || strings.Contains(body, "hx-trigger") {
		t.Fatalf("rejected:\n%s", body)
	}

	for _, bad := range []string{"xyz", strings.Repeat("AB", 32), id + "?n=-1", id + "?n=121", id + "?n=01"} {
		if resp, _ := getFragment(t, s, cookie, "/wallet/status/"+bad); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("status of %q: %d, want 400", bad, resp.StatusCode)
		}
	}
}

func TestWalletHistoryCursor(t *testing.T) {
	s, cookie, fw := walletServer(t)
	friend := freshIdentity(t)
	fw.entries = []*ledger.HistoryEntry{ledgerEntry(t, friend, fw.muid, ledger.Shells(1), "hi", 3, ledger.Shells(21))}
	for _, bad := range []string{
		"before=", "before=abc", "before=5", "before=5-", "before=-5-1", "before=%2B5-1", "before=05-1", "before=5-01",
		"before=0-0", "before=5-501", "before=9007199254740992-0", "before=18446744073709551616-0", "before=5-3-1",
		"before=5.3", "before=5-3&earned=x", "before=5-3&earned=-1", "before=5-3&earned=20000000000000001", "before=5-3&rewards=1e3",
	} {
		if resp, body := getFragment(t, s, cookie, "/wallet/history?"+bad); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("history?%s: %d, want 400\n%s", bad, resp.StatusCode, body)
		}
	}
	fw.mu.Lock()
	calls := len(fw.befores)
	fw.mu.Unlock()
	if calls != 0 {
		t.Fatalf("a forged cursor reached the ledger (%d calls)", calls)
	}

	// A good cursor: the older rows, and the earnings so far out of band.
	resp, body := getFragment(t, s, cookie, "/wallet/history?before=5-3&earned=250000000&rewards=1")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("older page: %d %s", resp.StatusCode, body)
	}
	if !strings.HasPrefix(strings.TrimSpace(body), "<tbody>") || !strings.Contains(body, `<tbody id="history-more-row">`) ||
		!strings.Contains(body, `hx-swap-oob="true"`) || !strings.Contains(body, `id="earned-total">0.25<`) ||
		strings.Contains(body, `id="history-more"`) {
		t.Fatalf("older rows fragment:\n%s", body)
	}
	fw.mu.Lock()
	got := fw.befores[len(fw.befores)-1]
	fw.mu.Unlock()
	if got == nil || *got != (ledger.Cursor{Height: 5, Index: 3}) {
		t.Fatalf("cursor passed on %+v, want 5-3", got)
	}

	// Without htmx, the same link is a page.
	code, page := get(t, s, cookie, "/wallet/history?before=5-3")
	if code != http.StatusOK || !strings.Contains(page, "<html") || !strings.Contains(page, `class="tx"`) {
		t.Fatalf("plain older page: %d", code)
	}
}

func TestWalletLedgerUnreachable(t *testing.T) {
	s, cookie, fw := walletServer(t)
	fw.fail = fmt.Errorf("dial: %w", context.DeadlineExceeded)
	code, body := get(t, s, cookie, "/wallet")
	if code != http.StatusOK || !strings.Contains(body, "Balance not available: The network did not answer.") ||
		!strings.Contains(body, "The history could not be read") || !strings.Contains(body, `id="send-to"`) {
		t.Fatalf("wallet page with the ledger out of reach: %d\n%s", code, body)
	}
	// An "Older" click that fails offers to try again.
	resp, frag := getFragment(t, s, cookie, "/wallet/history?before=5-3&earned=0&rewards=0")
	if resp.StatusCode != http.StatusOK || !strings.Contains(frag, `<tbody id="history-more-row">`) || !strings.Contains(frag, "Try again") ||
		!strings.Contains(frag, `href="/wallet/history?before=5-3&amp;earned=0&amp;rewards=0"`) {
		t.Fatalf("failed older page: %d\n%s", resp.StatusCode, frag)
	}
	// Prepare needs the balance: a network failure is not the person's mistake.
	resp, frag = post(t, s, cookie, "/wallet/prepare", url.Values{"to": {freshIdentity(t).MUID()}, "amount": {"1"}}, true)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(frag, "The network did not answer") {
		t.Fatalf("prepare offline: %d %s", resp.StatusCode, frag)
	}
}

func TestCursorRoundTrip(t *testing.T) {
	for _, c := range []ledger.Cursor{{Height: 1}, {Height: 77, Index: 499}, {Height: ledger.MaxInteger, Index: 500}} {
		got, err := parseCursor(formatCursor(&c))
		if err != nil || *got != c {
			t.Errorf("round trip of %+v: %+v, %v", c, got, err)
		}
	}
}

func TestWalletEscapesHostileText(t *testing.T) {
	s, cookie, fw := walletServer(t)
	friend := freshIdentity(t)
	const memo = `<script>alert("memo")</script>`
	const party = `<img src=x onerror=alert(1)>`
	in := ledgerEntry(t, friend, fw.muid, ledger.Shells(1), memo, 4, ledger.Shells(21))
	// A forged outgoing entry whose recipient is markup (a node that lies).
	out := &ledger.HistoryEntry{Height: 5, Time: 1_700_000_000_000, Balance: ledger.Shells(20),
		Transfer: &ledger.Transfer{To: party, Amount: ledger.Shells(1), Memo: `"><b onmouseover=x>`}}
	fw.entries = []*ledger.HistoryEntry{out, in}
	code, body := get(t, s, cookie, "/wallet")
	if code != http.StatusOK {
		t.Fatalf("GET /wallet: %d", code)
	}
	for _, raw := range []string{memo, party, `<b onmouseover`} {
		if strings.Contains(body, raw) {
			t.Errorf("raw hostile text %q in the page", raw)
		}
	}
	for _, esc := range []string{`&lt;script&gt;alert(&#34;memo&#34;)&lt;/script&gt;`, `&lt;img src=x onerror=alert(1)&gt;`} {
		if !strings.Contains(body, esc) {
			t.Errorf("escaped text %q missing", esc)
		}
	}

	// And in the confirm step.
	_, confirm := confirmForm(t, s, cookie, friend.MUID(), "1", "", memo)
	if strings.Contains(confirm, memo) || !strings.Contains(confirm, `&lt;script&gt;`) {
		t.Fatalf("confirm step does not escape the memo:\n%s", confirm)
	}
}

func TestWalletNeedsTheNetwork(t *testing.T) {
	s, cookie := appServer(t, nil)
	for _, path := range []string{"/wallet", "/wallet/balance", "/wallet/history"} {
		if code, _ := get(t, s, cookie, path); code != http.StatusServiceUnavailable {
			t.Errorf("GET %s offline: %d, want 503", path, code)
		}
	}
}

func TestConfirmsExpireAndAreBounded(t *testing.T) {
	c := &confirms{m: map[string]confirmEntry{}}
	first := c.issue(pendingSend{to: "a"})
	for range maxConfirms {
		c.issue(pendingSend{to: "b"})
	}
	if len(c.m) > maxConfirms {
		t.Fatalf("%d nonces kept, want at most %d", len(c.m), maxConfirms)
	}
	if _, ok := c.take(first); ok {
		t.Fatal("the oldest nonce survived the bound")
	}
	n := c.issue(pendingSend{to: "c"})
	c.mu.Lock()
	e := c.m[n]
	e.expires = time.Now().Add(-time.Second)
	c.m[n] = e
	c.mu.Unlock()
	if _, ok := c.take(n); ok {
		t.Fatal("an expired nonce was accepted")
	}
}

// BenchmarkHistory1000 renders a history fragment of 1,000 transfers.
func BenchmarkHistory1000(b *testing.B) {
	me, friend := freshIdentity(b), freshIdentity(b)
	entries := make([]*ledger.HistoryEntry, 1000)
	for i := range entries {
		from, to := me, friend.MUID()
		if i%2 == 1 {
			from, to = friend, me.MUID()
		}
		entries[i] = ledgerEntry(b, from, to, ledger.Amount(1_000_000+i), "memo number "+strings.Repeat("x", i%40), uint64(2000-i), ledger.Shells(100))
	}
	benchRender(b, templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		v := historyView{Rows: txRows(me.MUID(), entries), More: "/wallet/history?before=1000-0"}
		return walletHistoryRows(v).Render(ctx, w)
	}))
}
