package web

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/borgios/borghui/cells/ftree"
	"github.com/borgios/borghui/cells/mail"
	"github.com/borgios/borghui/conduit/drive"
	"github.com/borgios/borghui/wallet"
)

// fakeMail is an in-memory mailAPI.
type fakeMail struct {
	me string

	mu       sync.Mutex
	box      map[mail.Folder]map[mail.MsgID]*mail.Stored
	cards    map[string]*mail.Card
	entries  map[drive.EntryID]drive.Entry
	sendErr  error
	sendRes  *mail.SendResult
	sent     []mail.Draft
	receipts []mail.MsgID
	received int
	newMail  int
	recvErr  error
	cardAsks int
}

func newFakeMail(t *testing.T) *fakeMail {
	return &fakeMail{me: testMUID(t), box: map[mail.Folder]map[mail.MsgID]*mail.Stored{mail.Inbox: {}, mail.Sent: {}},
		cards: map[string]*mail.Card{}, entries: map[drive.EntryID]drive.Entry{}}
}

// testMUID is the address of a fresh key.
func testMUID(t *testing.T) string {
	t.Helper()
	k, err := wallet.NewNodeKey()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Destroy)
	muid, err := mail.MUIDOf(k.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	return muid
}

// testLink is a capability link to a file (or folder) named name of size
// bytes.
func testLink(t *testing.T, name string, size int, folder bool) string {
	t.Helper()
	c := &ftree.Capability{Key: make([]byte, ftree.KeyLen), Size: uint64(size), Name: name, Folder: folder}
	rand.Read(c.Manifest[:])
	rand.Read(c.Key)
	link, err := ftree.EncodeLink(c)
	if err != nil {
		t.Fatal(err)
	}
	return link
}

// letter puts a letter in folder f and returns its id.
func (f *fakeMail) letter(folder mail.Folder, from, to, subject, body string, date time.Time, change func(*mail.Stored)) mail.MsgID {
	id, _ := mail.NewMsgID()
	st := &mail.Stored{Folder: folder, Message: &mail.Message{ID: id, Kind: mail.KindMail, FromMUID: from, To: to, Date: date.UnixMilli(),
		Subject: subject, Body: body, Attachments: []string{}}, Received: date, State: mail.StateSent}
	if change != nil {
		change(st)
	}
	f.mu.Lock()
	f.box[folder][id] = st
	f.mu.Unlock()
	return id
}

func (f *fakeMail) MUID() string { return f.me }

func (f *fakeMail) List(folder mail.Folder) ([]*mail.Stored, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*mail.Stored
	for _, st := range f.box[folder] {
		c := *st
		out = append(out, &c)
	}
	slices.SortFunc(out, func(a, b *mail.Stored) int { return int(b.Message.Date - a.Message.Date) })
	return out, nil
}

func (f *fakeMail) Get(folder mail.Folder, id mail.MsgID) (*mail.Stored, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, ok := f.box[folder][id]
	if !ok {
		return nil, fmt.Errorf("%w: no message %s", mail.ErrNotFound, id)
	}
	c := *st
	return &c, nil
}

func (f *fakeMail) Delete(folder mail.Folder, id mail.MsgID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.box[folder], id)
	return nil
}

func (f *fakeMail) MarkRead(_ context.Context, id mail.MsgID, receipt bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, ok := f.box[mail.Inbox][id]
	if !ok {
		return mail.ErrNotFound
	}
	st.Read = true
	if receipt {
		f.receipts = append(f.receipts, id)
	}
	return nil
}

func (f *fakeMail) Send(_ context.Context, d mail.Draft) (*mail.SendResult, error) {
	f.mu.Lock()
	f.sent = append(f.sent, d)
	res, err := f.sendRes, f.sendErr
	f.mu.Unlock()
	if res == nil && err != nil {
		return nil, err
	}
	if res == nil {
		res = &mail.SendResult{State: mail.StateSent, ForwardSecret: true}
	}
	res.ID = f.letter(mail.Sent, f.me, d.To, d.Subject, d.Body, time.Now(), func(st *mail.Stored) {
		st.Message.Attachments = d.Attachments
		st.State, st.ForwardSecret = res.State, res.ForwardSecret
	})
	return res, err
}

func (f *fakeMail) Receive(context.Context) (*mail.ReceiveReport, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.received++
	if f.recvErr != nil {
		return nil, f.recvErr
	}
	return &mail.ReceiveReport{New: make([]*mail.Stored, f.newMail)}, nil
}

func (f *fakeMail) Card(_ context.Context, muid string) (*mail.CardInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cardAsks++
	c, ok := f.cards[muid]
	if !ok {
		return nil, fmt.Errorf("mail: card: %w", mail.ErrNotFound)
	}
	return &mail.CardInfo{Card: c, Left: make([]mail.PrekeyID, 2)}, nil
}

func (f *fakeMail) SearchCards(_ context.Context, q string, limit int) ([]*mail.Card, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*mail.Card
	for _, c := range f.cards {
		if strings.HasPrefix(c.Nick, q) && len(out) < limit {
			out = append(out, c)
		}
	}
	return out, nil
}

func (f *fakeMail) ListFiles(parent drive.EntryID) ([]drive.Entry, error) {
	var out []drive.Entry
	for _, e := range f.entries {
		if e.Parent == parent {
			out = append(out, e)
		}
	}
	return out, nil
}

func (f *fakeMail) FindFiles(q string) []drive.Entry {
	var out []drive.Entry
	for _, e := range f.entries {
		if strings.Contains(e.Name, q) {
			out = append(out, e)
		}
	}
	return out
}

func (f *fakeMail) File(id drive.EntryID) (drive.Entry, error) {
	e, ok := f.entries[id]
	if !ok {
		return drive.Entry{}, drive.ErrNotFound
	}
	return e, nil
}

func (f *fakeMail) Link(id drive.EntryID) (string, error) {
	if _, ok := f.entries[id]; !ok {
		return "", drive.ErrNotFound
	}
	return "link-of-" + string(id), nil
}

// moved reports whether resp sends the browser on: a 303, or for htmx a
// 204 with HX-Location.
func moved(resp *http.Response) bool {
	return resp.StatusCode == http.StatusSeeOther || resp.StatusCode == http.StatusNoContent && resp.Header.Get("HX-Location") != ""
}

// dest is where resp sends the browser.
func dest(resp *http.Response) string {
	return cmp.Or(resp.Header.Get("HX-Location"), resp.Header.Get("Location"))
}

func mailServer(t *testing.T) (*Server, *http.Cookie, *fakeMail) {
	t.Helper()
	fm := newFakeMail(t)
	s, cookie := appServer(t, &services{mail: fm})
	return s, cookie, fm
}

func TestMailInbox(t *testing.T) {
	s, cookie, fm := mailServer(t)
	code, body := get(t, s, cookie, "/mail")
	if code != http.StatusOK || !strings.Contains(body, `id="mail-empty"`) || !strings.Contains(body, fm.me) {
		t.Fatalf("empty inbox: %d, want the empty note with the address\n%s", code, body)
	}
	alice := testMUID(t)
	fm.cards[alice] = &mail.Card{MUID: alice, Nick: "alice"}
	now := time.Now()
	old := fm.letter(mail.Inbox, alice, fm.me, "Old news", "read already", now.Add(-48*time.Hour), func(st *mail.Stored) { st.Read = true })
	unread := fm.letter(mail.Inbox, alice, fm.me, "<script>alert(1)</script>", "hi", now, nil)
	fm.letter(mail.Sent, fm.me, alice, "Not in the inbox", "", now, nil)

	code, body = get(t, s, cookie, "/mail")
	if code != http.StatusOK {
		t.Fatalf("GET /mail: %d\n%s", code, body)
	}
	for _, want := range []string{
		`id="msg-` + old.String() + `"`, `href="/mail/inbox/` + unread.String() + `"`,
		`id="unread">1<`,                        // one unread
		`&lt;script&gt;alert(1)&lt;/script&gt;`, // the subject, escaped
		`hx-trigger="borg:mail from:document" hx-select="#mail-list" hx-target="#mail-list"`, // the list follows new mail
		`hx-get="/mail/name/` + alice + `"`,                                                  // the sender's nickname is looked up once shown
	} {
		if !strings.Contains(body, want) {
			t.Errorf("inbox lacks %s", want)
		}
	}
	// htmx children inherit hx-select and hx-target: none may sit around
	// the list, or a name tag's answer would replace the list.
	if _, list, _ := strings.Cut(body, `<div id="mail-list">`); strings.Contains(list, "hx-select") || strings.Contains(list, "hx-target=\"this") {
		t.Errorf("the live refresh wraps the list; it must stand beside it")
	}
	if strings.Contains(body, "<script>alert") || strings.Contains(body, "Not in the inbox") {
		t.Errorf("inbox shows an unescaped subject or a Sent letter\n%s", body)
	}
	if i, j := strings.Index(body, unread.String()), strings.Index(body, old.String()); i < 0 || j < i {
		t.Errorf("inbox not newest first")
	}

	// The name tag asks the network once, then the list knows the name.
	_, tag := get(t, s, cookie, "/mail/name/"+alice)
	_, tag2 := get(t, s, cookie, "/mail/name/"+alice)
	if !strings.Contains(tag, `<bdi class="nick">alice</bdi>`) || tag2 != tag || fm.cardAsks != 1 {
		t.Errorf("name tag: %q then %q after %d card look-ups, want alice after one", tag, tag2, fm.cardAsks)
	}
	if _, body = get(t, s, cookie, "/mail"); strings.Contains(body, `hx-get="/mail/name/`) || !strings.Contains(body, ">alice</bdi>") {
		t.Errorf("inbox after the look-up does not name alice")
	}
	if code, _ := get(t, s, cookie, "/mail/name/not-an-address"); code != http.StatusNotFound {
		t.Errorf("name of a bad address: %d, want 404", code)
	}
}

func TestMailReadAndAttachments(t *testing.T) {
	s, cookie, fm := mailServer(t)
	bob := testMUID(t)
	link := testLink(t, "report.html", 38, false)
	id := fm.letter(mail.Inbox, bob, fm.me, "Report <b>now</b>", "line one\n<b>line two</b>", time.Now(), func(st *mail.Stored) {
		st.Message.Attachments = []string{link, testLink(t, "Photos", 0, true)}
		st.ForwardSecret = true
	})
	code, body := get(t, s, cookie, "/mail/inbox/"+id.String())
	if code != http.StatusOK {
		t.Fatalf("read: %d\n%s", code, body)
	}
	for _, want := range []string{`id="msg-subject"><bdi>Report &lt;b&gt;now&lt;/b&gt;</bdi>`, "line one\n&lt;b&gt;line two&lt;/b&gt;",
		"report.html", "38 B", `action="/mail/inbox/` + id.String() + `/open/0"`, "Photos", "a folder: it cannot be opened",
		"Sealed to a one-time key", `id="reply"`, bob} {
		if !strings.Contains(body, want) {
			t.Errorf("reader lacks %q", want)
		}
	}
	if strings.Contains(body, "borg://") || strings.Contains(body, "/open/1") {
		t.Errorf("the reader shows a link's key, or offers to open a folder")
	}
	if st, _ := fm.Get(mail.Inbox, id); !st.Read || len(fm.receipts) != 0 {
		t.Errorf("opening: read %v, receipts %d; want read and no receipt sent", st.Read, len(fm.receipts))
	}

	// An attachment opens in Files under a handle: the key stays out of URLs.
	resp, _ := post(t, s, cookie, "/mail/inbox/"+id.String()+"/open/0", nil, false)
	loc := dest(resp)
	h, ok := strings.CutPrefix(loc, "/files/shared/")
	if !moved(resp) || !ok {
		t.Fatalf("open attachment: %d to %q, want 303 to /files/shared/…", resp.StatusCode, loc)
	}
	if o, ok := s.links.get(h); !ok || o.Link != link || o.Name != "report.html" {
		t.Errorf("opened link %+v, want report.html's", o)
	}
	resp, _ = post(t, s, cookie, "/mail/inbox/"+id.String()+"/open/1", nil, true)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("open a folder link: %d, want 422", resp.StatusCode)
	}
	for _, path := range []string{"/open/2", "/open/-1", "/open/x"} {
		if resp, _ := post(t, s, cookie, "/mail/inbox/"+id.String()+path, nil, false); resp.StatusCode != http.StatusNotFound {
			t.Errorf("POST %s: %d, want 404", path, resp.StatusCode)
		}
	}
	for _, path := range []string{"/mail/inbox/" + strings.Repeat("ab", 16), "/mail/inbox/nothex", "/mail/drafts/" + id.String(), "/mail/sent/" + id.String()} {
		if code, _ := get(t, s, cookie, path); code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, code)
		}
	}

	// A read receipt only when asked.
	resp, _ = post(t, s, cookie, "/mail/inbox/"+id.String()+"/receipt", nil, false)
	if !moved(resp) || len(fm.receipts) != 1 || fm.receipts[0] != id {
		t.Errorf("receipt: %d, receipts %v", resp.StatusCode, fm.receipts)
	}

	// Reply quotes the letter and names it.
	_, body = get(t, s, cookie, "/mail/new?reply="+id.String())
	for _, want := range []string{`value="` + bob + `"`, `value="Re: Report &lt;b&gt;now&lt;/b&gt;"`, "&gt; line one\n&gt; &lt;b&gt;line two&lt;/b&gt;",
		`name="inreplyto" value="` + id.String() + `"`} {
		if !strings.Contains(body, want) {
			t.Errorf("reply form lacks %q", want)
		}
	}

	// Delete.
	resp, _ = post(t, s, cookie, "/mail/inbox/"+id.String()+"/delete", nil, false)
	if !moved(resp) || dest(resp) != "/mail?done=deleted" {
		t.Errorf("delete: %d to %q", resp.StatusCode, dest(resp))
	}
	if _, err := fm.Get(mail.Inbox, id); !errors.Is(err, mail.ErrNotFound) {
		t.Errorf("the letter is still there after delete")
	}
}

func TestMailSend(t *testing.T) {
	s, cookie, fm := mailServer(t)
	bob := testMUID(t)
	fm.cards[bob] = &mail.Card{MUID: bob, Nick: "bob"}
	fm.entries["e1"] = drive.Entry{ID: "e1", Name: "plan.pdf", Path: "/docs/plan.pdf", Size: 2048}
	pasted := testLink(t, "photo.jpg", 4, false)
	replyTo, _ := mail.NewMsgID()

	form := url.Values{"to": {" " + bob + " "}, "subject": {"Plans"}, "body": {"See attached."},
		"attach": {"e1", "e1"}, "links": {"\n" + pasted + "\n"}, "inreplyto": {replyTo.String()}}
	resp, _ := post(t, s, cookie, "/mail/new", form, true)
	if !moved(resp) || !strings.HasPrefix(dest(resp), "/mail/sent/") ||
		!strings.HasSuffix(dest(resp), "?done=sent") {
		t.Fatalf("send: %d to %q", resp.StatusCode, dest(resp))
	}
	want := mail.Draft{To: bob, Subject: "Plans", Body: "See attached.", Attachments: []string{"link-of-e1", pasted}, InReplyTo: replyTo}
	if len(fm.sent) != 1 || fm.sent[0].To != want.To || fm.sent[0].Subject != want.Subject || fm.sent[0].Body != want.Body ||
		!slices.Equal(fm.sent[0].Attachments, want.Attachments) || fm.sent[0].InReplyTo != want.InReplyTo {
		t.Fatalf("sent %+v, want %+v", fm.sent, want)
	}
	code, body := get(t, s, cookie, dest(resp))
	if code != http.StatusOK || !strings.Contains(body, `id="send-result">Sent. It shows delivered`) || !strings.Contains(body, `id="letter-status"`) {
		t.Errorf("after sending: %d\n%s", code, body)
	}

	// Refusals keep what was written and say why.
	for _, tc := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"subject": {"kept subject"}}, "Write the recipient"},
		{url.Values{"to": {"nobody"}, "subject": {"kept subject"}}, "not a BorgIOS address"},
		{url.Values{"to": {bob}}, "The letter is empty"},
		{url.Values{"to": {bob}, "subject": {strings.Repeat("x", mail.MaxSubject+1)}}, "subject is too long"},
		{url.Values{"to": {bob}, "subject": {"kept subject"}, "links": {"https://example.com/x"}}, "not a BorgHUI file link"},
		{url.Values{"to": {bob}, "subject": {"kept subject"}, "attach": {"gone"}}, "no longer in your drive"},
	} {
		resp, body := post(t, s, cookie, "/mail/new", tc.form, true)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, tc.want) {
			t.Errorf("send %v: %d, want 422 saying %q\n%s", tc.form, resp.StatusCode, tc.want, body)
		}
		if tc.form.Get("subject") == "kept subject" && !strings.Contains(body, `value="kept subject"`) {
			t.Errorf("send %v: the subject was not kept", tc.form)
		}
	}
	if len(fm.sent) != 1 {
		t.Errorf("a refused form was sent: %d sends", len(fm.sent))
	}

	// No card: nothing queued, the person's sentence.
	stranger := testMUID(t)
	fm.sendErr = fmt.Errorf("mail: card: %w", mail.ErrNotFound)
	resp, body = post(t, s, cookie, "/mail/new", url.Values{"to": {stranger}, "body": {"hello?"}}, true)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "has no mail card") || !strings.Contains(body, "hello?") {
		t.Errorf("send to an address without a card: %d\n%s", resp.StatusCode, body)
	}

	// Queued: safe in the outbox, said so.
	fm.sendErr, fm.sendRes = errors.New("network down"), &mail.SendResult{State: mail.StateQueued}
	resp, _ = post(t, s, cookie, "/mail/new", url.Values{"to": {bob}, "body": {"later"}}, true)
	if loc := dest(resp); !moved(resp) || !strings.HasSuffix(loc, "?done=queued") {
		t.Fatalf("queued send: %d to %q", resp.StatusCode, loc)
	} else if _, body := get(t, s, cookie, loc); !strings.Contains(body, "Saved in your outbox") || !strings.Contains(body, "waiting to go out") {
		t.Errorf("queued letter page\n%s", body)
	}
}

func TestMailSentStates(t *testing.T) {
	s, cookie, fm := mailServer(t)
	to := testMUID(t)
	now := time.Now()
	fm.letter(mail.Sent, fm.me, to, "queued one", "", now, func(st *mail.Stored) { st.State = mail.StateQueued })
	fm.letter(mail.Sent, fm.me, to, "on the cells", "", now.Add(-time.Minute), nil)
	fm.letter(mail.Sent, fm.me, to, "collected", "", now.Add(-2*time.Minute), func(st *mail.Stored) { st.State = mail.StateDelivered })
	fm.letter(mail.Sent, fm.me, to, "opened", "", now.Add(-3*time.Minute), func(st *mail.Stored) {
		st.State, st.Receipt = mail.StateDelivered, now
	})
	failed := fm.letter(mail.Sent, fm.me, to, "refused", "", now.Add(-4*time.Minute), func(st *mail.Stored) { st.State = mail.StateFailed })
	code, body := get(t, s, cookie, "/mail?folder=sent")
	if code != http.StatusOK {
		t.Fatalf("GET /mail?folder=sent: %d", code)
	}
	for _, want := range []string{"waiting to go out", "on the network", "delivered", "read " + now.Format("15:04"),
		`class="state problem">refused`, `aria-current="page">Sent`} {
		if !strings.Contains(body, want) {
			t.Errorf("sent list lacks %q", want)
		}
	}
	if strings.Contains(body, "queued one") == false || strings.Count(body, `class="msg"`) != 5 {
		t.Errorf("sent list: want 5 letters\n%s", body)
	}
	if _, body = get(t, s, cookie, "/mail/sent/"+failed.String()); !strings.Contains(body, "refused it for good") || strings.Contains(body, `id="reply"`) {
		t.Errorf("a failed letter's page\n%s", body)
	}
}

func TestMailRecipient(t *testing.T) {
	s, cookie, fm := mailServer(t)
	alice, alfred := testMUID(t), testMUID(t)
	fm.cards[alice] = &mail.Card{MUID: alice, Nick: "alice"}
	fm.cards[alfred] = &mail.Card{MUID: alfred, Nick: "alfred"}

	_, body := get(t, s, cookie, "/mail/to?to=al")
	if i, j := strings.Index(body, ">alfred<"), strings.Index(body, ">alice<"); i < 0 || j < i ||
		!strings.Contains(body, `hx-get="/mail/to/pick?muid=`+alice+`"`) {
		t.Errorf("search al: want alfred then alice, each to pick\n%s", body)
	}
	if _, body = get(t, s, cookie, "/mail/to?to=zed"); !strings.Contains(body, `id="to-none"`) {
		t.Errorf("search zed: want nobody found\n%s", body)
	}
	if _, body = get(t, s, cookie, "/mail/to?to="+alice); !strings.Contains(body, "ready to receive mail") {
		t.Errorf("an address with a card\n%s", body)
	}
	if _, body = get(t, s, cookie, "/mail/to?to="+testMUID(t)); !strings.Contains(body, "has no mail card") {
		t.Errorf("an address without a card\n%s", body)
	}
	_, body = get(t, s, cookie, "/mail/to/pick?muid="+alice)
	if !strings.Contains(body, `id="to-field"`) || !strings.Contains(body, `value="`+alice+`"`) || !strings.Contains(body, "ready to receive mail") {
		t.Errorf("pick alice\n%s", body)
	}
	if _, body = get(t, s, cookie, "/mail/new?to="+alice); !strings.Contains(body, `value="`+alice+`"`) || !strings.Contains(body, "ready to receive mail") {
		t.Errorf("compose to alice\n%s", body)
	}

	// Attachments from the drive: the newest files are offered, unticked;
	// folders are not.
	fm.entries["f1"] = drive.Entry{ID: "f1", Name: "notes.txt", Path: "/notes.txt", Size: 12, Modified: time.Now().Add(-time.Hour)}
	fm.entries["d1"] = drive.Entry{ID: "d1", Name: "notes", Path: "/notes", Folder: true}
	fm.entries["f2"] = drive.Entry{ID: "f2", Parent: "d1", Name: "new.txt", Path: "/notes/new.txt", Size: 1, Modified: time.Now()}
	_, body = get(t, s, cookie, "/mail/new")
	if i, j := strings.Index(body, `name="attach" value="f2"`), strings.Index(body, `name="attach" value="f1"`); i < 0 || j < i ||
		strings.Contains(body, `value="d1"`) || strings.Contains(body, "checked") {
		t.Errorf("compose offers the drive's files newest first, unticked, no folders\n%s", body)
	}
	_, body = get(t, s, cookie, "/mail/attach?q=notes")
	if !strings.Contains(body, `hx-get="/mail/attach/f1"`) || strings.Contains(body, "/mail/attach/d1") {
		t.Errorf("attach search\n%s", body)
	}
	if _, body = get(t, s, cookie, "/mail/attach/f1"); !strings.Contains(body, `name="attach" value="f1" checked`) {
		t.Errorf("attach pick\n%s", body)
	}
	if code, _ := get(t, s, cookie, "/mail/attach/d1"); code != http.StatusUnprocessableEntity && code != http.StatusNotFound {
		t.Errorf("attach a folder: %d", code)
	}
}

func TestMailCheck(t *testing.T) {
	s, cookie, fm := mailServer(t)
	fm.newMail = 2
	resp, _ := post(t, s, cookie, "/mail/check", nil, false)
	if !moved(resp) || dest(resp) != "/mail?done=checked&new=2" || fm.received != 1 {
		t.Fatalf("check: %d to %q after %d receives", resp.StatusCode, dest(resp), fm.received)
	}
	if _, body := get(t, s, cookie, "/mail?done=checked&new=2"); !strings.Contains(body, "2 new letters.") || !strings.Contains(body, `hx-target="#action-result"`) {
		t.Errorf("no notice of the new letters, or no result area for the check")
	}
	// A failed check says why where the form's result goes, not over the page.
	fm.recvErr = fmt.Errorf("mail: list: %w", mail.ErrNoNode)
	resp, body := post(t, s, cookie, "/mail/check", nil, true)
	if resp.StatusCode != http.StatusUnprocessableEntity || resp.Header.Get("HX-Reswap") != "innerHTML" || !strings.Contains(body, "The network did not answer") {
		t.Errorf("failed check: %d %v\n%s", resp.StatusCode, resp.Header, body)
	}
}
