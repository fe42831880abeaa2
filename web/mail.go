package web

import (
	"bytes"
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/borgios/borghui/cells/ftree"
	"github.com/borgios/borghui/cells/mail"
	"github.com/borgios/borghui/conduit"
	"github.com/borgios/borghui/conduit/drive"
)

// Mail limits of the UI.
const (
	// maxMailForm bounds a letter's form: a message is at most
	// mail.MaxMessage, plus room for the other fields.
	maxMailForm = mail.MaxMessage + 64<<10
	// maxPeople is how many cards a recipient search shows.
	maxPeople = 10
	// maxFilePicks is how many drive files an attachment search shows,
	// and how many of the newest the compose form offers.
	maxFilePicks = 20
	// cardWait bounds a card look-up made while a page waits for it.
	cardWait = 5 * time.Second
	// retryWait bounds a Retry: how long the page waits for the network to
	// take a letter before it says the letter is still waiting.
	retryWait = 10 * time.Second
	// maxAttachUpload bounds one file uploaded with a letter: it is held
	// in memory (a multipart part does not say its size, which the drive
	// needs before it stores a byte). Bigger files go through Files.
	maxAttachUpload = 32 << 20
	// maxAttachUploads is how many files one letter form may upload.
	maxAttachUploads = 16
	// maxLetterPost bounds a compose form with its uploads.
	maxLetterPost = maxMailForm + maxAttachUploads*(maxAttachUpload+16<<10)
	// attachFolder is the drive folder (at the top) that keeps the files
	// uploaded with letters.
	attachFolder = "Mail attachments"
)

// mailRoutes registers the Mail section.
func (s *Server) mailRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /mail", s.mailFolder)
	mux.HandleFunc("POST /mail/check", s.mailCheck)
	mux.HandleFunc("GET /mail/new", s.mailCompose)
	mux.HandleFunc("GET /mail/compose", s.mailCompose)
	mux.HandleFunc("POST /mail/new", s.mailSend)
	mux.HandleFunc("POST /mail/draft", s.mailSaveDraft)
	mux.HandleFunc("POST /mail/retry/{id}", s.mailRetry)
	mux.HandleFunc("GET /mail/contact", s.mailContact)
	mux.HandleFunc("GET /mail/to", s.mailTo)
	mux.HandleFunc("GET /mail/to/pick", s.mailToPick)
	mux.HandleFunc("GET /mail/attach", s.mailAttachSearch)
	mux.HandleFunc("GET /mail/attach/{entry}", s.mailAttachPick)
	mux.HandleFunc("GET /mail/name/{muid}", s.mailName)
	mux.HandleFunc("GET /mail/{folder}/{id}", s.mailRead)
	mux.HandleFunc("POST /mail/{folder}/{id}/open/{n}", s.mailOpen)
	mux.HandleFunc("POST /mail/{folder}/{id}/delete", s.mailDelete)
	mux.HandleFunc("POST /mail/inbox/{id}/receipt", s.mailReceipt)
}

// mailAPI is what the Mail section uses of a session: the local mailbox,
// sending and collecting, the mail cards, and the drive for attachments.
type mailAPI interface {
	MUID() string
	// LongTermPublic is the account's long-term HPKE public key (the one
	// on its card).
	LongTermPublic() []byte
	List(f mail.Folder) ([]*mail.Stored, error)
	Get(f mail.Folder, id mail.MsgID) (*mail.Stored, error)
	// Put stores a letter in the mailbox: the Mail pages put drafts.
	Put(st *mail.Stored) error
	Delete(f mail.Folder, id mail.MsgID) error
	MarkRead(ctx context.Context, id mail.MsgID, receipt bool) error
	Send(ctx context.Context, d mail.Draft) (*mail.SendResult, error)
	// Deliver tries again to deliver a sent letter of the outbox (see
	// mail.Outbox.Deliver).
	Deliver(ctx context.Context, id mail.MsgID) (mail.State, error)
	Receive(ctx context.Context) (*mail.ReceiveReport, error)
	Card(ctx context.Context, muid string) (*mail.CardInfo, error)
	SearchCards(ctx context.Context, query string, limit int) ([]*mail.Card, error)
	// ListFiles lists a drive folder, FindFiles searches the drive by
	// name, File gets one entry.
	ListFiles(parent drive.EntryID) ([]drive.Entry, error)
	FindFiles(query string) []drive.Entry
	File(id drive.EntryID) (drive.Entry, error)
	// MakeFolder makes a drive folder; Upload stores size bytes of r as a
	// drive file (see drive.Drive.Mkdir and Upload).
	MakeFolder(ctx context.Context, parent drive.EntryID, name string) (drive.Entry, error)
	Upload(ctx context.Context, parent drive.EntryID, name, mime string, r io.Reader, size int64) (drive.Entry, error)
	// Link makes a capability link to a drive file.
	Link(id drive.EntryID) (string, error)
}

// mailOf adapts an open session.
func mailOf(sess *conduit.Session) mailAPI { return sessionMail{sess} }

// sessionMail is mailAPI over a *conduit.Session.
type sessionMail struct{ s *conduit.Session }

func (m sessionMail) MUID() string           { return m.s.Mail.MUID() }
func (m sessionMail) LongTermPublic() []byte { return m.s.Mail.LongTermPublic() }
func (m sessionMail) List(f mail.Folder) ([]*mail.Stored, error) {
	return m.s.Mail.Mailbox().List(f)
}
func (m sessionMail) Get(f mail.Folder, id mail.MsgID) (*mail.Stored, error) {
	return m.s.Mail.Mailbox().Get(f, id)
}
func (m sessionMail) Put(st *mail.Stored) error { return m.s.Mail.Mailbox().Put(st) }
func (m sessionMail) Delete(f mail.Folder, id mail.MsgID) error {
	return m.s.Mail.Mailbox().Delete(f, id)
}
func (m sessionMail) MarkRead(ctx context.Context, id mail.MsgID, receipt bool) error {
	return m.s.Mail.MarkRead(ctx, id, receipt)
}
func (m sessionMail) Send(ctx context.Context, d mail.Draft) (*mail.SendResult, error) {
	return m.s.Mail.Send(ctx, d)
}
func (m sessionMail) Deliver(ctx context.Context, id mail.MsgID) (mail.State, error) {
	return m.s.Mail.Outbox().Deliver(ctx, id)
}
func (m sessionMail) Receive(ctx context.Context) (*mail.ReceiveReport, error) {
	return m.s.Mail.Receive(ctx)
}
func (m sessionMail) Card(ctx context.Context, muid string) (*mail.CardInfo, error) {
	return m.s.Card(ctx, muid)
}
func (m sessionMail) SearchCards(ctx context.Context, q string, limit int) ([]*mail.Card, error) {
	return m.s.SearchCards(ctx, q, limit)
}
func (m sessionMail) ListFiles(p drive.EntryID) ([]drive.Entry, error) { return m.s.Drive.List(p) }
func (m sessionMail) FindFiles(q string) []drive.Entry                 { return m.s.Drive.Search(q) }
func (m sessionMail) File(id drive.EntryID) (drive.Entry, error)       { return m.s.Drive.Get(id) }
func (m sessionMail) Link(id drive.EntryID) (string, error)            { return m.s.Link(id) }
func (m sessionMail) MakeFolder(ctx context.Context, p drive.EntryID, name string) (drive.Entry, error) {
	return m.s.Drive.Mkdir(ctx, p, name)
}
func (m sessionMail) Upload(ctx context.Context, p drive.EntryID, name, mt string, r io.Reader, size int64) (drive.Entry, error) {
	return m.s.Drive.Upload(ctx, p, name, mt, r, size, nil, nil)
}

// mailSession returns the open session's mail, or answers the request
// (see sessionOr).
func (s *Server) mailSession(w http.ResponseWriter, r *http.Request) (mailAPI, bool) {
	sv, ok := s.sessionOr(w, r, "Mail", "mail")
	if !ok {
		return nil, false
	}
	return sv.mail, true
}

// mailFolder shows a folder's list: the Inbox, or ?folder=sent or drafts.
func (s *Server) mailFolder(w http.ResponseWriter, r *http.Request) {
	m, ok := s.mailSession(w, r)
	if !ok {
		return
	}
	f := mail.Inbox
	switch q := mail.Folder(r.URL.Query().Get("folder")); q {
	case mail.Sent, mail.Drafts:
		f = q
	}
	v, err := s.mailFolderView(m, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Notice = folderNotice(r.URL.Query())
	if card, err := s.ownCard(m); err == nil {
		v.Mine, _ = fingerprintOf(card)
	}
	p := s.appPage("Mail", "mail")
	p.Wide = true
	s.render(w, r, mailFolderPage(p, v))
}

// folderHref is a folder's list.
func folderHref(f mail.Folder) string {
	switch f {
	case mail.Sent:
		return "/mail?folder=sent"
	case mail.Drafts:
		return "/mail?folder=drafts"
	}
	return "/mail"
}

// folderNotice words the outcome a redirect to a folder carries.
func folderNotice(q url.Values) string {
	switch q.Get("done") {
	case "deleted":
		return "Deleted from this stick."
	case "checked":
		switch n, _ := strconv.Atoi(q.Get("new")); n {
		case 0:
			return "No new mail."
		case 1:
			return "1 new letter."
		default:
			return strconv.Itoa(n) + " new letters."
		}
	}
	return ""
}

// mailFolderView is what a folder page shows.
type mailFolderView struct {
	Folder mail.Folder
	Me     string
	Mine   fingerprint // the person's own, to compare in person
	Now    time.Time   // the dates of the list are shown relative to it
	Unread int
	Rows   []mailRow
	Notice string
}

// mailRow is one letter of a folder list.
type mailRow struct {
	ID      string
	Href    string
	Who     who    // the sender (Inbox) or recipient (Sent, Drafts)
	Typed   string // Drafts: a To that is not an address (yet)
	NoWho   bool   // Drafts: no To at all
	Subject string
	Date    time.Time
	Unread  bool
	Files   int
	State   string // Sent: where it is
	Read    string // Sent: when the read receipt came, if one did
	Problem bool   // Sent: refused
	NoFS    bool   // Sent: sealed to the recipient's long-term key
}

func (s *Server) mailFolderView(m mailAPI, f mail.Folder) (mailFolderView, error) {
	v := mailFolderView{Folder: f, Me: m.MUID()}
	inbox, err := m.List(mail.Inbox)
	if err != nil {
		return v, err
	}
	for _, st := range inbox {
		if !st.Read {
			v.Unread++
		}
	}
	list := inbox
	if f != mail.Inbox {
		if list, err = m.List(f); err != nil {
			return v, err
		}
	}
	now := time.Now()
	v.Now = now
	v.Rows = make([]mailRow, 0, len(list))
	for _, st := range list {
		msg := st.Message
		row := mailRow{ID: msg.ID.String(), Href: "/mail/" + string(f) + "/" + msg.ID.String(), Subject: msg.Subject,
			Date: time.UnixMilli(msg.Date), Files: len(msg.Attachments)}
		switch f {
		case mail.Inbox:
			row.Who, row.Unread = s.who(v.Me, msg.FromMUID), !st.Read
		case mail.Sent:
			row.Who, row.NoFS = s.who(v.Me, msg.To), !st.ForwardSecret
			row.State, row.Problem = deliveryState(st)
			if !st.Receipt.IsZero() {
				row.Read = "read " + shortDate(st.Receipt, now)
			}
		case mail.Drafts:
			row.Href = "/mail/compose?draft=" + row.ID
			switch {
			case msg.To == "":
				row.NoWho = true
			case mail.CheckMUID(msg.To) == nil:
				row.Who = s.who(v.Me, msg.To)
			default:
				row.Typed = msg.To
			}
		}
		v.Rows = append(v.Rows, row)
	}
	return v, nil
}

// deliveryState words where a sent letter is, and whether that is a
// problem. (A read receipt comes only after delivery.)
func deliveryState(st *mail.Stored) (string, bool) {
	switch {
	case st.State == mail.StateDelivered || !st.Receipt.IsZero():
		return "delivered", false
	case st.State == mail.StateSent:
		return "on the network", false
	case st.State == mail.StateFailed:
		return "refused", true
	}
	return "waiting to go out", false
}

// deliveryDetail explains a delivery state in a sentence.
func deliveryDetail(st *mail.Stored) string {
	switch {
	case !st.Receipt.IsZero():
		return "The recipient opened it and sent a read receipt on " + longDate(st.Receipt) + "."
	case st.State == mail.StateDelivered:
		return "The recipient has collected it."
	case st.State == mail.StateSent:
		return "It is stored on the recipient's mail cells, waiting for them to collect it."
	case st.State == mail.StateFailed:
		return "The network refused it for good, or it expired before the recipient collected it."
	}
	return "It is safe in your outbox on this stick; BorgHUI delivers it as soon as the network takes it."
}

// mailCheck collects new mail now.
func (s *Server) mailCheck(w http.ResponseWriter, r *http.Request) {
	m, ok := s.mailSession(w, r)
	if !ok {
		return
	}
	rep, err := m.Receive(r.Context())
	if err != nil {
		s.opFailed(w, r, err)
		return
	}
	goTo(w, r, "/mail?done=checked&new="+strconv.Itoa(len(rep.New)))
}

// mailLetterView is what the reader shows.
type mailLetterView struct {
	Folder  mail.Folder
	ID      string
	From    who
	To      who
	Subject string
	Body    string
	Date    time.Time
	FS      bool
	Files   []mailFile
	State   string // Sent
	Detail  string // Sent
	Problem bool   // Sent
	Retry   bool   // Sent: waiting or refused, so Retry is offered
	Notice  string
	Sent    string // after sending: the outcome
	Refused bool   // after sending: refused for good
}

// mailFile is one attachment of a letter.
type mailFile struct {
	N      int // its place among the letter's attachments
	Name   string
	Size   string
	Folder bool // a folder link: not opened here
	Bad    bool // a link that does not parse
}

// mailRead shows one letter; opening an Inbox letter marks it read.
func (s *Server) mailRead(w http.ResponseWriter, r *http.Request) {
	m, st, ok := s.mailLetter(w, r)
	if !ok {
		return
	}
	msg := st.Message
	if st.Folder == mail.Drafts {
		http.Redirect(w, r, "/mail/compose?draft="+msg.ID.String(), http.StatusSeeOther)
		return
	}
	me := m.MUID()
	v := mailLetterView{Folder: st.Folder, ID: msg.ID.String(), From: s.who(me, msg.FromMUID), To: s.who(me, msg.To),
		Subject: msg.Subject, Body: msg.Body, Date: time.UnixMilli(msg.Date), FS: st.ForwardSecret}
	if st.Folder == mail.Inbox && !st.Read {
		if err := m.MarkRead(r.Context(), msg.ID, false); err != nil {
			s.log.Warn("marking mail read", "err", err)
		}
	}
	if st.Folder == mail.Sent {
		v.State, v.Problem = deliveryState(st)
		v.Detail = deliveryDetail(st)
		v.Retry = st.Receipt.IsZero() && (st.State == mail.StateQueued || st.State == mail.StateFailed || st.State == "")
	}
	for i, a := range msg.Attachments {
		f := mailFile{N: i, Name: "(a link that does not open)", Bad: true}
		if c, err := ftree.ParseLink(a); err == nil {
			f = mailFile{N: i, Name: cmp.Or(c.Name, "(no name)"), Folder: c.Folder}
			if c.Size > 0 {
				f.Size = conduit.SizeText(int64(c.Size))
			}
			c.Wipe()
		}
		v.Files = append(v.Files, f)
	}
	switch r.URL.Query().Get("done") {
	case "sent":
		v.Sent = "Sent. It shows delivered once the recipient collects it."
		if !st.ForwardSecret {
			v.Sent += " It was sealed to the recipient's long-term key, because none of their one-time keys was left."
		}
	case "queued":
		v.Sent = "Saved in your outbox. The network did not take it yet; BorgHUI keeps trying."
	case "failed":
		v.Sent, v.Refused = "Not sent: the network refused this letter.", true
	case "gone":
		v.Sent, v.Refused = "This letter is no longer in your outbox, so it cannot be tried again. Write it again to send it anew.", true
	case "receipt":
		v.Notice = "Read receipt sent."
	}
	p := s.appPage(cmp.Or(msg.Subject, "(no subject)"), "mail")
	p.Wide = true
	s.render(w, r, mailLetterPage(p, v))
}

func (v mailLetterView) href() string { return "/mail/" + string(v.Folder) + "/" + v.ID }

// mailLetter reads the letter the path names (and returns the session's
// mail with it), or answers the request: 404 for no such letter, as
// mailSession without a session.
func (s *Server) mailLetter(w http.ResponseWriter, r *http.Request) (mailAPI, *mail.Stored, bool) {
	m, ok := s.mailSession(w, r)
	if !ok {
		return nil, nil, false
	}
	f := mail.Folder(r.PathValue("folder"))
	id, err := mail.ParseMsgID(r.PathValue("id"))
	if err == nil && f != mail.Inbox && f != mail.Sent && f != mail.Drafts {
		err = mail.ErrNotFound
	}
	var st *mail.Stored
	if err == nil {
		st, err = m.Get(f, id)
	}
	switch {
	case err == nil:
		return m, st, true
	case errors.Is(err, mail.ErrNotFound), errors.Is(err, mail.ErrMalformed):
		s.renderStatus(w, r, http.StatusNotFound, messagePage(s.appPage("Not found", "mail"), "No such letter",
			"That letter is not on this stick (it may have been deleted).", "/mail", "Back to Mail"))
	default:
		s.fail(w, r, err)
	}
	return nil, nil, false
}

// mailOpen opens an attachment in Files: its link is kept in memory under
// a random handle (see links) and the browser goes to the file's page, so
// the link's key is in neither a URL nor the letter's page.
func (s *Server) mailOpen(w http.ResponseWriter, r *http.Request) {
	_, st, ok := s.mailLetter(w, r)
	if !ok {
		return
	}
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 0 || n >= len(st.Message.Attachments) {
		s.notFound(w, r)
		return
	}
	h, _, err := s.links.add(st.Message.Attachments[n])
	if err != nil {
		s.fragmentError(w, r, http.StatusUnprocessableEntity, "This attachment is not a file link BorgHUI can open (it may name a folder).")
		return
	}
	goTo(w, r, "/files/shared/"+h)
}

// mailDelete deletes a letter from this stick.
func (s *Server) mailDelete(w http.ResponseWriter, r *http.Request) {
	m, st, ok := s.mailLetter(w, r)
	if !ok {
		return
	}
	if err := m.Delete(st.Folder, st.Message.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	to := folderHref(st.Folder)
	if st.Folder == mail.Inbox {
		to += "?done=deleted"
	} else {
		to += "&done=deleted"
	}
	goTo(w, r, to)
}

// mailReceipt sends the sender of an Inbox letter a signed read receipt.
func (s *Server) mailReceipt(w http.ResponseWriter, r *http.Request) {
	m, ok := s.mailSession(w, r)
	if !ok {
		return
	}
	id, err := mail.ParseMsgID(r.PathValue("id"))
	if err != nil {
		s.notFound(w, r)
		return
	}
	if err := m.MarkRead(r.Context(), id, true); err != nil {
		if errors.Is(err, mail.ErrNotFound) {
			s.notFound(w, r)
			return
		}
		s.opFailed(w, r, err)
		return
	}
	goTo(w, r, "/mail/inbox/"+id.String()+"?done=receipt")
}

// mailRetry tries again, now, to deliver a sent letter that waits in the
// outbox or was refused, and shows where it is then.
func (s *Server) mailRetry(w http.ResponseWriter, r *http.Request) {
	m, ok := s.mailSession(w, r)
	if !ok {
		return
	}
	st, ok := letterOf(m, mail.Sent, r.PathValue("id"))
	if !ok {
		s.notFound(w, r)
		return
	}
	id := st.Message.ID
	ctx, cancel := context.WithTimeout(r.Context(), retryWait)
	defer cancel()
	state, err := m.Deliver(ctx, id)
	done := "queued"
	switch {
	case errors.Is(err, mail.ErrNotFound):
		done = "gone"
	case state == mail.StateSent || state == mail.StateDelivered:
		done = "sent"
	case state == mail.StateFailed:
		done = "failed"
	}
	if err != nil {
		s.log.Info("mail retry", "state", state, "err", err)
	}
	goTo(w, r, "/mail/sent/"+id.String()+"?done="+done)
}

// fingerprint is a mail card's key fingerprint as the pages show it.
type fingerprint struct {
	Words string // conduit.Fingerprint's words, space-separated
	QR    string // what the QR code holds: borgios-fingerprint:MUID:digest
}

// fingerprintOf words card's fingerprint.
func fingerprintOf(card *mail.Card) (fingerprint, error) {
	words, err := conduit.Fingerprint(card)
	if err != nil {
		return fingerprint{}, err
	}
	d, err := conduit.FingerprintDigest(card)
	if err != nil {
		return fingerprint{}, err
	}
	return fingerprint{Words: strings.Join(words, " "), QR: "borgios-fingerprint:" + card.MUID + ":" + hex.EncodeToString(d[:])}, nil
}

// ownCard is the person's own card as far as fingerprints go: the
// unlocked identity's key (which must be the mail account's) and the
// account's long-term key.
func (s *Server) ownCard(m mailAPI) (*mail.Card, error) {
	info, err := s.opts.Conduit.Identity()
	if err != nil {
		return nil, err
	}
	pub, err := hex.DecodeString(info.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("web: identity key: %w", err)
	}
	owner, err := mail.PubKeyOf(pub)
	if err != nil {
		return nil, err
	}
	if muid, err := mail.MUIDOf(pub); err != nil || muid != m.MUID() {
		return nil, errors.New("web: the unlocked identity is not the mail account's")
	}
	return &mail.Card{Owner: owner, MUID: m.MUID(), Key: m.LongTermPublic()}, nil
}

// mailContactView is what a contact's page shows.
type mailContactView struct {
	MUID  string
	Nick  string
	Me    bool
	FP    fingerprint
	Error string
}

// mailContact shows the card of ?muid=: its nickname, address and key
// fingerprint (words and a QR code) to compare in person.
func (s *Server) mailContact(w http.ResponseWriter, r *http.Request) {
	m, ok := s.mailSession(w, r)
	if !ok {
		return
	}
	muid := strings.TrimSpace(r.URL.Query().Get("muid"))
	if mail.CheckMUID(muid) != nil {
		s.notFound(w, r)
		return
	}
	v := mailContactView{MUID: muid, Me: muid == m.MUID()}
	var card *mail.Card
	var err error
	if v.Me {
		card, err = s.ownCard(m)
	} else {
		ctx, cancel := context.WithTimeout(r.Context(), cardWait)
		defer cancel()
		var info *mail.CardInfo
		if info, err = m.Card(ctx, muid); err == nil {
			card = info.Card
			s.names.put(muid, card.Nick)
		}
	}
	status := http.StatusOK
	if err == nil {
		v.Nick = card.Nick
		if v.FP, err = fingerprintOf(card); err != nil {
			s.log.Warn("fingerprint", "err", err)
			v.Error, status = "The keys on this card do not check out, so there is no fingerprint to compare. Do not trust mail from it.", http.StatusBadGateway
		}
	} else {
		s.log.Info("contact card", "err", err)
		v.Error, status = conduit.UserMessage(err), http.StatusBadGateway
		if errors.Is(err, mail.ErrNotFound) {
			status = http.StatusNotFound
		}
	}
	title := cmp.Or(v.Nick, "Contact")
	if v.Me {
		title = "Your fingerprint"
	}
	s.renderStatus(w, r, status, mailContactPage(s.appPage(title, "mail"), v))
}

// mailDraft is the compose form's content.
type mailDraft struct {
	DraftID   string // the Drafts letter this form edits, if any
	To        string
	Subject   string
	Body      string
	InReplyTo string
	Files     []drive.Entry // attached from the drive
	Recent    []drive.Entry // the drive's newest files, offered to attach
	Links     string        // pasted borg://cap/ links, one per line
	ToStatus  toStatus
	Notice    string
	Error     string
}

// mailCompose shows an empty letter, one to ?to=, a reply to ?reply=, or
// the draft ?draft=.
func (s *Server) mailCompose(w http.ResponseWriter, r *http.Request) {
	m, ok := s.mailSession(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	d := mailDraft{To: strings.TrimSpace(q.Get("to"))}
	all := driveFiles(m)
	switch {
	case q.Get("draft") != "":
		st, ok := letterOf(m, mail.Drafts, q.Get("draft"))
		if !ok {
			s.renderStatus(w, r, http.StatusNotFound, messagePage(s.appPage("Not found", "mail"), "No such draft",
				"That draft is not on this stick (it may have been sent or deleted).", "/mail?folder=drafts", "Back to Drafts"))
			return
		}
		d = draftOf(st.Message, all)
		if q.Get("done") == "saved" {
			d.Notice = "Draft saved on this stick. It stays in Drafts until you send or delete it."
		}
	case q.Get("reply") != "":
		st, ok := letterOf(m, mail.Inbox, q.Get("reply"))
		if !ok {
			s.notFound(w, r)
			return
		}
		d = replyDraft(st.Message)
	}
	if d.To != "" {
		d.ToStatus = s.toStatusOf(r.Context(), m, d.To) // an address's card, or the people a nickname finds
	}
	d.Recent = newestFiles(all, maxFilePicks, d.Files)
	s.render(w, r, mailComposePage(s.appPage("Write", "mail"), d))
}

// letterOf gets the letter of folder f whose id is the text id.
func letterOf(m mailAPI, f mail.Folder, id string) (*mail.Stored, bool) {
	mid, err := mail.ParseMsgID(id)
	if err != nil {
		return nil, false
	}
	st, err := m.Get(f, mid)
	return st, err == nil
}

// draftOf fills the compose form from a saved draft: its links to files
// of the drive (all) tick those files again, other links are shown as
// pasted.
func draftOf(msg *mail.Message, all []drive.Entry) mailDraft {
	d := mailDraft{DraftID: msg.ID.String(), To: msg.To, Subject: msg.Subject, Body: msg.Body, InReplyTo: msg.InReplyTo.String()}
	var pasted []string
	for _, link := range msg.Attachments {
		if e, ok := driveFileOf(link, all); ok && !slices.ContainsFunc(d.Files, func(x drive.Entry) bool { return x.ID == e.ID }) {
			d.Files = append(d.Files, e)
			continue
		}
		pasted = append(pasted, link)
	}
	d.Links = strings.Join(pasted, "\n")
	return d
}

// driveFileOf finds the drive file a capability link names.
func driveFileOf(link string, all []drive.Entry) (drive.Entry, bool) {
	c, err := ftree.ParseLink(link)
	if err != nil {
		return drive.Entry{}, false
	}
	defer c.Wipe()
	if c.Folder {
		return drive.Entry{}, false
	}
	i := slices.IndexFunc(all, func(e drive.Entry) bool { return ftree.Hash(e.Manifest) == c.Manifest })
	if i < 0 {
		return drive.Entry{}, false
	}
	return all[i], true
}

// replyDraft starts an answer to msg, quoting it.
func replyDraft(msg *mail.Message) mailDraft {
	subj := msg.Subject
	if !strings.HasPrefix(strings.ToLower(subj), "re:") {
		subj = "Re: " + subj
	}
	if len(subj) > mail.MaxSubject {
		subj = msg.Subject
	}
	var b strings.Builder
	b.WriteString("\n\nOn " + longDate(time.UnixMilli(msg.Date)) + ", " + msg.FromMUID + " wrote:\n")
	for line := range strings.Lines(msg.Body) {
		b.WriteString("> " + strings.TrimSuffix(line, "\n") + "\n")
	}
	return mailDraft{To: msg.FromMUID, Subject: subj, Body: b.String(), InReplyTo: msg.ID.String()}
}

// mailSend sends the compose form's letter (and deletes the draft it was).
func (s *Server) mailSend(w http.ResponseWriter, r *http.Request) { s.mailSubmit(w, r, false) }

// mailSaveDraft keeps the compose form's letter in Drafts.
func (s *Server) mailSaveDraft(w http.ResponseWriter, r *http.Request) { s.mailSubmit(w, r, true) }

// mailSubmit sends the compose form's letter, or saves it as a draft. The
// form is url-encoded, or multipart with files to upload (see
// readLetterForm). A refused form comes back with what was written.
func (s *Server) mailSubmit(w http.ResponseWriter, r *http.Request, asDraft bool) {
	m, ok := s.mailSession(w, r)
	if !ok {
		return
	}
	f, status, problem := s.readLetterForm(w, r, m)
	d := mailDraft{To: strings.TrimSpace(f.Get("to")), Subject: f.Get("subject"), Body: f.Get("body"),
		InReplyTo: f.Get("inreplyto"), Links: f.Get("links"), DraftID: f.Get("draft")}
	var draftID mail.MsgID
	if d.DraftID != "" {
		id, err := mail.ParseMsgID(d.DraftID)
		if err != nil {
			d.DraftID = "" // saving again makes a new draft
			if problem == "" {
				problem, status = "The draft this form edits could not be read. Open it again from Drafts.", http.StatusUnprocessableEntity
			}
		}
		draftID = id
	}
	links, linkProblem := s.attachments(m, &d, f["attach"])
	if problem == "" {
		problem = linkProblem
	}
	switch {
	case problem != "":
	case asDraft:
		var id mail.MsgID
		if id, problem = s.saveDraft(m, d, draftID, links); problem == "" {
			goTo(w, r, "/mail/compose?draft="+id.String()+"&done=saved")
			return
		}
	default:
		var draft mail.Draft
		if draft, problem = letterFrom(d, links); problem == "" {
			res, err := m.Send(r.Context(), draft)
			if res != nil && (err == nil || res.State == mail.StateQueued || res.State == mail.StateFailed) {
				if !draftID.IsZero() {
					if err := m.Delete(mail.Drafts, draftID); err != nil {
						s.log.Warn("deleting a sent draft", "err", err)
					}
				}
				done := "sent"
				if err != nil {
					s.log.Warn("mail not delivered yet", "state", res.State, "err", err)
					done = string(res.State)
				}
				goTo(w, r, "/mail/sent/"+res.ID.String()+"?done="+done)
				return
			}
			s.log.Info("mail not sent", "err", err)
			problem = conduit.UserMessage(err)
		}
	}
	if status == 0 || isHTMX(r) {
		status = http.StatusUnprocessableEntity // htmx swaps only 2xx and 422
	}
	d.Error = problem
	if d.To != "" && mail.CheckMUID(d.To) == nil {
		d.ToStatus = s.toStatusOf(r.Context(), m, d.To)
	}
	d.Recent = newestFiles(driveFiles(m), maxFilePicks, d.Files)
	s.renderStatus(w, r, status, mailComposePage(s.appPage("Write", "mail"), d))
}

// readLetterForm reads a compose form. A url-encoded one is parsed whole
// (at most maxMailForm). A multipart one is read part by part: text fields
// (together at most maxMailForm), and the files of the "upload" field,
// each read into memory (at most maxAttachUpload, never to disk) and
// stored in the drive folder attachFolder, then ticked as an "attach"
// pick. On a problem it returns what it read so far (the text fields come
// before the files in the form), the HTTP status and the person's
// sentence.
func (s *Server) readLetterForm(w http.ResponseWriter, r *http.Request, m mailAPI) (url.Values, int, string) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "multipart/form-data" {
		r.Body = http.MaxBytesReader(w, r.Body, maxMailForm)
		if err := r.ParseForm(); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return url.Values{}, http.StatusRequestEntityTooLarge, conduit.UserMessage(mail.ErrTooLarge)
			}
			return url.Values{}, http.StatusBadRequest, "The form could not be read. Reload the page and try again."
		}
		return r.PostForm, 0, ""
	}
	vals := url.Values{}
	if r.ContentLength > maxLetterPost {
		return vals, http.StatusRequestEntityTooLarge, tooMuchUpload
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxLetterPost)
	// Stop early without reading what is left: drain it, so the browser
	// reads the answer instead of a reset connection.
	drain := func() { _, _ = io.Copy(io.Discard, r.Body) }
	mr, err := r.MultipartReader()
	if err != nil {
		return vals, http.StatusBadRequest, "The form could not be read. Reload the page and try again."
	}
	// Storing files on the network may outlast the server's read timeout.
	_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
	up := attachUploads{s: s, m: m, ctx: r.Context()}
	text := 0
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return vals, 0, ""
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return vals, http.StatusRequestEntityTooLarge, tooMuchUpload
			}
			return vals, http.StatusBadRequest, "The form could not be read. Reload the page and try again."
		}
		name := p.FormName()
		if name == "upload" {
			id, status, problem := up.store(p)
			if problem != "" {
				drain()
				return vals, status, problem
			}
			if id != "" {
				vals.Add("attach", string(id))
			}
			continue
		}
		b, err := io.ReadAll(io.LimitReader(p, int64(maxMailForm-text+1)))
		if err != nil {
			return vals, http.StatusBadRequest, "The form could not be read. Reload the page and try again."
		}
		if text += len(b); text > maxMailForm {
			drain()
			return vals, http.StatusRequestEntityTooLarge, conduit.UserMessage(mail.ErrTooLarge)
		}
		vals.Add(name, strings.ReplaceAll(string(b), "\r\n", "\n"))
	}
}

// attachUploads stores the files uploaded with one letter in the drive
// folder attachFolder, made when first needed.
type attachUploads struct {
	s      *Server
	m      mailAPI
	ctx    context.Context
	n      int
	folder drive.EntryID
	taken  map[string]bool // names in the folder
	buf    bytes.Buffer
}

// store reads one uploaded file into memory and stores it in the drive,
// returning its entry: "" for the empty part of a file field left blank.
func (u *attachUploads) store(p *multipart.Part) (drive.EntryID, int, string) {
	name := strings.TrimSpace(p.FileName())
	u.buf.Reset()
	n, err := io.CopyN(&u.buf, p, maxAttachUpload+1)
	if err != nil && err != io.EOF {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return "", http.StatusRequestEntityTooLarge, tooMuchUpload
		}
		return "", http.StatusBadRequest, "An upload did not arrive whole. Try again."
	}
	if name == "" && n == 0 {
		return "", 0, "" // no file chosen
	}
	name = cmp.Or(name, "attachment")
	if n > maxAttachUpload {
		return "", http.StatusRequestEntityTooLarge, "“" + name + "” is larger than 32 MB, too large to upload with a letter. Upload it in Files first, then choose it here."
	}
	if u.n++; u.n > maxAttachUploads {
		return "", http.StatusRequestEntityTooLarge, "At most " + strconv.Itoa(maxAttachUploads) +
			" files can be uploaded with one letter. Upload the others in Files first, then choose them here."
	}
	if err := u.ensureFolder(); err != nil {
		u.s.log.Warn("mail attachments folder", "err", err)
		return "", http.StatusBadGateway, "The folder “" + attachFolder + "” could not be made in your drive. " + conduit.UserMessage(err)
	}
	name = freeName(name, u.taken)
	mt := ""
	if t, _, err := mime.ParseMediaType(p.Header.Get("Content-Type")); err == nil && t != "application/octet-stream" {
		mt = t
	}
	e, err := u.m.Upload(u.ctx, u.folder, name, mt, bytes.NewReader(u.buf.Bytes()), n)
	if err != nil {
		u.s.log.Warn("mail attachment upload", "err", err)
		return "", http.StatusBadGateway, "“" + name + "” could not be stored in your drive. " + conduit.UserMessage(err)
	}
	u.taken[name] = true
	u.s.opts.Conduit.Events().Publish(conduit.Event{Type: "files"})
	return e.ID, 0, ""
}

// tooMuchUpload words a compose form over maxLetterPost.
const tooMuchUpload = "That is too much to upload with one letter. Upload big files in Files first, then choose them here."

// ensureFolder finds the folder attachFolder at the top of the drive, or
// makes it, and notes the names it holds.
func (u *attachUploads) ensureFolder() error {
	if u.taken != nil {
		return nil
	}
	top, err := u.m.ListFiles("")
	if err != nil {
		return err
	}
	i := slices.IndexFunc(top, func(e drive.Entry) bool { return e.Name == attachFolder })
	var dir drive.Entry
	switch {
	case i < 0:
		if dir, err = u.m.MakeFolder(u.ctx, "", attachFolder); err != nil {
			return err
		}
	case !top[i].Folder:
		return fmt.Errorf("mail: %q is a file: %w", attachFolder, drive.ErrNotFolder)
	default:
		dir = top[i]
	}
	in, err := u.m.ListFiles(dir.ID)
	if err != nil {
		return err
	}
	u.folder, u.taken = dir.ID, map[string]bool{}
	for _, e := range in {
		u.taken[e.Name] = true
	}
	return nil
}

// freeName is name, or when taken "name (2).ext", "name (3).ext", ….
func freeName(name string, taken map[string]bool) string {
	if !taken[name] {
		return name
	}
	ext := path.Ext(name)
	if ext == name { // ".profile"
		ext = ""
	}
	stem := strings.TrimSuffix(name, ext)
	for i := 2; ; i++ {
		if n := stem + " (" + strconv.Itoa(i) + ")" + ext; !taken[n] {
			return n
		}
	}
}

// attachments resolves the drive files picked (into d.Files, for showing
// the form again) and the pasted links into the letter's links, or says
// (in a sentence for the person) what is wrong with them.
func (s *Server) attachments(m mailAPI, d *mailDraft, picked []string) ([]string, string) {
	var links []string
	problem := ""
	seen := map[drive.EntryID]bool{}
	for _, p := range picked {
		id := drive.EntryID(p)
		if seen[id] {
			continue
		}
		seen[id] = true
		e, err := m.File(id)
		if err != nil || e.Folder {
			problem = cmp.Or(problem, "A file you attached is no longer in your drive. Remove it and try again.")
			continue
		}
		d.Files = append(d.Files, e)
		link, err := m.Link(id)
		if err != nil {
			problem = cmp.Or(problem, conduit.UserMessage(err))
			continue
		}
		links = append(links, link)
	}
	for line := range strings.Lines(d.Links) {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		if err := mail.CheckLink(line); err != nil {
			problem = cmp.Or(problem, "A pasted link is not a BorgHUI file link (borg://cap/…). Check it, one link per line.")
			continue
		}
		links = append(links, line)
	}
	if problem == "" && len(links) > mail.MaxAttachments {
		problem = "Too many attachments: at most " + strconv.Itoa(mail.MaxAttachments) + "."
	}
	return links, problem
}

// letterFrom checks a letter to send, or says what is wrong with it.
func letterFrom(d mailDraft, links []string) (mail.Draft, string) {
	out := mail.Draft{To: d.To, Subject: d.Subject, Body: d.Body, Attachments: links}
	switch {
	case d.To == "":
		return out, "Write the recipient's address (MUID), or search for them by nickname."
	case mail.CheckMUID(d.To) != nil:
		return out, "That is not a BorgIOS address (MUID). Check it, or search for the person by nickname."
	case len(d.Subject) > mail.MaxSubject:
		return out, "The subject is too long: at most " + strconv.Itoa(mail.MaxSubject) + " bytes."
	case strings.TrimSpace(d.Subject) == "" && strings.TrimSpace(d.Body) == "" && len(links) == 0:
		return out, "The letter is empty. Write a subject or a message."
	}
	var problem string
	out.InReplyTo, problem = inReplyTo(d.InReplyTo)
	return out, problem
}

// inReplyTo parses the letter a form answers.
func inReplyTo(s string) (mail.MsgID, string) {
	if s == "" {
		return mail.MsgID{}, ""
	}
	id, err := mail.ParseMsgID(s)
	if err != nil {
		return id, "The letter this answers could not be read. Start the reply again from it."
	}
	return id, ""
}

// saveDraft keeps the form in Drafts (as the draft id, or a new one), or
// says what is wrong with it. A draft is not signed: only what was typed
// is kept, sealed on this stick like every letter.
func (s *Server) saveDraft(m mailAPI, d mailDraft, id mail.MsgID, links []string) (mail.MsgID, string) {
	switch {
	case len(d.To) > mail.MaxDraftTo:
		return id, "The To field is too long: write an address (MUID) or a nickname."
	case len(d.Subject) > mail.MaxSubject:
		return id, "The subject is too long: at most " + strconv.Itoa(mail.MaxSubject) + " bytes."
	case d.To == "" && strings.TrimSpace(d.Subject) == "" && strings.TrimSpace(d.Body) == "" && len(links) == 0:
		return id, "There is nothing to save yet. Write something first."
	}
	reply, problem := inReplyTo(d.InReplyTo)
	if problem != "" {
		return id, problem
	}
	if id.IsZero() {
		var err error
		if id, err = mail.NewMsgID(); err != nil {
			return id, conduit.UserMessage(err)
		}
	}
	if links == nil {
		links = []string{}
	}
	now := time.Now()
	st := &mail.Stored{Folder: mail.Drafts, Received: now, Message: &mail.Message{ID: id, Kind: mail.KindMail, To: d.To,
		Date: now.UnixMilli(), Subject: d.Subject, Body: d.Body, Attachments: links, InReplyTo: reply}}
	if err := m.Put(st); err != nil {
		s.log.Warn("saving a draft", "err", err)
		return id, conduit.UserMessage(err)
	}
	return id, ""
}

// driveFiles returns every file of the drive (none while it is not
// loaded).
func driveFiles(m mailAPI) []drive.Entry {
	var all []drive.Entry
	folders := []drive.EntryID{""}
	for len(folders) > 0 {
		es, err := m.ListFiles(folders[0])
		folders = folders[1:]
		if err != nil {
			continue // the drive is not loaded (yet): nothing to offer
		}
		for _, e := range es {
			if e.Folder {
				folders = append(folders, e.ID)
			} else {
				all = append(all, e)
			}
		}
	}
	return all
}

// newestFiles returns the n newest of the files all, leaving out those in
// skip (already attached).
func newestFiles(all []drive.Entry, n int, skip []drive.Entry) []drive.Entry {
	out := slices.DeleteFunc(slices.Clone(all), func(e drive.Entry) bool {
		return slices.ContainsFunc(skip, func(x drive.Entry) bool { return x.ID == e.ID })
	})
	slices.SortFunc(out, func(a, b drive.Entry) int {
		return cmp.Or(b.Modified.Compare(a.Modified), cmp.Compare(a.Path, b.Path))
	})
	return out[:min(n, len(out))]
}

// toStatus says what the To field holds: a card found (Nick), an address
// without a card (Error), or people whose nickname matches (People).
type toStatus struct {
	MUID   string
	Nick   string
	Keys   int    // one-time keys left on the card
	Words  string // the card's key fingerprint
	Error  string
	People []*mail.Card
	Query  string
}

// toStatusOf checks the To field: a valid MUID is looked up, anything else
// is a nickname search.
func (s *Server) toStatusOf(ctx context.Context, m mailAPI, to string) toStatus {
	ctx, cancel := context.WithTimeout(ctx, cardWait)
	defer cancel()
	if mail.CheckMUID(to) == nil {
		info, err := m.Card(ctx, to)
		if err != nil {
			return toStatus{MUID: to, Error: conduit.UserMessage(err)}
		}
		s.names.put(to, info.Card.Nick)
		fp, _ := fingerprintOf(info.Card)
		return toStatus{MUID: to, Nick: info.Card.Nick, Keys: len(info.Left), Words: fp.Words}
	}
	cards, err := m.SearchCards(ctx, to, maxPeople)
	if err != nil {
		return toStatus{Query: to, Error: conduit.UserMessage(err)}
	}
	for _, c := range cards {
		s.names.put(c.MUID, c.Nick)
	}
	return toStatus{Query: to, People: cards}
}

// mailTo answers the To field as it is typed: the card of an address, or
// the people a nickname finds.
func (s *Server) mailTo(w http.ResponseWriter, r *http.Request) {
	m, ok := s.mailSession(w, r)
	if !ok {
		return
	}
	to := strings.TrimSpace(r.URL.Query().Get("to"))
	var st toStatus
	if to != "" {
		st = s.toStatusOf(r.Context(), m, to)
	}
	s.render(w, r, toStatusBox(st))
}

// mailToPick fills the To field with a person found by the search.
func (s *Server) mailToPick(w http.ResponseWriter, r *http.Request) {
	m, ok := s.mailSession(w, r)
	if !ok {
		return
	}
	to := strings.TrimSpace(r.URL.Query().Get("muid"))
	if mail.CheckMUID(to) != nil {
		s.fragmentError(w, r, http.StatusBadRequest, "That is not a BorgIOS address (MUID).")
		return
	}
	s.render(w, r, toField(to, s.toStatusOf(r.Context(), m, to)))
}

// mailAttachSearch finds drive files to attach.
func (s *Server) mailAttachSearch(w http.ResponseWriter, r *http.Request) {
	m, ok := s.mailSession(w, r)
	if !ok {
		return
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	var found []drive.Entry
	more := false
	if q != "" {
		for _, e := range m.FindFiles(q) {
			if e.Folder {
				continue
			}
			if len(found) == maxFilePicks {
				more = true
				break
			}
			found = append(found, e)
		}
	}
	s.render(w, r, attachResults(q, found, more))
}

// mailAttachPick adds a drive file to the letter's attachments.
func (s *Server) mailAttachPick(w http.ResponseWriter, r *http.Request) {
	m, ok := s.mailSession(w, r)
	if !ok {
		return
	}
	e, err := m.File(drive.EntryID(r.PathValue("entry")))
	if err != nil || e.Folder {
		s.fragmentError(w, r, http.StatusNotFound, "That file is no longer in your drive.")
		return
	}
	s.render(w, r, attachedFile(e, true))
}

// mailName answers a name tag's look-up of the nickname on an address's
// mail card.
func (s *Server) mailName(w http.ResponseWriter, r *http.Request) {
	m, ok := s.mailSession(w, r)
	if !ok {
		return
	}
	muid := r.PathValue("muid")
	if mail.CheckMUID(muid) != nil {
		s.notFound(w, r)
		return
	}
	if _, known := s.names.get(muid); !known {
		ctx, cancel := context.WithTimeout(r.Context(), cardWait)
		defer cancel()
		nick := ""
		info, err := m.Card(ctx, muid)
		switch {
		case err == nil:
			nick = info.Card.Nick
		case !errors.Is(err, mail.ErrNotFound):
			// Not known now; the next page asks again.
			s.render(w, r, whoTag(who{MUID: muid}))
			return
		}
		s.names.put(muid, nick)
	}
	s.render(w, r, whoTag(s.who(m.MUID(), muid)))
}

// who is an address as the Mail pages show it: the nickname on its card
// when known (it is the owner's own choice, so the address stays beside
// it), "you" for the person's own.
type who struct {
	MUID    string
	Nick    string
	Me      bool
	Pending bool // the nickname is not known yet: the tag looks it up
}

func (s *Server) who(me, muid string) who {
	if muid == me {
		return who{MUID: muid, Me: true}
	}
	nick, known := s.names.get(muid)
	return who{MUID: muid, Nick: nick, Pending: !known}
}

// shortMUID shortens an address for lists: 1AbCde…WxYz.
func shortMUID(muid string) string {
	if len(muid) <= 12 {
		return muid
	}
	return muid[:6] + "…" + muid[len(muid)-4:]
}

// mailNames remembers the nicknames on mail cards, so lists show names
// without asking the network on every page. A nickname found is kept for
// nameTTL, an address without a card for missTTL. The zero value is ready.
type mailNames struct {
	mu sync.Mutex
	m  map[string]mailName
}

type mailName struct {
	nick string
	at   time.Time
}

const (
	nameTTL = 10 * time.Minute
	missTTL = time.Minute
)

// get returns the nickname of muid ("" for an address without a card) and
// whether it is known.
func (n *mailNames) get(muid string) (string, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	e, ok := n.m[muid]
	if !ok {
		return "", false
	}
	ttl := nameTTL
	if e.nick == "" {
		ttl = missTTL
	}
	if time.Since(e.at) > ttl {
		delete(n.m, muid)
		return "", false
	}
	return e.nick, true
}

func (n *mailNames) put(muid, nick string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.m == nil {
		n.m = map[string]mailName{}
	}
	n.m[muid] = mailName{nick: nick, at: time.Now()}
}

// shortDate is a list's date: the time today, the day this year, the
// full date before.
func shortDate(t, now time.Time) string {
	t, now = t.Local(), now.Local()
	switch {
	case t.Year() == now.Year() && t.YearDay() == now.YearDay():
		return t.Format("15:04")
	case t.Year() == now.Year():
		return t.Format("2 Jan")
	}
	return t.Format("2 Jan 2006")
}

// longDate is a reader's date.
func longDate(t time.Time) string { return t.Local().Format("Mon 2 Jan 2006, 15:04") }

// sortedPeople orders search results by nickname.
func sortedPeople(cards []*mail.Card) []*mail.Card {
	out := slices.Clone(cards)
	slices.SortStableFunc(out, func(a, b *mail.Card) int {
		return cmp.Compare(strings.ToLower(a.Nick), strings.ToLower(b.Nick))
	})
	return out
}
