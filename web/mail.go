package web

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"net/url"
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
)

// mailRoutes registers the Mail section.
func (s *Server) mailRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /mail", s.mailFolder)
	mux.HandleFunc("POST /mail/check", s.mailCheck)
	mux.HandleFunc("GET /mail/new", s.mailCompose)
	mux.HandleFunc("POST /mail/new", s.mailSend)
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
	List(f mail.Folder) ([]*mail.Stored, error)
	Get(f mail.Folder, id mail.MsgID) (*mail.Stored, error)
	Delete(f mail.Folder, id mail.MsgID) error
	MarkRead(ctx context.Context, id mail.MsgID, receipt bool) error
	Send(ctx context.Context, d mail.Draft) (*mail.SendResult, error)
	Receive(ctx context.Context) (*mail.ReceiveReport, error)
	Card(ctx context.Context, muid string) (*mail.CardInfo, error)
	SearchCards(ctx context.Context, query string, limit int) ([]*mail.Card, error)
	// ListFiles lists a drive folder, FindFiles searches the drive by
	// name, File gets one entry.
	ListFiles(parent drive.EntryID) ([]drive.Entry, error)
	FindFiles(query string) []drive.Entry
	File(id drive.EntryID) (drive.Entry, error)
	// Link makes a capability link to a drive file.
	Link(id drive.EntryID) (string, error)
}

// mailOf adapts an open session.
func mailOf(sess *conduit.Session) mailAPI { return sessionMail{sess} }

// sessionMail is mailAPI over a *conduit.Session.
type sessionMail struct{ s *conduit.Session }

func (m sessionMail) MUID() string { return m.s.Mail.MUID() }
func (m sessionMail) List(f mail.Folder) ([]*mail.Stored, error) {
	return m.s.Mail.Mailbox().List(f)
}
func (m sessionMail) Get(f mail.Folder, id mail.MsgID) (*mail.Stored, error) {
	return m.s.Mail.Mailbox().Get(f, id)
}
func (m sessionMail) Delete(f mail.Folder, id mail.MsgID) error {
	return m.s.Mail.Mailbox().Delete(f, id)
}
func (m sessionMail) MarkRead(ctx context.Context, id mail.MsgID, receipt bool) error {
	return m.s.Mail.MarkRead(ctx, id, receipt)
}
func (m sessionMail) Send(ctx context.Context, d mail.Draft) (*mail.SendResult, error) {
	return m.s.Mail.Send(ctx, d)
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

// mailSession returns the open session's mail, or answers the request
// (see sessionOr).
func (s *Server) mailSession(w http.ResponseWriter, r *http.Request) (mailAPI, bool) {
	sv, ok := s.sessionOr(w, r, "Mail", "mail")
	if !ok {
		return nil, false
	}
	return sv.mail, true
}

// mailFolder shows a folder's list: the Inbox, or ?folder=sent.
func (s *Server) mailFolder(w http.ResponseWriter, r *http.Request) {
	m, ok := s.mailSession(w, r)
	if !ok {
		return
	}
	f := mail.Inbox
	if r.URL.Query().Get("folder") == string(mail.Sent) {
		f = mail.Sent
	}
	v, err := s.mailFolderView(m, f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Notice = folderNotice(r.URL.Query())
	p := s.appPage("Mail", "mail")
	p.Wide = true
	s.render(w, r, mailFolderPage(p, v))
}

// folderHref is a folder's list.
func folderHref(f mail.Folder) string {
	if f == mail.Sent {
		return "/mail?folder=sent"
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
	Unread int
	Rows   []mailRow
	Notice string
}

// mailRow is one letter of a folder list.
type mailRow struct {
	ID      string
	Href    string
	Who     who // the sender (Inbox) or recipient (Sent)
	Subject string
	Date    time.Time
	Unread  bool
	Files   int
	State   string // Sent: where it is
	Read    string // Sent: when the read receipt came, if one did
	Problem bool   // Sent: refused
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
	if f == mail.Sent {
		if list, err = m.List(mail.Sent); err != nil {
			return v, err
		}
	}
	for _, st := range list {
		msg := st.Message
		row := mailRow{ID: msg.ID.String(), Href: "/mail/" + string(f) + "/" + msg.ID.String(), Subject: msg.Subject,
			Date: time.UnixMilli(msg.Date), Files: len(msg.Attachments)}
		if f == mail.Inbox {
			row.Who, row.Unread = s.who(v.Me, msg.FromMUID), !st.Read
		} else {
			row.Who = s.who(v.Me, msg.To)
			row.State, row.Problem = deliveryState(st)
			if !st.Receipt.IsZero() {
				row.Read = "read " + shortDate(st.Receipt, time.Now())
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
	}
	for i, a := range msg.Attachments {
		f := mailFile{N: i, Name: "(a link that does not open)", Bad: true}
		if c, err := ftree.ParseLink(a); err == nil {
			f = mailFile{N: i, Name: cmp.Or(c.Name, "(no name)"), Folder: c.Folder}
			if c.Size > 0 {
				f.Size = sizeText(int64(c.Size))
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
	if err == nil && f != mail.Inbox && f != mail.Sent {
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
	to := "/mail?done=deleted"
	if st.Folder == mail.Sent {
		to = "/mail?folder=sent&done=deleted"
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

// mailDraft is the compose form's content.
type mailDraft struct {
	To        string
	Subject   string
	Body      string
	InReplyTo string
	Files     []drive.Entry // attached from the drive
	Recent    []drive.Entry // the drive's newest files, offered to attach
	Links     string        // pasted borg://cap/ links, one per line
	ToStatus  toStatus
	Error     string
}

// mailCompose shows an empty letter, one to ?to=, or a reply to ?reply=.
func (s *Server) mailCompose(w http.ResponseWriter, r *http.Request) {
	m, ok := s.mailSession(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	d := mailDraft{To: strings.TrimSpace(q.Get("to"))}
	if rid := q.Get("reply"); rid != "" {
		id, err := mail.ParseMsgID(rid)
		var st *mail.Stored
		if err == nil {
			st, err = m.Get(mail.Inbox, id)
		}
		if err != nil {
			s.notFound(w, r)
			return
		}
		d = replyDraft(st.Message)
	}
	if d.To != "" {
		d.ToStatus = s.toStatusOf(r.Context(), m, d.To)
	}
	d.Recent = newestFiles(m, maxFilePicks, nil)
	s.render(w, r, mailComposePage(s.appPage("Write", "mail"), d))
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

// mailSend sends the compose form's letter.
func (s *Server) mailSend(w http.ResponseWriter, r *http.Request) {
	m, ok := s.mailSession(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxMailForm)
	if err := r.ParseForm(); err != nil {
		msg := "The form could not be read. Reload the page and try again."
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			msg = conduit.UserMessage(mail.ErrTooLarge)
		}
		s.fragmentError(w, r, http.StatusRequestEntityTooLarge, msg)
		return
	}
	f := r.PostForm
	d := mailDraft{To: strings.TrimSpace(f.Get("to")), Subject: f.Get("subject"), Body: f.Get("body"),
		InReplyTo: f.Get("inreplyto"), Links: f.Get("links")}
	draft, problem := s.draftFrom(m, &d, f["attach"])
	if problem == "" {
		res, err := m.Send(r.Context(), draft)
		if res != nil && (err == nil || res.State == mail.StateQueued || res.State == mail.StateFailed) {
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
	d.Error = problem
	if d.To != "" && mail.CheckMUID(d.To) == nil {
		d.ToStatus = s.toStatusOf(r.Context(), m, d.To)
	}
	d.Recent = newestFiles(m, maxFilePicks, d.Files)
	s.renderStatus(w, r, http.StatusUnprocessableEntity, mailComposePage(s.appPage("Write", "mail"), d))
}

// draftFrom checks the form and turns it into a mail.Draft, or says (in a
// sentence for the person) what is wrong with it. The drive files picked
// are resolved into d.Files (for showing the form again).
func (s *Server) draftFrom(m mailAPI, d *mailDraft, picked []string) (mail.Draft, string) {
	var links []string
	seen := map[drive.EntryID]bool{}
	for _, p := range picked {
		id := drive.EntryID(p)
		if seen[id] {
			continue
		}
		seen[id] = true
		e, err := m.File(id)
		if err != nil || e.Folder {
			return mail.Draft{}, "A file you attached is no longer in your drive. Remove it and try again."
		}
		d.Files = append(d.Files, e)
		link, err := m.Link(id)
		if err != nil {
			return mail.Draft{}, conduit.UserMessage(err)
		}
		links = append(links, link)
	}
	for line := range strings.Lines(d.Links) {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		if err := mail.CheckLink(line); err != nil {
			return mail.Draft{}, "A pasted link is not a BorgHUI file link (borg://cap/…). Check it, one link per line."
		}
		links = append(links, line)
	}
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
	case len(links) > mail.MaxAttachments:
		return out, "Too many attachments: at most " + strconv.Itoa(mail.MaxAttachments) + "."
	}
	if d.InReplyTo != "" {
		id, err := mail.ParseMsgID(d.InReplyTo)
		if err != nil {
			return out, "The letter this answers could not be read. Start the reply again from it."
		}
		out.InReplyTo = id
	}
	return out, ""
}

// newestFiles returns the drive's n newest files, leaving out those in
// skip (already attached).
func newestFiles(m mailAPI, n int, skip []drive.Entry) []drive.Entry {
	var all []drive.Entry
	folders := []drive.EntryID{""}
	for len(folders) > 0 {
		es, err := m.ListFiles(folders[0])
		folders = folders[1:]
		if err != nil {
			continue // the drive is not loaded (yet): nothing to offer
		}
		for _, e := range es {
			switch {
			case e.Folder:
				folders = append(folders, e.ID)
			case !slices.ContainsFunc(skip, func(x drive.Entry) bool { return x.ID == e.ID }):
				all = append(all, e)
			}
		}
	}
	slices.SortFunc(all, func(a, b drive.Entry) int {
		return cmp.Or(b.Modified.Compare(a.Modified), cmp.Compare(a.Path, b.Path))
	})
	return all[:min(n, len(all))]
}

// toStatus says what the To field holds: a card found (Nick), an address
// without a card (Error), or people whose nickname matches (People).
type toStatus struct {
	MUID   string
	Nick   string
	Keys   int // one-time keys left on the card
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
		return toStatus{MUID: to, Nick: info.Card.Nick, Keys: len(info.Left)}
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
