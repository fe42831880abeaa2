package web

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hpke"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/borgios/borghui/cells/ftree"
	"github.com/borgios/borghui/cells/mail"
	"github.com/borgios/borghui/conduit"
	"github.com/borgios/borghui/conduit/drive"
	"github.com/borgios/borghui/conduit/files"
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
	cardErr  error
	// Deliver: the state a retry reaches (and its error); delivers counts
	// the retries.
	deliverState mail.State
	deliverErr   error
	delivers     int
	// uploads are the files stored by Upload, by entry.
	uploads  map[drive.EntryID][]byte
	longTerm []byte
}

func newFakeMail(t *testing.T) *fakeMail {
	return &fakeMail{me: testMUID(t), box: map[mail.Folder]map[mail.MsgID]*mail.Stored{mail.Inbox: {}, mail.Sent: {}, mail.Drafts: {}},
		cards: map[string]*mail.Card{}, entries: map[drive.EntryID]drive.Entry{}, uploads: map[drive.EntryID][]byte{},
		longTerm: testLongTerm(t)}
}

// testLongTerm is a fresh long-term (X-Wing) public key.
func testLongTerm(t *testing.T) []byte {
	t.Helper()
	seed := make([]byte, 32)
	rand.Read(seed)
	k, err := hpke.MLKEM768X25519().DeriveKeyPair(seed)
	if err != nil {
		t.Fatal(err)
	}
	return k.PublicKey().Bytes()
}

// testCard is the mail card of a fresh identity named nick, with real
// keys (so it has a fingerprint).
func testCard(t *testing.T, nick string) *mail.Card {
	t.Helper()
	k, err := wallet.NewNodeKey()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Destroy)
	owner, err := mail.PubKeyOf(k.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	muid, err := mail.MUIDOf(k.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	return &mail.Card{Owner: owner, MUID: muid, Nick: nick, Key: testLongTerm(t)}
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

func (f *fakeMail) MUID() string           { return f.me }
func (f *fakeMail) LongTermPublic() []byte { return f.longTerm }

func (f *fakeMail) Put(st *mail.Stored) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := *st
	m := *st.Message
	c.Message = &m
	f.box[st.Folder][m.ID] = &c
	return nil
}

func (f *fakeMail) Deliver(_ context.Context, id mail.MsgID) (mail.State, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delivers++
	if f.deliverErr != nil && f.deliverState == "" {
		return "", f.deliverErr
	}
	if st, ok := f.box[mail.Sent][id]; ok {
		st.State = f.deliverState
	}
	return f.deliverState, f.deliverErr
}

func (f *fakeMail) MakeFolder(_ context.Context, parent drive.EntryID, name string) (drive.Entry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e := drive.Entry{ID: drive.EntryID(fmt.Sprintf("dir%d", len(f.entries))), Parent: parent, Name: name, Folder: true, Path: "/" + name}
	f.entries[e.ID] = e
	return e, nil
}

func (f *fakeMail) Upload(_ context.Context, parent drive.EntryID, name, mt string, r io.Reader, size int64) (drive.Entry, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return drive.Entry{}, err
	}
	if int64(len(b)) != size {
		return drive.Entry{}, fmt.Errorf("upload of %d bytes said %d", len(b), size)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range f.entries {
		if e.Parent == parent && e.Name == name {
			return drive.Entry{}, drive.ErrExists
		}
	}
	e := drive.Entry{ID: drive.EntryID(fmt.Sprintf("up%d", len(f.entries))), Parent: parent, Name: name, MIME: mt, Size: size,
		Modified: time.Now(), Path: f.entries[parent].Path + "/" + name}
	rand.Read(e.Manifest[:])
	f.entries[e.ID] = e
	f.uploads[e.ID] = b
	return e, nil
}

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
	if f.cardErr != nil {
		return nil, f.cardErr
	}
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
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []drive.Entry
	for _, e := range f.entries {
		if e.Parent == parent {
			out = append(out, e)
		}
	}
	return out, nil
}

func (f *fakeMail) FindFiles(q string) []drive.Entry {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []drive.Entry
	for _, e := range f.entries {
		if strings.Contains(e.Name, q) {
			out = append(out, e)
		}
	}
	return out
}

func (f *fakeMail) File(id drive.EntryID) (drive.Entry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.entries[id]
	if !ok {
		return drive.Entry{}, drive.ErrNotFound
	}
	return e, nil
}

// Link makes a link to the entry's manifest with an all-zero key, so the
// same file always gives the same link.
func (f *fakeMail) Link(id drive.EntryID) (string, error) {
	f.mu.Lock()
	e, ok := f.entries[id]
	f.mu.Unlock()
	if !ok {
		return "", drive.ErrNotFound
	}
	man := ftree.Hash(e.Manifest)
	if man == (ftree.Hash{}) {
		man = sha256.Sum256([]byte(id))
	}
	return ftree.EncodeLink(&ftree.Capability{Manifest: man, Key: make([]byte, ftree.KeyLen), Size: uint64(e.Size), Name: e.Name})
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
	resp, body := post(t, s, cookie, "/mail/new", form, true)
	if !moved(resp) || !strings.HasPrefix(dest(resp), "/mail/sent/") ||
		!strings.HasSuffix(dest(resp), "?done=sent") {
		t.Fatalf("send: %d to %q\n%s", resp.StatusCode, dest(resp), body)
	}
	e1, _ := fm.Link("e1")
	want := mail.Draft{To: bob, Subject: "Plans", Body: "See attached.", Attachments: []string{e1, pasted}, InReplyTo: replyTo}
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

// mailUpload is a file for postMultipart.
type mailUpload struct {
	name, mime string
	data       []byte
}

// postMultipart sends fields (in order) then files as the compose form
// does (multipart/form-data, the files in the "upload" field).
func postMultipart(t *testing.T, s *Server, cookie *http.Cookie, path string, fields [][2]string, files []mailUpload, hx bool) (*http.Response, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, f := range fields {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="upload"; filename=%q`, f.name))
		h.Set("Content-Type", cmp.Or(f.mime, "application/octet-stream"))
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(f.data)
	}
	mw.Close()
	req, err := http.NewRequest("POST", s.BaseURL()+path, &b)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
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

func TestMailDrafts(t *testing.T) {
	s, cookie, fm := mailServer(t)
	bob := testCard(t, "bob")
	fm.cards[bob.MUID] = bob
	fm.entries["f1"] = drive.Entry{ID: "f1", Name: "plan.pdf", Path: "/plan.pdf", Size: 10, Manifest: files.HexID{1, 2, 3}}
	pasted := testLink(t, "elsewhere.txt", 5, false)

	if code, body := get(t, s, cookie, "/mail?folder=drafts"); code != http.StatusOK || !strings.Contains(body, "No drafts") ||
		!strings.Contains(body, `aria-current="page">Drafts`) {
		t.Fatalf("empty drafts: %d\n%s", code, body)
	}
	// Nothing typed: nothing saved.
	if resp, body := post(t, s, cookie, "/mail/draft", url.Values{"body": {"  "}}, true); resp.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(body, "nothing to save") {
		t.Fatalf("empty draft: %d\n%s", resp.StatusCode, body)
	}

	// A draft to a nickname still being typed, with a drive file and a
	// pasted link.
	resp, _ := post(t, s, cookie, "/mail/draft", url.Values{"to": {"bo"}, "subject": {"<script>alert(1)</script>"},
		"body": {"first <img src=x onerror=alert(1)>"}, "attach": {"f1"}, "links": {pasted}}, true)
	loc := dest(resp)
	idText, ok := strings.CutPrefix(loc, "/mail/compose?draft=")
	idText, ok2 := strings.CutSuffix(idText, "&done=saved")
	if !moved(resp) || !ok || !ok2 {
		t.Fatalf("save draft: %d to %q", resp.StatusCode, loc)
	}
	id, err := mail.ParseMsgID(idText)
	if err != nil {
		t.Fatal(err)
	}
	st, err := fm.Get(mail.Drafts, id)
	if err != nil || st.Message.To != "bo" || len(st.Message.Attachments) != 2 || !st.Message.From.IsZero() || len(fm.sent) != 0 {
		t.Fatalf("stored draft %+v %v, sent %d", st, err, len(fm.sent))
	}
	code, body := get(t, s, cookie, loc)
	for _, want := range []string{"Draft saved", `name="draft" value="` + idText + `"`, `value="bo"`,
		`value="&lt;script&gt;alert(1)&lt;/script&gt;"`, "first &lt;img src=x onerror=alert(1)&gt;",
		`name="attach" value="f1" checked`, pasted, `formaction="/mail/draft" id="save-draft"`,
		`action="/mail/drafts/` + idText + `/delete"`,
		`hx-get="/mail/to/pick?muid=` + bob.MUID + `"`, // the nickname is searched again
	} {
		if !strings.Contains(body, want) {
			t.Errorf("draft in compose lacks %q", want)
		}
	}
	if code != http.StatusOK || strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") {
		t.Errorf("draft in compose: %d, or unescaped\n%s", code, body)
	}
	_, body = get(t, s, cookie, "/mail?folder=drafts")
	if !strings.Contains(body, `href="/mail/compose?draft=`+idText+`"`) || !strings.Contains(body, `data-id="`+idText+`"`) ||
		!strings.Contains(body, "<bdi>bo</bdi>") || strings.Contains(body, "<script>alert") {
		t.Errorf("drafts list\n%s", body)
	}
	// The reader of a draft is the compose form.
	req, _ := http.NewRequest("GET", s.BaseURL()+"/mail/drafts/"+idText, nil)
	req.AddCookie(cookie)
	if r := do(t, req); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/mail/compose?draft="+idText {
		t.Errorf("GET a draft: %d to %q", r.StatusCode, r.Header.Get("Location"))
	}

	// Saving again keeps one draft.
	resp, _ = post(t, s, cookie, "/mail/draft", url.Values{"draft": {idText}, "to": {bob.MUID}, "subject": {"Plans"}, "body": {"second"}}, true)
	if dest(resp) != "/mail/compose?draft="+idText+"&done=saved" || len(fm.box[mail.Drafts]) != 1 {
		t.Fatalf("save again: %q, %d drafts", dest(resp), len(fm.box[mail.Drafts]))
	}
	if _, body = get(t, s, cookie, "/mail?folder=drafts"); !strings.Contains(body, ">Plans<") || !strings.Contains(body, `title="`+bob.MUID+`"><bdi class="nick">bob</bdi>`) {
		t.Errorf("drafts list after the second save\n%s", body)
	}
	// Bad or unknown drafts.
	unknown, _ := mail.NewMsgID()
	for _, q := range []string{"nothex", unknown.String(), strings.Repeat("0", 32)} {
		if code, _ := get(t, s, cookie, "/mail/compose?draft="+q); code != http.StatusNotFound {
			t.Errorf("compose ?draft=%s: %d, want 404", q, code)
		}
	}
	if resp, body := post(t, s, cookie, "/mail/draft", url.Values{"draft": {"nothex"}, "subject": {"x"}}, true); resp.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(body, "could not be read") {
		t.Errorf("save with a bad draft id: %d", resp.StatusCode)
	}

	// Sending it deletes the draft; a refused send keeps it.
	fm.sendErr = fmt.Errorf("mail: card: %w", mail.ErrNotFound)
	resp, body = post(t, s, cookie, "/mail/new", url.Values{"draft": {idText}, "to": {bob.MUID}, "body": {"second"}}, true)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `name="draft" value="`+idText+`"`) || len(fm.box[mail.Drafts]) != 1 {
		t.Fatalf("refused send of a draft: %d, %d drafts", resp.StatusCode, len(fm.box[mail.Drafts]))
	}
	fm.sendErr = nil
	resp, _ = post(t, s, cookie, "/mail/new", url.Values{"draft": {idText}, "to": {bob.MUID}, "body": {"second"}}, true)
	if !moved(resp) || !strings.HasPrefix(dest(resp), "/mail/sent/") || len(fm.box[mail.Drafts]) != 0 {
		t.Fatalf("send a draft: %d to %q, %d drafts left", resp.StatusCode, dest(resp), len(fm.box[mail.Drafts]))
	}

	// Delete a draft.
	resp, _ = post(t, s, cookie, "/mail/draft", url.Values{"subject": {"to delete"}}, true)
	idText = strings.TrimSuffix(strings.TrimPrefix(dest(resp), "/mail/compose?draft="), "&done=saved")
	resp, _ = post(t, s, cookie, "/mail/drafts/"+idText+"/delete", nil, false)
	if !moved(resp) || dest(resp) != "/mail?folder=drafts&done=deleted" || len(fm.box[mail.Drafts]) != 0 {
		t.Errorf("delete draft: %d to %q", resp.StatusCode, dest(resp))
	}
}

func TestMailRetry(t *testing.T) {
	s, cookie, fm := mailServer(t)
	to := testMUID(t)
	now := time.Now()
	queued := fm.letter(mail.Sent, fm.me, to, "waiting", "", now, func(st *mail.Stored) { st.State = mail.StateQueued })
	failed := fm.letter(mail.Sent, fm.me, to, "refused", "", now, func(st *mail.Stored) { st.State = mail.StateFailed })
	sent := fm.letter(mail.Sent, fm.me, to, "on its way", "", now, nil)

	for _, id := range []mail.MsgID{queued, failed} {
		if _, body := get(t, s, cookie, "/mail/sent/"+id.String()); !strings.Contains(body, `action="/mail/retry/`+id.String()+`"`) ||
			!strings.Contains(body, `id="retry"`) {
			t.Errorf("letter %s offers no retry\n%s", id, body)
		}
	}
	if _, body := get(t, s, cookie, "/mail/sent/"+sent.String()); strings.Contains(body, `id="retry"`) {
		t.Errorf("a letter on the network offers a retry")
	}

	// The network takes it: the page says so and the state shown moves.
	fm.deliverState = mail.StateSent
	resp, _ := post(t, s, cookie, "/mail/retry/"+queued.String(), nil, true)
	if !moved(resp) || dest(resp) != "/mail/sent/"+queued.String()+"?done=sent" || fm.delivers != 1 {
		t.Fatalf("retry: %d to %q after %d deliveries", resp.StatusCode, dest(resp), fm.delivers)
	}
	_, body := get(t, s, cookie, dest(resp))
	if !strings.Contains(body, `id="letter-state">on the network<`) || strings.Contains(body, `id="retry"`) {
		t.Errorf("after a retry\n%s", body)
	}
	// Still no network: still waiting, said so.
	fm.deliverState, fm.deliverErr = mail.StateQueued, fmt.Errorf("deliver: %w", mail.ErrNoNode)
	resp, _ = post(t, s, cookie, "/mail/retry/"+failed.String(), nil, true)
	if dest(resp) != "/mail/sent/"+failed.String()+"?done=queued" {
		t.Errorf("retry without network: to %q", dest(resp))
	} else if _, body := get(t, s, cookie, dest(resp)); !strings.Contains(body, "Saved in your outbox") || !strings.Contains(body, `id="retry"`) {
		t.Errorf("still waiting\n%s", body)
	}
	// Refused again, or gone from the outbox.
	fm.deliverState, fm.deliverErr = mail.StateFailed, errors.New("too large")
	if resp, _ = post(t, s, cookie, "/mail/retry/"+failed.String(), nil, false); dest(resp) != "/mail/sent/"+failed.String()+"?done=failed" {
		t.Errorf("refused again: to %q", dest(resp))
	}
	fm.deliverState, fm.deliverErr = "", fmt.Errorf("%w: not in the outbox", mail.ErrNotFound)
	resp, _ = post(t, s, cookie, "/mail/retry/"+failed.String(), nil, false)
	if dest(resp) != "/mail/sent/"+failed.String()+"?done=gone" {
		t.Errorf("gone: to %q", dest(resp))
	} else if _, body := get(t, s, cookie, dest(resp)); !strings.Contains(body, "no longer in your outbox") {
		t.Errorf("gone\n%s", body)
	}
	// Only Sent letters, only real ids.
	inbox := fm.letter(mail.Inbox, to, fm.me, "hi", "", now, nil)
	for _, id := range []string{inbox.String(), "nothex", strings.Repeat("ab", 17)} {
		if resp, _ := post(t, s, cookie, "/mail/retry/"+id, nil, false); resp.StatusCode != http.StatusNotFound {
			t.Errorf("retry %s: %d, want 404", id, resp.StatusCode)
		}
	}
}

func TestMailForwardSecrecyMarker(t *testing.T) {
	s, cookie, fm := mailServer(t)
	to := testMUID(t)
	now := time.Now()
	fs := fm.letter(mail.Sent, fm.me, to, "secret", "", now, func(st *mail.Stored) { st.ForwardSecret = true })
	lt := fm.letter(mail.Sent, fm.me, to, "long-term", "", now.Add(-time.Minute), nil)
	in := fm.letter(mail.Inbox, to, fm.me, "to my long-term key", "", now, nil)

	_, body := get(t, s, cookie, "/mail?folder=sent")
	_, fsRow, _ := strings.Cut(body, `data-id="`+fs.String()+`"`)
	fsRow, _, _ = strings.Cut(fsRow, "</li>")
	_, ltRow, _ := strings.Cut(body, `data-id="`+lt.String()+`"`)
	ltRow, _, _ = strings.Cut(ltRow, "</li>")
	if strings.Contains(fsRow, "no-fs") || !strings.Contains(ltRow, `class="no-fs"`) {
		t.Errorf("sent list markers: forward secret %q, long-term %q", fsRow, ltRow)
	}
	if _, body = get(t, s, cookie, "/mail/sent/"+lt.String()); !strings.Contains(body, `class="no-fs">Sent without forward secrecy: sealed to the recipient's long-term key`) {
		t.Errorf("sent letter without forward secrecy\n%s", body)
	}
	if _, body = get(t, s, cookie, "/mail/sent/"+fs.String()); strings.Contains(body, "no-fs") {
		t.Errorf("a forward-secret letter is marked")
	}
	if _, body = get(t, s, cookie, "/mail/inbox/"+in.String()); !strings.Contains(body, `class="no-fs">Sent without forward secrecy: sealed to your long-term key`) {
		t.Errorf("inbox letter without forward secrecy\n%s", body)
	}
}

func TestMailContact(t *testing.T) {
	s, cookie, fm := mailServer(t)
	// The mail account is the unlocked identity's (its own fingerprint
	// is shown only then).
	if _, body := get(t, s, cookie, "/mail"); strings.Contains(body, `id="my-fingerprint"`) {
		t.Errorf("the Mail page shows a fingerprint for an identity that is not the account's")
	}
	info, err := s.opts.Conduit.Identity()
	if err != nil {
		t.Fatal(err)
	}
	fm.mu.Lock()
	fm.me = info.MUID
	fm.mu.Unlock()
	alice := testCard(t, `<script>alert(1)</script><img src=x onerror=alert(1)>`)
	fm.cards[alice.MUID] = alice
	words, err := conduit.Fingerprint(alice)
	if err != nil {
		t.Fatal(err)
	}
	code, body := get(t, s, cookie, "/mail/contact?muid="+alice.MUID)
	if code != http.StatusOK {
		t.Fatalf("contact: %d\n%s", code, body)
	}
	for _, want := range []string{`id="fingerprint">` + strings.Join(words, " ") + "<", alice.MUID, `<svg class="qr"`,
		"&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;", `href="/mail/new?to=` + alice.MUID + `"`} {
		if !strings.Contains(body, want) {
			t.Errorf("contact page lacks %q", want)
		}
	}
	if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") {
		t.Errorf("contact page shows the nickname unescaped")
	}
	if len(words) != 8 {
		t.Errorf("fingerprint of %d words", len(words))
	}
	// The QR code holds the address and the whole digest: check it decodes
	// to what the page would put in it.
	fp, err := fingerprintOf(alice)
	if err != nil || !strings.HasPrefix(fp.QR, "borgios-fingerprint:"+alice.MUID+":") || len(fp.QR) != len("borgios-fingerprint:"+alice.MUID+":")+64 {
		t.Errorf("QR text %q %v", fp.QR, err)
	}

	// Unknown, unreachable, malformed.
	if code, body := get(t, s, cookie, "/mail/contact?muid="+testMUID(t)); code != http.StatusNotFound || !strings.Contains(body, "has no mail card") {
		t.Errorf("contact without a card: %d\n%s", code, body)
	}
	fm.cardErr = fmt.Errorf("card: %w", mail.ErrNoNode)
	if code, body := get(t, s, cookie, "/mail/contact?muid="+alice.MUID); code != http.StatusBadGateway || !strings.Contains(body, "The network did not answer") {
		t.Errorf("contact offline: %d\n%s", code, body)
	}
	fm.cardErr = nil
	for _, q := range []string{"", "nobody", "%3Cscript%3E"} {
		if code, _ := get(t, s, cookie, "/mail/contact?muid="+q); code != http.StatusNotFound {
			t.Errorf("contact ?muid=%s: %d, want 404", q, code)
		}
	}

	// One's own fingerprint: on the Mail page and as a contact.
	own, err := s.ownCard(fm)
	if err != nil {
		t.Fatal(err)
	}
	mine, _ := conduit.Fingerprint(own)
	if _, body = get(t, s, cookie, "/mail"); !strings.Contains(body, `id="my-fingerprint">`+strings.Join(mine, " ")+"<") {
		t.Errorf("the Mail page lacks the own fingerprint %q", mine)
	}
	if _, body = get(t, s, cookie, "/mail/contact?muid="+fm.me); !strings.Contains(body, `id="fingerprint">`+strings.Join(mine, " ")+"<") ||
		strings.Contains(body, `id="write-to"`) {
		t.Errorf("own contact page\n%s", body)
	}

	// Links to it: from a letter's sender, from the recipient check.
	id := fm.letter(mail.Inbox, alice.MUID, fm.me, "hi", "", time.Now(), nil)
	if _, body = get(t, s, cookie, "/mail/inbox/"+id.String()); !strings.Contains(body, `href="/mail/contact?muid=`+alice.MUID+`"`) ||
		!strings.Contains(body, `id="msg-from"`) {
		t.Errorf("letter does not link the sender's fingerprint\n%s", body)
	}
	if _, body = get(t, s, cookie, "/mail/to?to="+alice.MUID); !strings.Contains(body, strings.Join(words, " ")) ||
		!strings.Contains(body, `href="/mail/contact?muid=`+alice.MUID+`" target="_blank"`) {
		t.Errorf("recipient check lacks the fingerprint\n%s", body)
	}
}

func TestMailUpload(t *testing.T) {
	s, cookie, fm := mailServer(t)
	bob := testMUID(t)
	fm.cards[bob] = &mail.Card{MUID: bob, Nick: "bob"}
	fields := [][2]string{{"to", bob}, {"subject", "Photos"}, {"body", "line one\r\nline two"}}

	// Two files, one named like a file already in the folder; an empty
	// file field is no file.
	resp, body := postMultipart(t, s, cookie, "/mail/new", fields, []mailUpload{{name: "a.jpg", mime: "image/jpeg", data: []byte("jpeg")}}, true)
	if !moved(resp) {
		t.Fatalf("send with an upload: %d\n%s", resp.StatusCode, body)
	}
	resp, body = postMultipart(t, s, cookie, "/mail/new", fields, []mailUpload{{name: "a.jpg", data: []byte("again")}, {name: "notes", data: []byte("n")}, {}}, true)
	if !moved(resp) {
		t.Fatalf("second send: %d\n%s", resp.StatusCode, body)
	}
	var folders []drive.Entry
	names := map[string]drive.Entry{}
	for _, e := range fm.entries {
		if e.Folder {
			folders = append(folders, e)
		} else {
			names[e.Name] = e
		}
	}
	if len(folders) != 1 || folders[0].Name != "Mail attachments" || folders[0].Parent != "" {
		t.Fatalf("folders %+v, want one Mail attachments at the top", folders)
	}
	if len(names) != 3 || names["a.jpg"].MIME != "image/jpeg" || string(fm.uploads[names["a (2).jpg"].ID]) != "again" || names["notes"].Parent != folders[0].ID {
		t.Fatalf("uploaded %+v", names)
	}
	if len(fm.sent) != 2 || len(fm.sent[1].Attachments) != 2 || fm.sent[1].Body != "line one\nline two" {
		t.Fatalf("sent %+v", fm.sent)
	}
	if link, _ := fm.Link(names["a (2).jpg"].ID); fm.sent[1].Attachments[0] != link {
		t.Errorf("the upload is not the letter's attachment")
	}

	// Too large: refused with a clear sentence; the text is kept; nothing
	// is stored.
	before := len(fm.entries)
	big := mailUpload{name: "film.mkv", data: make([]byte, maxAttachUpload+1)}
	resp, body = postMultipart(t, s, cookie, "/mail/new", fields, []mailUpload{big}, false)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(body, "larger than 32 MB") || !strings.Contains(body, "Upload it in Files first") ||
		!strings.Contains(body, `value="Photos"`) || len(fm.entries) != before || len(fm.sent) != 2 {
		t.Errorf("too large: %d, %d entries\n%s", resp.StatusCode, len(fm.entries), body)
	}
	if resp, _ = postMultipart(t, s, cookie, "/mail/new", fields, []mailUpload{big}, true); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("too large from htmx: %d, want 422 (shown)", resp.StatusCode)
	}
	// Exactly the limit is fine, and a draft may carry uploads too.
	resp, body = postMultipart(t, s, cookie, "/mail/draft", fields, []mailUpload{{name: "max.bin", data: make([]byte, maxAttachUpload)}}, true)
	if !moved(resp) || !strings.HasPrefix(dest(resp), "/mail/compose?draft=") {
		t.Fatalf("draft with an upload: %d\n%s", resp.StatusCode, body)
	}
	if _, body = get(t, s, cookie, dest(resp)); !strings.Contains(body, "/Mail attachments/max.bin") || !strings.Contains(body, "checked") {
		t.Errorf("the draft's upload is not ticked again\n%s", body)
	}
	// The compose form uploads.
	if _, body = get(t, s, cookie, "/mail/new"); !strings.Contains(body, `enctype="multipart/form-data"`) ||
		!strings.Contains(body, `type="file" id="attach-upload" name="upload" multiple`) || !strings.Contains(body, "Up to 32 MB") {
		t.Errorf("compose form cannot upload\n%s", body)
	}
}

func TestMailFreeName(t *testing.T) {
	taken := map[string]bool{"a.jpg": true, "a (2).jpg": true, "notes": true, ".profile": true, "x.tar.gz": true}
	for in, want := range map[string]string{"b.jpg": "b.jpg", "a.jpg": "a (3).jpg", "notes": "notes (2)", ".profile": ".profile (2)", "x.tar.gz": "x.tar (2).gz"} {
		if got := freeName(in, taken); got != want {
			t.Errorf("freeName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMailHostileContent(t *testing.T) {
	s, cookie, fm := mailServer(t)
	const evil = `<script>alert(1)</script><img src=x onerror=alert(1)>`
	eve := testCard(t, evil)
	fm.cards[eve.MUID] = eve
	s.names.put(eve.MUID, evil)
	link := testLink(t, evil, 3, false)
	in := fm.letter(mail.Inbox, eve.MUID, fm.me, evil, evil, time.Now(), func(st *mail.Stored) { st.Message.Attachments = []string{link} })
	out := fm.letter(mail.Sent, fm.me, eve.MUID, evil, evil, time.Now(), nil)
	resp, _ := post(t, s, cookie, "/mail/draft", url.Values{"to": {evil}, "subject": {evil}, "body": {evil}, "links": {link}}, true)
	for _, path := range []string{"/mail", "/mail?folder=sent", "/mail?folder=drafts", "/mail/inbox/" + in.String(), "/mail/sent/" + out.String(),
		"/mail/new?reply=" + in.String(), dest(resp), "/mail/contact?muid=" + eve.MUID, "/mail/to?to=" + eve.MUID, "/mail/name/" + eve.MUID} {
		code, body := get(t, s, cookie, path)
		if code != http.StatusOK {
			t.Errorf("GET %s: %d", path, code)
		}
		if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") {
			t.Errorf("GET %s shows hostile text unescaped", path)
		}
		if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Errorf("GET %s does not show the hostile text at all", path)
		}
	}
}

func BenchmarkInbox1000(b *testing.B) {
	s := &Server{}
	me := "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"
	now := time.Now()
	v := mailFolderView{Folder: mail.Inbox, Me: me, Now: now}
	senders := []string{"1KFHE7w8BhaENAswwryaoccDb6qcT6DbYY", "1Gqk4Tv79P91Cc1STQtU3s1W6277M2CVWu", "1dice8EMZmqKvrGE4Qc9bUFf9PX3xaYDp"}
	s.names.put(senders[0], "alice")
	s.names.put(senders[1], "")
	for i := range 1000 {
		id, _ := mail.NewMsgID()
		from := senders[i%len(senders)]
		v.Rows = append(v.Rows, mailRow{ID: id.String(), Href: "/mail/inbox/" + id.String(), Who: s.who(me, from),
			Subject: fmt.Sprintf("Letter number %d about the <plans> & more", i), Date: now.Add(-time.Duration(i) * time.Hour),
			Unread: i%7 == 0, Files: i % 3})
	}
	benchRender(b, mailList(v))
}
