package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/borgios/borghui/cells/ftree"
	"github.com/borgios/borghui/cells/mail"
	"github.com/borgios/borghui/conduit"
	"github.com/borgios/borghui/conduit/drive"
	"github.com/borgios/borghui/conduit/files"
)

// filesAPI is what the Files section uses of a session: the person's drive,
// links to its files, and mail for sharing with an address.
type filesAPI interface {
	List(parent drive.EntryID) ([]drive.Entry, error)
	Get(id drive.EntryID) (drive.Entry, error)
	Search(query string) []drive.Entry
	Mkdir(ctx context.Context, parent drive.EntryID, name string) (drive.Entry, error)
	// Upload stores a file; modTime (0 = unknown) lets an upload cut
	// short resume when the same file is sent again, and already says how
	// many bytes an earlier try had stored.
	Upload(ctx context.Context, parent drive.EntryID, name, mime string, r io.Reader, size, modTime int64, progress func(files.Progress)) (e drive.Entry, already int64, err error)
	Rename(ctx context.Context, id drive.EntryID, name string) error
	Move(ctx context.Context, id, parent drive.EntryID) error
	Delete(ctx context.Context, id drive.EntryID) error
	// Open and OpenLink return the file's manifest and a reader of its
	// bytes (seekable: Range requests), which the caller closes.
	Open(ctx context.Context, id drive.EntryID) (*files.Manifest, io.ReadSeekCloser, error)
	OpenLink(ctx context.Context, link string) (*files.Manifest, io.ReadSeekCloser, error)
	Link(id drive.EntryID) (string, error)
	// Share mails the file's link to the address.
	Share(ctx context.Context, to string, id drive.EntryID) (*mail.SendResult, error)
}

// filesOf adapts an open session.
func filesOf(sess *conduit.Session) filesAPI { return sessionFiles{sess} }

type sessionFiles struct{ s *conduit.Session }

func (f sessionFiles) List(p drive.EntryID) ([]drive.Entry, error) { return f.s.Drive.List(p) }
func (f sessionFiles) Get(id drive.EntryID) (drive.Entry, error)   { return f.s.Drive.Get(id) }
func (f sessionFiles) Search(q string) []drive.Entry               { return f.s.Drive.Search(q) }
func (f sessionFiles) Mkdir(ctx context.Context, p drive.EntryID, name string) (drive.Entry, error) {
	return f.s.Drive.Mkdir(ctx, p, name)
}
func (f sessionFiles) Upload(ctx context.Context, p drive.EntryID, name, mime string, r io.Reader, size, modTime int64, progress func(files.Progress)) (drive.Entry, int64, error) {
	return f.s.Upload(ctx, p, name, mime, r, size, modTime, progress)
}
func (f sessionFiles) Rename(ctx context.Context, id drive.EntryID, name string) error {
	return f.s.Drive.Rename(ctx, id, name)
}
func (f sessionFiles) Move(ctx context.Context, id, p drive.EntryID) error {
	return f.s.Drive.Move(ctx, id, p)
}
func (f sessionFiles) Delete(ctx context.Context, id drive.EntryID) error {
	return f.s.Drive.Delete(ctx, id)
}
func (f sessionFiles) Open(ctx context.Context, id drive.EntryID) (*files.Manifest, io.ReadSeekCloser, error) {
	m, r, err := f.s.Drive.Open(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	r.Prefetch = downloadPrefetch
	return m, r, nil
}
func (f sessionFiles) OpenLink(ctx context.Context, link string) (*files.Manifest, io.ReadSeekCloser, error) {
	m, r, err := f.s.OpenLink(ctx, link)
	if err != nil {
		return nil, nil, err
	}
	r.Prefetch = downloadPrefetch
	return m, r, nil
}
func (f sessionFiles) Link(id drive.EntryID) (string, error) { return f.s.Link(id) }
func (f sessionFiles) Share(ctx context.Context, to string, id drive.EntryID) (*mail.SendResult, error) {
	e, err := f.s.Drive.Get(id)
	if err != nil {
		return nil, err
	}
	link, err := f.s.Link(id)
	if err != nil {
		return nil, err
	}
	return f.s.Mail.Send(ctx, mail.Draft{
		To:          to,
		Subject:     shareSubject(e.Name),
		Body:        "I shared a file with you: " + e.Name + ". Open the attachment to download it.",
		Attachments: []string{link},
	})
}

// shareSubject is the subject of a share mail, within mail.MaxSubject.
func shareSubject(name string) string {
	const suffix = " (shared with you)"
	if len(name)+len(suffix) > mail.MaxSubject {
		name = truncateUTF8(name, mail.MaxSubject-len(suffix)-3) + "..."
	}
	return name + suffix
}

func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8Start(s[n]) {
		n--
	}
	return s[:n]
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// formUnreadable tells the person a form did not arrive whole.
const formUnreadable = "The form could not be read. Reload the page and try again."

// downloadPrefetch is how many chunks a download reads ahead.
const downloadPrefetch = 4

// maxUpload bounds one uploaded file (the drive's and the shard cells'
// limits are far above what a stick session moves; this stops a runaway).
const maxUpload = 64 << 30

// maxTextPreview is how much of a text file the preview shows.
const maxTextPreview = 256 << 10

var (
	entryIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)
	tidPattern     = regexp.MustCompile(`^[0-9a-f]{16,64}$`)
)

// entryID parses an entry ID from a URL or form: "" (the top folder) or 32
// lower-case hex characters.
func entryID(s string) (drive.EntryID, bool) {
	if s == "" || entryIDPattern.MatchString(s) {
		return drive.EntryID(s), true
	}
	return "", false
}

// links are the borg://cap links opened in this run (shared with the
// person, or mail attachments), by a random handle, so their keys never
// sit in a URL or the browser's history. Kept in memory only.
type links struct {
	mu sync.Mutex
	m  map[string]openedLink
}

type openedLink struct {
	Link   string
	Name   string
	Size   uint64
	Opened time.Time
}

func (l *links) add(link string) (string, openedLink, error) {
	c, err := ftree.ParseLink(link)
	if err != nil {
		return "", openedLink{}, err
	}
	defer c.Wipe()
	if c.Folder {
		return "", openedLink{}, drive.ErrIsFolder
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[string]openedLink{}
	}
	for h, o := range l.m {
		if o.Link == link {
			return h, o, nil
		}
	}
	h := randomToken()[:32]
	o := openedLink{Link: link, Name: c.Name, Size: c.Size, Opened: time.Now()}
	l.m[h] = o
	return h, o, nil
}

func (l *links) get(h string) (openedLink, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	o, ok := l.m[h]
	return o, ok
}

func (l *links) list() map[string]openedLink {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]openedLink, len(l.m))
	for h, o := range l.m {
		out[h] = o
	}
	return out
}

// filesRoutes registers the Files section.
func (s *Server) filesRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /files", s.filesPage)
	mux.HandleFunc("GET /files/list", s.filesList)
	mux.HandleFunc("GET /files/search", s.filesSearch)
	mux.HandleFunc("POST /files/upload", s.filesUpload)
	mux.HandleFunc("POST /files/mkdir", s.filesMkdir)
	mux.HandleFunc("GET /files/entry/{id}", s.filesEntry)
	mux.HandleFunc("GET /files/content/{id}", s.filesContent)
	mux.HandleFunc("POST /files/rename/{id}", s.filesRename)
	mux.HandleFunc("POST /files/move/{id}", s.filesMove)
	mux.HandleFunc("GET /files/delete/{id}", s.filesDeleteConfirm)
	mux.HandleFunc("POST /files/delete/{id}", s.filesDelete)
	mux.HandleFunc("POST /files/share/{id}", s.filesShare)
	mux.HandleFunc("POST /files/link/{id}", s.filesLink)
	mux.HandleFunc("POST /files/links", s.filesOpenLink)
	mux.HandleFunc("GET /files/shared/{h}", s.filesShared)
	mux.HandleFunc("GET /files/shared/{h}/content", s.filesSharedContent)
}

// folderView is a folder as the page shows it.
type folderView struct {
	Folder  drive.Entry   // the folder shown ("" = top, Path "/")
	Trail   []drive.Entry // the folders from the top down to Folder's parent
	Entries []drive.Entry
}

func (s *Server) folderView(fa filesAPI, id drive.EntryID) (folderView, error) {
	f, err := fa.Get(id)
	if err != nil {
		return folderView{}, err
	}
	if !f.Folder {
		return folderView{}, drive.ErrNotFolder
	}
	v := folderView{Folder: f}
	for p, depth := f.Parent, 0; f.ID != "" && depth < 256; depth++ {
		e, err := fa.Get(p)
		if err != nil {
			break
		}
		v.Trail = append([]drive.Entry{e}, v.Trail...)
		if p == "" {
			break
		}
		p = e.Parent
	}
	v.Entries, err = fa.List(id)
	return v, err
}

func (s *Server) filesPage(w http.ResponseWriter, r *http.Request) {
	sv, ok := s.sessionOr(w, r, "Files", "files")
	if !ok {
		return
	}
	id, ok := entryID(r.URL.Query().Get("folder"))
	if !ok {
		s.notFound(w, r)
		return
	}
	v, err := s.folderView(sv.files, id)
	if err != nil {
		s.entryFailed(w, r, err)
		return
	}
	p := s.appPage("Files", "files")
	p.Wide = true
	s.render(w, r, filesPage(p, v, s.links.list()))
}

func (s *Server) filesList(w http.ResponseWriter, r *http.Request) {
	sv, ok := s.sessionOr(w, r, "Files", "files")
	if !ok {
		return
	}
	id, ok := entryID(r.URL.Query().Get("folder"))
	if !ok {
		s.notFound(w, r)
		return
	}
	v, err := s.folderView(sv.files, id)
	if err != nil {
		s.entryFailed(w, r, err)
		return
	}
	s.render(w, r, fileList(v.Folder.ID, v.Entries, false))
}

func (s *Server) filesSearch(w http.ResponseWriter, r *http.Request) {
	sv, ok := s.sessionOr(w, r, "Files", "files")
	if !ok {
		return
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if q == "" {
		s.filesList(w, r)
		return
	}
	s.render(w, r, fileList("", sv.files.Search(q), true))
}

// filesUpload stores the request body as a file: POST
// /files/upload?folder=ID&name=NAME&tid=TRANSFER&mtime=MS with the file's
// bytes as the body (its Content-Length is the size, its Content-Type the
// type, mtime its modification time in Unix milliseconds, optional).
// Progress goes to the open tabs as "transfer" events named tid. The body
// streams straight to the network: nothing is written to this computer
// but the upload's journal on the stick, with which the same file sent
// again after an interruption continues where it stopped.
func (s *Server) filesUpload(w http.ResponseWriter, r *http.Request) {
	sv, ok := s.sessionOr(w, r, "Files", "files")
	if !ok {
		return
	}
	q := r.URL.Query()
	parent, ok := entryID(q.Get("folder"))
	tid := q.Get("tid")
	name := strings.TrimSpace(q.Get("name"))
	if !ok || !tidPattern.MatchString(tid) || name == "" {
		http.Error(w, "The upload was not understood. Reload the page and try again.", http.StatusBadRequest)
		return
	}
	if r.ContentLength < 0 {
		http.Error(w, "The browser did not say how large the file is. Try again with another browser.", http.StatusLengthRequired)
		return
	}
	if r.ContentLength > maxUpload {
		http.Error(w, "That file is too large to upload in one go (over 64 GiB).", http.StatusRequestEntityTooLarge)
		return
	}
	modTime, err := strconv.ParseInt(q.Get("mtime"), 10, 64)
	if err != nil || modTime < 0 {
		modTime = 0 // unknown: the upload cannot resume
	}
	mt := ""
	if t, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil && t != "application/octet-stream" {
		mt = t
	}
	// The network may take longer than the server's read timeout: this
	// request lives as long as the upload does.
	_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
	body := http.MaxBytesReader(w, r.Body, r.ContentLength)
	ev := s.opts.Conduit.Events()
	ev.Publish(conduit.Event{Type: "transfer", ID: tid, Name: name, State: "uploading", Total: r.ContentLength, ETA: -1})
	e, already, err := sv.files.Upload(r.Context(), parent, name, mt, body, r.ContentLength, modTime, func(p files.Progress) {
		ev.Publish(conduit.Event{Type: "transfer", ID: tid, Name: name, State: "uploading",
			Done: p.Done, Total: p.Total, Rate: p.Rate, ETA: etaSeconds(p.ETA)})
	})
	if err != nil {
		s.log.Warn("upload failed", "err", err)
		msg := conduit.UserMessage(err)
		ev.Publish(conduit.Event{Type: "transfer", ID: tid, Name: name, State: "failed", Text: msg})
		status := http.StatusBadGateway
		if errors.Is(err, drive.ErrExists) || errors.Is(err, drive.ErrBadName) || errors.Is(err, drive.ErrNotFound) {
			status = http.StatusUnprocessableEntity
		}
		http.Error(w, msg, status)
		return
	}
	ev.Publish(conduit.Event{Type: "transfer", ID: tid, Name: name, State: "done", Done: e.Size, Total: e.Size})
	ev.Publish(conduit.Event{Type: "files"})
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusCreated)
	if already > 0 {
		fmt.Fprintf(w, "Stored %s, continuing an earlier upload that had stored %s.", e.Name, conduit.SizeText(already))
		return
	}
	fmt.Fprintf(w, "Stored %s.", e.Name)
}

func etaSeconds(d time.Duration) float64 {
	if d < 0 {
		return -1
	}
	return d.Seconds()
}

func (s *Server) filesMkdir(w http.ResponseWriter, r *http.Request) {
	sv, ok := s.sessionOr(w, r, "Files", "files")
	if !ok {
		return
	}
	f, err := smallForm(w, r)
	if err != nil {
		s.fragmentError(w, r, http.StatusBadRequest, formUnreadable)
		return
	}
	parent, ok := entryID(f.Get("folder"))
	if !ok {
		s.notFound(w, r)
		return
	}
	if _, err := sv.files.Mkdir(r.Context(), parent, strings.TrimSpace(f.Get("name"))); err != nil {
		s.opFailed(w, r, err)
		return
	}
	s.opts.Conduit.Events().Publish(conduit.Event{Type: "files"})
	s.backToFolder(w, r, parent)
}

// backToFolder shows folder again after a change.
func (s *Server) backToFolder(w http.ResponseWriter, r *http.Request, folder drive.EntryID) {
	goTo(w, r, folderURL(folder))
}

// pathEntry reads the {id} of the URL as an existing entry of the drive.
func (s *Server) pathEntry(w http.ResponseWriter, r *http.Request, sv *services) (drive.Entry, bool) {
	id, ok := entryID(r.PathValue("id"))
	if !ok || id == "" {
		s.notFound(w, r)
		return drive.Entry{}, false
	}
	e, err := sv.files.Get(id)
	if err != nil {
		s.entryFailed(w, r, err)
		return drive.Entry{}, false
	}
	return e, true
}

// entryFailed answers a request about an entry that could not be read.
func (s *Server) entryFailed(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, drive.ErrNotFound) || errors.Is(err, drive.ErrNotFolder) {
		s.renderStatus(w, r, http.StatusNotFound, messagePage(s.appPage("Not found", "files"), "Not found",
			"That file or folder is not in your files (any more).", "/files", "Back to your files"))
		return
	}
	s.opFailed(w, r, err)
}

// allFolders lists every folder but the subtree of skip (where an entry
// may move), top first, depth-first by name.
func allFolders(fa filesAPI, skip drive.EntryID) []drive.Entry {
	top, err := fa.Get("")
	if err != nil {
		return nil
	}
	out := []drive.Entry{top}
	var walk func(id drive.EntryID)
	walk = func(id drive.EntryID) {
		es, err := fa.List(id)
		if err != nil {
			return
		}
		for _, e := range es {
			if e.Folder && e.ID != skip {
				out = append(out, e)
				walk(e.ID)
			}
		}
	}
	walk("")
	return out
}

func (s *Server) filesEntry(w http.ResponseWriter, r *http.Request) {
	sv, ok := s.sessionOr(w, r, "Files", "files")
	if !ok {
		return
	}
	e, ok := s.pathEntry(w, r, sv)
	if !ok {
		return
	}
	if e.Folder {
		http.Redirect(w, r, "/files?folder="+string(e.ID), http.StatusSeeOther)
		return
	}
	v := entryView{Entry: e, Kind: previewKind(e.MIME, e.Name), Folders: allFolders(sv.files, e.ID)}
	if v.Kind == "text" {
		v.Text, v.TextCut = s.textPreview(r.Context(), sv.files, e.ID)
	}
	s.render(w, r, entryPage(s.appPage(e.Name, "files"), v, r.URL.Query().Get("done")))
}

// entryView is one file's page.
type entryView struct {
	Entry   drive.Entry
	Kind    string // image, video, audio, pdf, text or "" (no preview)
	Text    string
	TextCut bool
	Folders []drive.Entry
	Link    string
	Notice  string
}

// textPreview reads the start of a text file for the preview.
func (s *Server) textPreview(ctx context.Context, fa filesAPI, id drive.EntryID) (string, bool) {
	_, rd, err := fa.Open(ctx, id)
	if err != nil {
		return "", false
	}
	defer rd.Close()
	b, err := io.ReadAll(io.LimitReader(rd, maxTextPreview+1))
	if err != nil {
		return "", false
	}
	cut := len(b) > maxTextPreview
	if cut {
		b = b[:maxTextPreview]
	}
	return strings.ToValidUTF8(string(b), "\uFFFD"), cut
}

// previewKind says how the browser may show a file inline: only types
// that cannot run script in our origin (no HTML, no SVG).
func previewKind(mimeType, name string) string {
	t := strings.ToLower(mimeType)
	if t == "" {
		t = mime.TypeByExtension(strings.ToLower(extOf(name)))
		t, _, _ = mime.ParseMediaType(t)
	}
	switch {
	case t == "image/png", t == "image/jpeg", t == "image/gif", t == "image/webp", t == "image/avif", t == "image/bmp":
		return "image"
	case strings.HasPrefix(t, "video/"):
		return "video"
	case strings.HasPrefix(t, "audio/"):
		return "audio"
	case t == "application/pdf":
		return "pdf"
	case strings.HasPrefix(t, "text/"), t == "application/json":
		return "text"
	}
	return ""
}

func extOf(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[i:]
	}
	return ""
}

// inlineType is the Content-Type a preview is served with: text of any
// kind as text/plain (an HTML file shows as its source, never runs).
func inlineType(kind, mimeType, name string) string {
	switch kind {
	case "text":
		return "text/plain; charset=utf-8"
	case "":
		return "application/octet-stream"
	}
	if mimeType == "" {
		mimeType = mime.TypeByExtension(strings.ToLower(extOf(name)))
	}
	return mimeType
}

func (s *Server) filesContent(w http.ResponseWriter, r *http.Request) {
	sv, ok := s.sessionOr(w, r, "Files", "files")
	if !ok {
		return
	}
	e, ok := s.pathEntry(w, r, sv)
	if !ok {
		return
	}
	if e.Folder {
		s.notFound(w, r)
		return
	}
	m, rd, err := sv.files.Open(r.Context(), e.ID)
	if err != nil {
		s.opFailed(w, r, err)
		return
	}
	defer rd.Close()
	s.serveFile(w, r, e.Name, e.MIME, m.Created, rd)
}

// serveFile answers with a file's bytes: Range requests (video, audio,
// resumed downloads) through http.ServeContent, as an attachment unless
// ?inline=1 asks for a preview of a type that is safe to show.
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, name, mimeType string, mod time.Time, rd io.ReadSeeker) {
	kind := previewKind(mimeType, name)
	h := w.Header()
	disp := "attachment"
	if r.URL.Query().Get("inline") == "1" && kind != "" {
		disp = "inline"
		h.Set("Content-Type", inlineType(kind, mimeType, name))
	} else {
		h.Set("Content-Type", "application/octet-stream")
	}
	h.Set("Content-Disposition", mime.FormatMediaType(disp, map[string]string{"filename": name}))
	// The bytes are the person's, not ours: they may show, never run.
	h.Set("Content-Security-Policy", "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; object-src 'self'; sandbox")
	if kind == "pdf" && disp == "inline" {
		// Chromium's PDF viewer does not run in a sandboxed document.
		h.Set("Content-Security-Policy", "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; object-src 'self'")
	}
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	er := &errReader{r: rd}
	http.ServeContent(w, r, "", mod, er)
	if er.err != nil && r.Context().Err() == nil {
		// The status line is gone by now: the browser sees a cut download.
		s.log.Warn("serving a file failed midway", "name", name, "err", er.err)
	}
}

// errReader remembers the first read error other than EOF
// (http.ServeContent drops it).
type errReader struct {
	r   io.ReadSeeker
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}

func (e *errReader) Seek(off int64, whence int) (int64, error) { return e.r.Seek(off, whence) }

func (s *Server) filesRename(w http.ResponseWriter, r *http.Request) {
	sv, ok := s.sessionOr(w, r, "Files", "files")
	if !ok {
		return
	}
	e, ok := s.pathEntry(w, r, sv)
	if !ok {
		return
	}
	f, err := smallForm(w, r)
	if err != nil {
		s.fragmentError(w, r, http.StatusBadRequest, formUnreadable)
		return
	}
	if err := sv.files.Rename(r.Context(), e.ID, strings.TrimSpace(f.Get("name"))); err != nil {
		s.opFailed(w, r, err)
		return
	}
	s.opts.Conduit.Events().Publish(conduit.Event{Type: "files"})
	s.afterEntryChange(w, r, e, "renamed")
}

// afterEntryChange shows the entry again (files) or its folder (folders).
func (s *Server) afterEntryChange(w http.ResponseWriter, r *http.Request, e drive.Entry, done string) {
	if e.Folder {
		s.backToFolder(w, r, e.Parent)
		return
	}
	goTo(w, r, "/files/entry/"+string(e.ID)+"?done="+done)
}

func (s *Server) filesMove(w http.ResponseWriter, r *http.Request) {
	sv, ok := s.sessionOr(w, r, "Files", "files")
	if !ok {
		return
	}
	e, ok := s.pathEntry(w, r, sv)
	if !ok {
		return
	}
	f, err := smallForm(w, r)
	if err != nil {
		s.fragmentError(w, r, http.StatusBadRequest, formUnreadable)
		return
	}
	to, ok := entryID(f.Get("to"))
	if !ok {
		s.fragmentError(w, r, http.StatusBadRequest, "Choose a folder from the list.")
		return
	}
	if err := sv.files.Move(r.Context(), e.ID, to); err != nil {
		s.opFailed(w, r, err)
		return
	}
	s.opts.Conduit.Events().Publish(conduit.Event{Type: "files"})
	s.afterEntryChange(w, r, e, "moved")
}

func (s *Server) filesDeleteConfirm(w http.ResponseWriter, r *http.Request) {
	sv, ok := s.sessionOr(w, r, "Files", "files")
	if !ok {
		return
	}
	e, ok := s.pathEntry(w, r, sv)
	if !ok {
		return
	}
	n := 0
	if e.Folder {
		n = countBelow(sv.files, e.ID)
	}
	s.render(w, r, deletePage(s.appPage("Delete "+e.Name, "files"), e, n))
}

// countBelow counts the entries inside a folder, all levels down.
func countBelow(fa filesAPI, id drive.EntryID) int {
	es, err := fa.List(id)
	if err != nil {
		return 0
	}
	n := len(es)
	for _, e := range es {
		if e.Folder {
			n += countBelow(fa, e.ID)
		}
	}
	return n
}

func (s *Server) filesDelete(w http.ResponseWriter, r *http.Request) {
	sv, ok := s.sessionOr(w, r, "Files", "files")
	if !ok {
		return
	}
	e, ok := s.pathEntry(w, r, sv)
	if !ok {
		return
	}
	if err := sv.files.Delete(r.Context(), e.ID); err != nil && !errors.Is(err, drive.ErrNotFound) {
		// The entry is gone from the tree even when releasing its shards
		// failed (they are collected later); say so only if it is still there.
		if _, gerr := sv.files.Get(e.ID); gerr == nil {
			s.opFailed(w, r, err)
			return
		}
		s.log.Warn("deleted, but not every shard was released", "err", err)
	}
	s.opts.Conduit.Events().Publish(conduit.Event{Type: "files"})
	s.backToFolder(w, r, e.Parent)
}

func (s *Server) filesShare(w http.ResponseWriter, r *http.Request) {
	sv, ok := s.sessionOr(w, r, "Files", "files")
	if !ok {
		return
	}
	e, ok := s.pathEntry(w, r, sv)
	if !ok {
		return
	}
	f, err := smallForm(w, r)
	if err != nil {
		s.fragmentError(w, r, http.StatusBadRequest, formUnreadable)
		return
	}
	to := strings.TrimSpace(f.Get("to"))
	if mail.CheckMUID(to) != nil {
		s.fragmentError(w, r, http.StatusUnprocessableEntity, "That is not a BorgIOS address (MUID). Paste the address the person gave you.")
		return
	}
	res, err := sv.files.Share(r.Context(), to, e.ID)
	if err != nil {
		s.opFailed(w, r, err)
		return
	}
	s.opts.Conduit.Events().Publish(conduit.Event{Type: "mail", State: "sent"})
	s.render(w, r, shareResult(to, res))
}

func (s *Server) filesLink(w http.ResponseWriter, r *http.Request) {
	sv, ok := s.sessionOr(w, r, "Files", "files")
	if !ok {
		return
	}
	e, ok := s.pathEntry(w, r, sv)
	if !ok {
		return
	}
	link, err := sv.files.Link(e.ID)
	if err != nil {
		s.opFailed(w, r, err)
		return
	}
	s.render(w, r, linkResult(link))
}

// filesOpenLink opens a borg://cap link (pasted, or a mail attachment):
// it is kept in memory under a random handle and the browser goes to its
// page, so the key never appears in a URL.
func (s *Server) filesOpenLink(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.sessionOr(w, r, "Files", "files"); !ok {
		return
	}
	f, err := smallForm(w, r)
	if err != nil {
		s.fragmentError(w, r, http.StatusBadRequest, formUnreadable)
		return
	}
	h, _, err := s.links.add(strings.TrimSpace(f.Get("link")))
	if err != nil {
		s.fragmentError(w, r, http.StatusUnprocessableEntity, "That is not a BorgHUI file link. A link starts with borg://cap/; copy all of it.")
		return
	}
	http.Redirect(w, r, "/files/shared/"+h, http.StatusSeeOther)
}

func (s *Server) sharedLink(w http.ResponseWriter, r *http.Request) (openedLink, bool) {
	o, ok := s.links.get(r.PathValue("h"))
	if !ok {
		s.renderStatus(w, r, http.StatusNotFound, messagePage(s.appPage("Not found", "files"), "Link not open",
			"Links you open are kept only while BorgHUI runs. Open the link again from the mail or paste it in Files.", "/files", "Back to your files"))
	}
	return o, ok
}

func (s *Server) filesShared(w http.ResponseWriter, r *http.Request) {
	sv, ok := s.sessionOr(w, r, "Files", "files")
	if !ok {
		return
	}
	o, ok := s.sharedLink(w, r)
	if !ok {
		return
	}
	m, rd, err := sv.files.OpenLink(r.Context(), o.Link)
	if err != nil {
		s.opFailed(w, r, err)
		return
	}
	rd.Close()
	s.render(w, r, sharedPage(s.appPage(m.Name, "files"), r.PathValue("h"), m, previewKind(m.MIME, m.Name)))
}

func (s *Server) filesSharedContent(w http.ResponseWriter, r *http.Request) {
	sv, ok := s.sessionOr(w, r, "Files", "files")
	if !ok {
		return
	}
	o, ok := s.sharedLink(w, r)
	if !ok {
		return
	}
	m, rd, err := sv.files.OpenLink(r.Context(), o.Link)
	if err != nil {
		s.opFailed(w, r, err)
		return
	}
	defer rd.Close()
	s.serveFile(w, r, m.Name, m.MIME, m.Created, rd)
}

// folderURL is the page of a folder.
func folderURL(id drive.EntryID) string {
	if id == "" {
		return "/files"
	}
	return "/files?folder=" + url.QueryEscape(string(id))
}

// folderName is how a folder is called on the page.
func folderName(e drive.Entry) string {
	if e.ID == "" {
		return "My files"
	}
	return e.Name
}

// displayName is a file name, or a stand-in when a link carries none.
func displayName(name string) string {
	if name == "" {
		return "Unnamed file"
	}
	return name
}

// typeText names a media type for people.
func typeText(mimeType string) string {
	if mimeType == "" {
		return "file"
	}
	return mimeType
}
