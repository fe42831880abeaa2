package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/a-h/templ"

	"github.com/borgios/borghui/cells/ledger"
	"github.com/borgios/borghui/conduit"
)

// walletRoutes registers the Wallet section.
//
//	GET  /wallet              the page: balance, send, receive, history
//	GET  /wallet/balance      the balance (refreshed on borg:wallet)
//	GET  /wallet/history      the history card; with ?before= the next (older) rows
//	POST /wallet/prepare      check a transfer and show what will be signed
//	POST /wallet/send         send a confirmed transfer (once per confirmation)
//	GET  /wallet/status/{id}  where a sent transfer stands (polled while pending)
func (s *Server) walletRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /wallet", s.walletPage)
	mux.HandleFunc("GET /wallet/balance", s.walletBalancePart)
	mux.HandleFunc("GET /wallet/history", s.walletHistoryPart)
	mux.HandleFunc("POST /wallet/prepare", s.walletPrepare)
	mux.HandleFunc("POST /wallet/send", s.walletSend)
	mux.HandleFunc("GET /wallet/status/{id}", s.walletStatus)
}

// walletAPI is what the Wallet section uses of a session: *conduit.Wallet.
type walletAPI interface {
	MUID() string
	Balance(ctx context.Context) (*ledger.BalanceResponse, error)
	History(ctx context.Context, before *ledger.Cursor, limit int) (*ledger.HistoryResponse, error)
	Prepare(ctx context.Context, to, amount, fee, memo string) (*conduit.Draft, error)
	Send(ctx context.Context, d *conduit.Draft) (*ledger.StatusResponse, error)
	Status(ctx context.Context, id ledger.Hash) (*ledger.StatusResponse, error)
}

// walletOf adapts an open session.
func walletOf(sess *conduit.Session) walletAPI {
	if sess.Wallet == nil {
		return nil
	}
	return sess.Wallet
}

const (
	// walletTimeout bounds one request's calls to the ledger cells.
	walletTimeout = 20 * time.Second
	// historyPage is how many transfers one history page shows.
	historyPage = 25
	// statusPolls is how many times (once a second) a pending transfer is
	// asked about before the page stops asking by itself.
	statusPolls = 120
	// maxCursorIndex bounds a cursor's index (a block holds at most
	// ledger.MaxBlockTransfers transfers).
	maxCursorIndex = ledger.MaxBlockTransfers
)

// walletOr returns the session's wallet, or answers the request itself
// (see sessionOr).
func (s *Server) walletOr(w http.ResponseWriter, r *http.Request) (walletAPI, bool) {
	sv, ok := s.sessionOr(w, r, "Wallet", "wallet")
	if !ok {
		return nil, false
	}
	if sv.wallet == nil {
		s.fragmentError(w, r, http.StatusServiceUnavailable, "The wallet is not available in this session. Lock and unlock again to reconnect.")
		return nil, false
	}
	return sv.wallet, true
}

// wantsPart reports whether r is an htmx request for a fragment (not a
// boosted link or form, which wants a whole page).
func wantsPart(r *http.Request) bool {
	return isHTMX(r) && r.Header.Get("HX-Boosted") != "true"
}

// answerPart answers an htmx request with the fragment c, and a plain
// request (no JavaScript) with a page of the section that holds it.
func (s *Server) answerPart(w http.ResponseWriter, r *http.Request, status int, title, nav string, c templ.Component) {
	if wantsPart(r) {
		s.renderStatus(w, r, status, c)
		return
	}
	p := s.appPage(title, nav)
	p.Wide = true
	s.renderStatus(w, r, status, partPage(p, "/"+nav, c))
}

// shells formats an amount of nano-shells for a person: the exact decimal
// without trailing zeros ("12.5", "3", "0.000000001").
func shells(a ledger.Amount) string {
	s := ledger.FormatAmount(a)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// shellsText is shells with its unit: "1 shell", "12.5 shells".
func shellsText(a ledger.Amount) string {
	if a == ledger.Shells(1) {
		return "1 shell"
	}
	return shells(a) + " shells"
}

// networkWalletMUID is the development network's wallet, which pays the
// storage rewards there. A real network's wallet is not configured in the
// conduit yet.
var networkWalletMUID = sync.OnceValue(func() string {
	id, err := conduit.DevNetworkWallet()
	if err != nil {
		return ""
	}
	defer id.Destroy()
	return id.MUID()
})

// walletCtx bounds the ledger calls of one request.
func walletCtx(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), walletTimeout)
}

func (s *Server) walletPage(w http.ResponseWriter, r *http.Request) {
	wa, ok := s.walletOr(w, r)
	if !ok {
		return
	}
	info, err := s.opts.Conduit.Identity()
	if err != nil { // locked meanwhile
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	ctx, cancel := walletCtx(r)
	defer cancel()
	bal := s.walletBalance(ctx, wa)
	hist := s.walletHistory(ctx, wa, nil, 0, 0)
	p := s.appPage("Wallet", "wallet")
	p.Wide = true
	s.render(w, r, walletPage(p, walletView{Info: info, Balance: bal, History: hist, Contacts: contactsOf(hist.Rows)}))
}

func (s *Server) walletBalancePart(w http.ResponseWriter, r *http.Request) {
	wa, ok := s.walletOr(w, r)
	if !ok {
		return
	}
	ctx, cancel := walletCtx(r)
	defer cancel()
	s.answerPart(w, r, http.StatusOK, "Balance", "wallet", walletBalance(s.walletBalance(ctx, wa)))
}

// balanceView is the balance, or why it is not known.
type balanceView struct {
	Amount string
	Err    string
}

func (s *Server) walletBalance(ctx context.Context, wa walletAPI) balanceView {
	b, err := wa.Balance(ctx)
	if err != nil {
		s.log.Warn("balance not read", "err", err)
		return balanceView{Err: "Balance not available: " + conduit.UserMessage(err)}
	}
	return balanceView{Amount: shells(b.Balance)}
}

// txRow is one history entry as the table shows it.
type txRow struct {
	ID      string // transfer id, hex
	ISO     string // block time, RFC 3339
	When    string // block time, for a person
	In      bool
	Party   string // the other account's MUID
	Amount  string
	Fee     string // "" for incoming transfers (the sender paid it)
	Memo    string
	Balance string // this account's balance right after
	Reward  bool   // a storage reward: from the network wallet, with its payout memo
	amount  ledger.Amount
}

// historyView is one page of the history, the earnings counted over the
// pages loaded so far, and the link to the next page.
type historyView struct {
	Rows    []txRow
	More    string // URL of the older page; "" when none
	Earned  ledger.Amount
	Rewards int
	Network string // the network wallet's MUID
	Err     string
}

// txRows turns a history page into table rows.
func txRows(me string, entries []*ledger.HistoryEntry) []txRow {
	network := networkWalletMUID()
	rows := make([]txRow, 0, len(entries))
	for _, e := range entries {
		if e == nil || e.Transfer == nil {
			continue
		}
		t := e.Transfer
		at := time.UnixMilli(e.Time).Local()
		x := txRow{
			ID:      t.ID().String(),
			ISO:     at.Format(time.RFC3339),
			When:    at.Format("2006-01-02 15:04"),
			In:      t.To == me,
			Amount:  shells(t.Amount),
			Memo:    t.Memo,
			Balance: shells(e.Balance),
			amount:  t.Amount,
		}
		if x.In {
			x.Party, _ = t.Sender()
			// The network wallet also makes grants (a devnet's welcome
			// shells): a reward is the payout it signs with its memo.
			x.Reward = network != "" && x.Party == network && t.Memo == ledger.PayoutMemo
		} else {
			x.Party = t.To
			x.Fee = shells(t.Fee)
		}
		rows = append(rows, x)
	}
	return rows
}

// walletHistory reads one page older than before (nil: the newest) and
// adds its rewards to those already counted.
func (s *Server) walletHistory(ctx context.Context, wa walletAPI, before *ledger.Cursor, earned ledger.Amount, rewards int) historyView {
	v := historyView{Earned: earned, Rewards: rewards, Network: networkWalletMUID()}
	h, err := wa.History(ctx, before, historyPage)
	if err != nil {
		s.log.Warn("history not read", "err", err)
		v.Err = "The history could not be read: " + conduit.UserMessage(err)
		return v
	}
	v.Rows = txRows(wa.MUID(), h.Entries)
	for _, x := range v.Rows {
		if x.Reward && v.Earned+x.amount >= v.Earned {
			v.Earned += x.amount
			v.Rewards++
		}
	}
	if next := h.Next(); h.More && next != nil {
		v.More = historyURL(next, v.Earned, v.Rewards)
	}
	return v
}

// historyURL is the link to the page older than before, carrying the
// rewards counted so far.
func historyURL(before *ledger.Cursor, earned ledger.Amount, rewards int) string {
	q := url.Values{}
	q.Set("before", formatCursor(before))
	q.Set("earned", strconv.FormatUint(uint64(earned), 10))
	q.Set("rewards", strconv.Itoa(rewards))
	return "/wallet/history?" + q.Encode()
}

// contactsOf lists the distinct accounts of rows, for the recipient
// field's suggestions.
func contactsOf(rows []txRow) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range rows {
		if x.Reward || seen[x.Party] {
			continue
		}
		seen[x.Party] = true
		out = append(out, x.Party)
	}
	return out
}

// formatCursor writes a history cursor for a URL: "HEIGHT-INDEX".
func formatCursor(c *ledger.Cursor) string {
	return strconv.FormatUint(c.Height, 10) + "-" + strconv.Itoa(c.Index)
}

var errBadLink = errors.New("web: malformed link parameter")

// parseCursor reads formatCursor's output and nothing else: canonical
// decimals, a height in 1..2^53-1 and an index in 0..maxCursorIndex.
func parseCursor(s string) (*ledger.Cursor, error) {
	h, i, ok := strings.Cut(s, "-")
	if !ok {
		return nil, errBadLink
	}
	height, err := parseLinkNumber(h, ledger.MaxInteger)
	if err != nil || height == 0 {
		return nil, errBadLink
	}
	index, err := parseLinkNumber(i, maxCursorIndex)
	if err != nil {
		return nil, errBadLink
	}
	return &ledger.Cursor{Height: height, Index: int(index)}, nil
}

// parseLinkNumber reads a canonical unsigned decimal (digits only, no
// leading zero) of at most max.
func parseLinkNumber(s string, max uint64) (uint64, error) {
	if s == "" || len(s) > 20 || (len(s) > 1 && s[0] == '0') {
		return 0, errBadLink
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, errBadLink
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > max {
		return 0, errBadLink
	}
	return n, nil
}

// walletHistoryPart answers the history card (no before) or, for an htmx
// "Older" click, the older rows to append.
func (s *Server) walletHistoryPart(w http.ResponseWriter, r *http.Request) {
	wa, ok := s.walletOr(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	var (
		before  *ledger.Cursor
		earned  uint64
		rewards uint64
		err     error
	)
	if q.Has("before") {
		before, err = parseCursor(q.Get("before"))
		if err == nil && q.Get("earned") != "" {
			earned, err = parseLinkNumber(q.Get("earned"), uint64(ledger.GenesisSupply))
		}
		if err == nil && q.Get("rewards") != "" {
			rewards, err = parseLinkNumber(q.Get("rewards"), 1<<31)
		}
		if err != nil {
			s.log.Info("history link refused", "query", r.URL.RawQuery)
			s.renderStatus(w, r, http.StatusBadRequest, messagePage(s.appPage("Link refused", "wallet"), "That link is damaged",
				"This history link is not one BorgHUI made. Open the Wallet again and use its links.", "/wallet", "Open the Wallet"))
			return
		}
	}
	ctx, cancel := walletCtx(r)
	defer cancel()
	v := s.walletHistory(ctx, wa, before, ledger.Amount(earned), int(rewards))
	if before != nil && wantsPart(r) {
		s.render(w, r, walletOlder(v, historyURL(before, ledger.Amount(earned), int(rewards))))
		return
	}
	s.answerPart(w, r, http.StatusOK, "History", "wallet", walletHistory(v))
}

// checkMemo refuses what the ledger would refuse: more than
// ledger.MaxMemo bytes, control characters, broken UTF-8.
func checkMemo(memo string) string {
	if !utf8.ValidString(memo) || len(memo) > ledger.MaxMemo {
		return "The memo is too long: keep it under 140 characters (accented letters and emoji count double or more)."
	}
	for _, r := range memo {
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) {
			return "Write the memo on one line, without tabs or special control characters."
		}
	}
	return ""
}

// walletRefused answers a Prepare that failed: the person's mistakes
// (amount, recipient, balance) as a form to correct, others as failures.
func (s *Server) walletRefused(w http.ResponseWriter, r *http.Request, err error) {
	for _, e := range []error{conduit.ErrBadAmount, conduit.ErrBadRecipient, conduit.ErrToSelf, conduit.ErrTooPoor} {
		if errors.Is(err, e) {
			s.fragmentError(w, r, http.StatusUnprocessableEntity, conduit.UserMessage(err))
			return
		}
	}
	s.opFailed(w, r, err)
}

// confirmView is a checked transfer as the confirm step shows it.
type confirmView struct {
	To, Memo, Nonce          string
	Amount, Fee, Total, Left string // with the unit, for a person
	AmountField, FeeField    string // exact canonical amounts for the form
}

func confirmOf(d *conduit.Draft, nonce string) confirmView {
	total := d.Amount + d.Fee
	return confirmView{
		To: d.To, Memo: d.Memo, Nonce: nonce,
		Amount: shellsText(d.Amount), Fee: shellsText(d.Fee), Total: shellsText(total), Left: shellsText(d.Balance - total),
		AmountField: d.Amount.String(), FeeField: d.Fee.String(),
	}
}

func (s *Server) walletPrepare(w http.ResponseWriter, r *http.Request) {
	wa, ok := s.walletOr(w, r)
	if !ok {
		return
	}
	f, err := smallForm(w, r)
	if err != nil {
		s.badForm(w, r, err)
		return
	}
	memo := f.Get("memo")
	if msg := checkMemo(memo); msg != "" {
		s.fragmentError(w, r, http.StatusUnprocessableEntity, msg)
		return
	}
	ctx, cancel := walletCtx(r)
	defer cancel()
	d, err := wa.Prepare(ctx, f.Get("to"), f.Get("amount"), f.Get("fee"), memo)
	if err != nil {
		s.walletRefused(w, r, err)
		return
	}
	nonce := sendConfirms.issue(pendingSend{muid: wa.MUID(), to: d.To, amount: d.Amount, fee: d.Fee, memo: d.Memo})
	s.answerPart(w, r, http.StatusOK, "Confirm the transfer", "wallet", walletConfirm(confirmOf(d, nonce)))
}

func (s *Server) walletSend(w http.ResponseWriter, r *http.Request) {
	wa, ok := s.walletOr(w, r)
	if !ok {
		return
	}
	f, err := smallForm(w, r)
	if err != nil {
		s.badForm(w, r, err)
		return
	}
	want, ok := sendConfirms.take(f.Get("nonce"))
	if !ok {
		s.log.Info("transfer confirmation refused: used already or expired")
		s.fragmentError(w, r, http.StatusConflict, "This confirmation was used already or has expired, so nothing more was sent. Check the history; if the transfer is not there, review it again.")
		return
	}
	memo := f.Get("memo")
	if msg := checkMemo(memo); msg != "" {
		s.fragmentError(w, r, http.StatusUnprocessableEntity, msg)
		return
	}
	// The confirm form's fields are checked again, as if typed anew, and
	// must be what the confirmation was issued for.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), walletTimeout)
	defer cancel()
	d, err := wa.Prepare(ctx, f.Get("to"), f.Get("amount"), f.Get("fee"), memo)
	if err != nil {
		s.walletRefused(w, r, err)
		return
	}
	if (pendingSend{muid: wa.MUID(), to: d.To, amount: d.Amount, fee: d.Fee, memo: d.Memo}) != want {
		s.log.Warn("transfer refused: the confirmed fields changed")
		s.fragmentError(w, r, http.StatusUnprocessableEntity, "The transfer differs from the one you reviewed, so nothing was sent. Review it again.")
		return
	}
	st, err := wa.Send(ctx, d)
	if err != nil {
		s.opFailed(w, r, err)
		return
	}
	s.log.Info("transfer sent", "id", st.ID.String(), "status", st.Status)
	s.walletStatusAnswer(w, r, statusOf(st, 0))
}

func (s *Server) walletStatus(w http.ResponseWriter, r *http.Request) {
	wa, ok := s.walletOr(w, r)
	if !ok {
		return
	}
	id, err := ledger.ParseHash(r.PathValue("id"))
	var polls uint64
	if err == nil && r.URL.Query().Get("n") != "" {
		polls, err = parseLinkNumber(r.URL.Query().Get("n"), statusPolls)
	}
	if err != nil {
		s.renderStatus(w, r, http.StatusBadRequest, messagePage(s.appPage("Link refused", "wallet"), "That link is damaged",
			"This transfer link is not one BorgHUI made. Open the Wallet again and look in its history.", "/wallet", "Open the Wallet"))
		return
	}
	ctx, cancel := walletCtx(r)
	defer cancel()
	st, err := wa.Status(ctx, id)
	if err != nil {
		s.log.Info("transfer status not read", "err", err)
		v := statusOf(&ledger.StatusResponse{ID: id, Status: ledger.StatusUnknown}, int(polls)+1)
		v.Note = conduit.UserMessage(err)
		s.walletStatusAnswer(w, r, v)
		return
	}
	if st.ID != id {
		st.ID = id
	}
	s.walletStatusAnswer(w, r, statusOf(st, int(polls)+1))
}

// walletStatusAnswer renders a transfer's status; once it is applied the
// balance and history refresh themselves.
func (s *Server) walletStatusAnswer(w http.ResponseWriter, r *http.Request, v statusView) {
	if v.Status == ledger.StatusApplied {
		w.Header().Set("HX-Trigger-After-Settle", `{"borg:wallet":{"target":"body"}}`)
	}
	s.answerPart(w, r, http.StatusOK, "Transfer", "wallet", walletSendStatus(v))
}

// statusView is where a sent transfer stands.
type statusView struct {
	ID     string // hex
	Status string // a ledger status
	Height uint64
	Reason string // for a person, when rejected
	Note   string // why the last check failed, if it did
	Poll   string // URL to ask again; "" when final or given up
	GaveUp bool
}

func statusOf(st *ledger.StatusResponse, polls int) statusView {
	v := statusView{ID: st.ID.String(), Status: st.Status, Height: st.Height}
	switch st.Status {
	case ledger.StatusApplied:
	case ledger.StatusRejected:
		v.Reason = rejectReason(st.Reason)
	default:
		if polls >= statusPolls {
			v.GaveUp = true
		} else {
			v.Poll = "/wallet/status/" + v.ID + "?n=" + strconv.Itoa(polls)
		}
	}
	return v
}

// rejectReason words a ledger's reason for refusing a transfer.
func rejectReason(reason string) string {
	switch reason {
	case ledger.ReasonFunds:
		return "Your balance was too low when the network got to it."
	case ledger.ReasonStaleSeq, ledger.ReasonSeqGap, ledger.ReasonConflict:
		return "It crossed another transfer from this wallet (sent from another tab or computer). Check the history, then send again if needed."
	case ledger.ReasonExpired:
		return "It waited too long to be recorded. Send it again."
	case ledger.ReasonBadSignature:
		return "Its signature did not check out. Lock, unlock and send again."
	case ledger.ReasonOverflow:
		return "The recipient's balance cannot hold that much."
	}
	return "The network refused it. Send it again, or check the history."
}

// pendingSend is a transfer that a confirm form was issued for.
type pendingSend struct {
	muid, to, memo string
	amount, fee    ledger.Amount
}

// confirms holds the one-time nonces of the confirm forms: a nonce is
// taken by the first POST that carries it, so a double submit (or a
// replayed form) cannot send twice.
type confirms struct {
	mu sync.Mutex
	m  map[string]confirmEntry
}

type confirmEntry struct {
	send    pendingSend
	expires time.Time
}

const (
	confirmTTL  = 15 * time.Minute
	maxConfirms = 64
)

var sendConfirms = &confirms{m: map[string]confirmEntry{}}

// issue returns a fresh nonce for p.
func (c *confirms) issue(p pendingSend) string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("web: no system randomness: " + err.Error())
	}
	nonce := hex.EncodeToString(b[:])
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.m {
		if now.After(e.expires) {
			delete(c.m, k)
		}
	}
	for len(c.m) >= maxConfirms { // drop the oldest
		var oldest string
		for k, e := range c.m {
			if oldest == "" || e.expires.Before(c.m[oldest].expires) {
				oldest = k
			}
		}
		delete(c.m, oldest)
	}
	c.m[nonce] = confirmEntry{send: p, expires: now.Add(confirmTTL)}
	return nonce
}

// take consumes nonce: it reports the transfer it was issued for, once.
func (c *confirms) take(nonce string) (pendingSend, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[nonce]
	if !ok {
		return pendingSend{}, false
	}
	delete(c.m, nonce)
	if time.Now().After(e.expires) {
		return pendingSend{}, false
	}
	return e.send, true
}
