package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
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
	"github.com/borgios/borghui/conduit/files"
)

// fakeDrive is an in-memory filesAPI.
type fakeDrive struct {
	mu      sync.Mutex
	entries map[drive.EntryID]drive.Entry
	data    map[drive.EntryID][]byte
	shared  []string // "to id"
	failNet error    // returned by every network call when set
	modTime int64    // of the last upload
	already int64    // what Upload says an earlier try had stored
}

func newFakeDrive() *fakeDrive {
	return &fakeDrive{entries: map[drive.EntryID]drive.Entry{}, data: map[drive.EntryID][]byte{}}
}

func newID() drive.EntryID {
	var b [16]byte
	rand.Read(b[:])
	return drive.EntryID(hex.EncodeToString(b[:]))
}

func (d *fakeDrive) path(e drive.Entry) string {
	if e.ID == "" {
		return "/"
	}
	p := "/" + e.Name
	for par := e.Parent; par != ""; {
		pe := d.entries[par]
		p = "/" + pe.Name + p
		par = pe.Parent
	}
	return p
}

func (d *fakeDrive) List(parent drive.EntryID) ([]drive.Entry, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.entries[parent]; parent != "" && !ok {
		return nil, drive.ErrNotFound
	}
	var out []drive.Entry
	for _, e := range d.entries {
		if e.Parent == parent {
			e.Path = d.path(e)
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b drive.Entry) int {
		if a.Folder != b.Folder {
			if a.Folder {
				return -1
			}
			return 1
		}
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	return out, nil
}

func (d *fakeDrive) Get(id drive.EntryID) (drive.Entry, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if id == "" {
		return drive.Entry{Folder: true, Path: "/"}, nil
	}
	e, ok := d.entries[id]
	if !ok {
		return drive.Entry{}, drive.ErrNotFound
	}
	e.Path = d.path(e)
	return e, nil
}

func (d *fakeDrive) Search(q string) []drive.Entry {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []drive.Entry
	for _, e := range d.entries {
		if strings.Contains(strings.ToLower(e.Name), strings.ToLower(q)) {
			e.Path = d.path(e)
			out = append(out, e)
		}
	}
	return out
}

func (d *fakeDrive) add(parent drive.EntryID, name string, folder bool, data []byte, mime string) (drive.Entry, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.failNet != nil {
		return drive.Entry{}, d.failNet
	}
	if name == "" || strings.Contains(name, "/") {
		return drive.Entry{}, fmt.Errorf("fake: %w", drive.ErrBadName)
	}
	for _, e := range d.entries {
		if e.Parent == parent && e.Name == name {
			return drive.Entry{}, fmt.Errorf("fake: %w", drive.ErrExists)
		}
	}
	e := drive.Entry{ID: newID(), Parent: parent, Name: name, Folder: folder, Size: int64(len(data)), MIME: mime, Modified: time.Now()}
	d.entries[e.ID] = e
	if !folder {
		d.data[e.ID] = data
	}
	return e, nil
}

func (d *fakeDrive) Mkdir(_ context.Context, parent drive.EntryID, name string) (drive.Entry, error) {
	return d.add(parent, name, true, nil, "")
}

func (d *fakeDrive) Upload(_ context.Context, parent drive.EntryID, name, mime string, r io.Reader, size, modTime int64, progress func(files.Progress)) (drive.Entry, int64, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return drive.Entry{}, 0, err
	}
	if int64(len(data)) != size {
		return drive.Entry{}, 0, fmt.Errorf("fake: got %d bytes, want %d", len(data), size)
	}
	d.modTime = modTime
	progress(files.Progress{Done: size / 2, Total: size, Rate: 1e6, ETA: time.Second})
	e, err := d.add(parent, name, false, data, mime)
	return e, d.already, err
}

func (d *fakeDrive) Rename(_ context.Context, id drive.EntryID, name string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	e, ok := d.entries[id]
	if !ok {
		return drive.ErrNotFound
	}
	if name == "" {
		return drive.ErrBadName
	}
	e.Name = name
	d.entries[id] = e
	return nil
}

func (d *fakeDrive) Move(_ context.Context, id, parent drive.EntryID) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	e, ok := d.entries[id]
	if !ok {
		return drive.ErrNotFound
	}
	e.Parent = parent
	d.entries[id] = e
	return nil
}

func (d *fakeDrive) Delete(_ context.Context, id drive.EntryID) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.entries[id]; !ok {
		return drive.ErrNotFound
	}
	var del func(id drive.EntryID)
	del = func(id drive.EntryID) {
		for cid, c := range d.entries {
			if c.Parent == id {
				del(cid)
			}
		}
		delete(d.entries, id)
		delete(d.data, id)
	}
	del(id)
	return nil
}

type nopCloser struct{ io.ReadSeeker }

func (nopCloser) Close() error { return nil }

func (d *fakeDrive) Open(_ context.Context, id drive.EntryID) (*files.Manifest, io.ReadSeekCloser, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.failNet != nil {
		return nil, nil, d.failNet
	}
	e, ok := d.entries[id]
	if !ok || e.Folder {
		return nil, nil, drive.ErrNotFound
	}
	m := &files.Manifest{Name: e.Name, MIME: e.MIME, Size: e.Size, Created: e.Modified}
	return m, nopCloser{bytes.NewReader(d.data[id])}, nil
}

// Links of the fake are "borg://cap/" links whose manifest hash is the
// entry ID padded; OpenLink finds the entry back by name.
func (d *fakeDrive) Link(id drive.EntryID) (string, error) {
	e, err := d.Get(id)
	if err != nil {
		return "", err
	}
	var h ftree.Hash
	copy(h[:], e.ID)
	return ftree.EncodeLink(&ftree.Capability{Manifest: h, Key: make([]byte, 32), Size: uint64(e.Size), Name: e.Name})
}

func (d *fakeDrive) OpenLink(ctx context.Context, link string) (*files.Manifest, io.ReadSeekCloser, error) {
	c, err := ftree.ParseLink(link)
	if err != nil {
		return nil, nil, err
	}
	return d.Open(ctx, drive.EntryID(bytes.TrimRight(c.Manifest[:], "\x00")))
}

func (d *fakeDrive) Share(_ context.Context, to string, id drive.EntryID) (*mail.SendResult, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.shared = append(d.shared, to+" "+string(id))
	return &mail.SendResult{State: mail.StateDelivered, ForwardSecret: false}, nil
}

// hostile is a name, subject or body that would run script if it were
// rendered as HTML.
const hostile = `<script>alert(1)</script><img src=x onerror=alert(2)>"'&`

// hostileName is hostile for a file name (which cannot hold "/").
const hostileName = `<img src=x onerror=alert(2)><b onmouseover=alert(3)>"'&`

func upload(t *testing.T, s *Server, cookie *http.Cookie, folder drive.EntryID, name, mime string, body []byte) *http.Response {
	t.Helper()
	q := url.Values{"folder": {string(folder)}, "name": {name}, "tid": {"0123456789abcdef0123456789abcdef"}}
	req, _ := http.NewRequest("POST", s.BaseURL()+"/files/upload?"+q.Encode(), bytes.NewReader(body))
	req.Header.Set("Content-Type", mime)
	req.Header.Set("Origin", s.BaseURL())
	req.AddCookie(cookie)
	return do(t, req)
}

// TestFilesUploadPassesModTime: the browser's lastModified reaches the
// drive (it keys the journal that lets an upload resume), a bad one counts
// as unknown, and a resumed upload says so.
func TestFilesUploadPassesModTime(t *testing.T) {
	fd := newFakeDrive()
	s, cookie := appServer(t, &services{files: fd})
	for i, tc := range []struct {
		mtime   string
		want    int64
		already int64
		says    string
	}{
		{"1763700000123", 1763700000123, 0, "Stored f0.bin."},
		{"", 0, 0, "Stored f1.bin."},
		{"-5", 0, 0, "Stored f2.bin."},
		{"soon", 0, 0, "Stored f3.bin."},
		{"1763700000123", 1763700000123, 3 << 20, "continuing an earlier upload that had stored 3.1 MB"},
	} {
		fd.already = tc.already
		name := fmt.Sprintf("f%d.bin", i)
		q := url.Values{"folder": {""}, "name": {name}, "tid": {"0123456789abcdef0123456789abcdef"}, "mtime": {tc.mtime}}
		req, _ := http.NewRequest("POST", s.BaseURL()+"/files/upload?"+q.Encode(), strings.NewReader("data"))
		req.Header.Set("Origin", s.BaseURL())
		req.AddCookie(cookie)
		resp := do(t, req)
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusCreated || fd.modTime != tc.want || !strings.Contains(string(b), tc.says) {
			t.Errorf("mtime %q: %d %q, modTime %d; want 201, %d, %q", tc.mtime, resp.StatusCode, b, fd.modTime, tc.want, tc.says)
		}
	}
}

func TestFilesUploadListDownload(t *testing.T) {
	fd := newFakeDrive()
	s, cookie := appServer(t, &services{files: fd})
	events, cancel := s.opts.Conduit.Events().Subscribe()
	defer cancel()

	resp := upload(t, s, cookie, "", "notes.txt", "text/plain", []byte("hello\nworld"))
	if resp.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("upload: %d %s", resp.StatusCode, b)
	}
	var states []string
	for len(states) < 3 {
		select {
		case ev := <-events:
			if ev.Type == "transfer" {
				states = append(states, ev.State)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("transfer events: %v", states)
		}
	}
	if !slices.Equal(states, []string{"uploading", "uploading", "done"}) {
		t.Fatalf("transfer events %v, want uploading, uploading (progress), done", states)
	}
	code, body := get(t, s, cookie, "/files")
	if code != 200 || !strings.Contains(body, "notes.txt") || !strings.Contains(body, "11 B") {
		t.Fatalf("files page: %d\n%s", code, body)
	}
	id := fd.Search("notes")[0].ID
	code, body = get(t, s, cookie, "/files/entry/"+string(id))
	if code != 200 || !strings.Contains(body, `id="text-preview"`) || !strings.Contains(body, "hello\nworld") {
		t.Fatalf("entry page: %d\n%s", code, body)
	}

	// Download: attachment, Range works, the bytes are served sandboxed.
	req, _ := http.NewRequest("GET", s.BaseURL()+"/files/content/"+string(id), nil)
	req.AddCookie(cookie)
	req.Header.Set("Range", "bytes=6-")
	resp = do(t, req)
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusPartialContent || string(got) != "world" {
		t.Fatalf("range download: %d %q", resp.StatusCode, got)
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") {
		t.Fatalf("Content-Disposition %q", cd)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "sandbox") {
		t.Fatalf("content CSP %q lacks sandbox", csp)
	}
}

// An HTML or SVG file is never served as a document of our origin: as a
// download, or inline as plain text.
func TestFilesServeHostileTypesSafely(t *testing.T) {
	fd := newFakeDrive()
	s, cookie := appServer(t, &services{files: fd})
	html, _ := fd.add("", "page.html", false, []byte(hostile), "text/html")
	svg, _ := fd.add("", "pic.svg", false, []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), "image/svg+xml")
	png, _ := fd.add("", "pic.png", false, []byte("\x89PNG"), "image/png")
	for _, tc := range []struct {
		id       drive.EntryID
		wantType string
		wantDisp string
	}{
		{html.ID, "text/plain; charset=utf-8", "inline"},
		{svg.ID, "application/octet-stream", "attachment"},
		{png.ID, "image/png", "inline"},
	} {
		req, _ := http.NewRequest("GET", s.BaseURL()+"/files/content/"+string(tc.id)+"?inline=1", nil)
		req.AddCookie(cookie)
		resp := do(t, req)
		if ct := resp.Header.Get("Content-Type"); ct != tc.wantType {
			t.Errorf("%s: Content-Type %q, want %q", tc.id, ct, tc.wantType)
		}
		if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, tc.wantDisp) {
			t.Errorf("%s: Content-Disposition %q, want %s", tc.id, cd, tc.wantDisp)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", tc.id)
		}
	}
}

func TestFilesNamesAreText(t *testing.T) {
	fd := newFakeDrive()
	s, cookie := appServer(t, &services{files: fd})
	dir, err := fd.add("", hostileName+" folder", true, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	f, err := fd.add(dir.ID, hostileName+".txt", false, []byte(hostile), "text/plain")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/files", "/files?folder=" + string(dir.ID), "/files/entry/" + string(f.ID),
		"/files/search?q=onerror", "/files/delete/" + string(f.ID)} {
		code, body := get(t, s, cookie, path)
		if code != 200 {
			t.Fatalf("GET %s: %d", path, code)
		}
		if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") || strings.Contains(body, "<b onmouseover") {
			t.Fatalf("GET %s renders a hostile name as HTML:\n%s", path, body)
		}
		if !strings.Contains(body, "&lt;img src=x onerror=alert(2)&gt;&lt;b onmouseover=alert(3)&gt;") {
			t.Fatalf("GET %s does not show the hostile name as text:\n%s", path, body)
		}
	}
}

func TestFilesChanges(t *testing.T) {
	fd := newFakeDrive()
	s, cookie := appServer(t, &services{files: fd})
	resp, body := post(t, s, cookie, "/files/mkdir", url.Values{"folder": {""}, "name": {"Photos"}}, true)
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("HX-Location") != "/files" {
		t.Fatalf("mkdir: %d %q %s", resp.StatusCode, resp.Header.Get("HX-Location"), body)
	}
	resp, body = post(t, s, cookie, "/files/mkdir", url.Values{"folder": {""}, "name": {"Photos"}}, true)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "already in this folder") {
		t.Fatalf("mkdir twice: %d %s", resp.StatusCode, body)
	}
	photos := fd.Search("Photos")[0]
	f, _ := fd.add("", "a.jpg", false, []byte("jpeg"), "image/jpeg")

	resp, _ = post(t, s, cookie, "/files/rename/"+string(f.ID), url.Values{"name": {"b.jpg"}}, false)
	if resp.StatusCode != http.StatusSeeOther || fd.entries[f.ID].Name != "b.jpg" {
		t.Fatalf("rename: %d %+v", resp.StatusCode, fd.entries[f.ID])
	}
	resp, _ = post(t, s, cookie, "/files/move/"+string(f.ID), url.Values{"to": {string(photos.ID)}}, false)
	if resp.StatusCode != http.StatusSeeOther || fd.entries[f.ID].Parent != photos.ID {
		t.Fatalf("move: %d %+v", resp.StatusCode, fd.entries[f.ID])
	}
	resp, body = post(t, s, cookie, "/files/move/"+string(f.ID), url.Values{"to": {"../etc"}}, true)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Choose a folder") {
		t.Fatalf("move to a bad ID: %d %s", resp.StatusCode, body)
	}

	// Delete asks first; the confirm page names what goes.
	code, body := get(t, s, cookie, "/files/delete/"+string(photos.ID))
	if code != 200 || !strings.Contains(body, "1 files and folders") || !strings.Contains(body, `id="delete-confirm"`) {
		t.Fatalf("delete confirm: %d\n%s", code, body)
	}
	resp, _ = post(t, s, cookie, "/files/delete/"+string(photos.ID), nil, false)
	if resp.StatusCode != http.StatusSeeOther || len(fd.entries) != 0 {
		t.Fatalf("delete: %d, %d entries left", resp.StatusCode, len(fd.entries))
	}
	code, _ = get(t, s, cookie, "/files/entry/"+string(f.ID))
	if code != http.StatusNotFound {
		t.Fatalf("deleted entry: %d, want 404", code)
	}
}

func TestFilesBadRequests(t *testing.T) {
	fd := newFakeDrive()
	s, cookie := appServer(t, &services{files: fd})
	for _, path := range []string{"/files?folder=zz", "/files/entry/ZZ", "/files/entry/0123", "/files/content/" + strings.Repeat("a", 32),
		"/files/shared/nope"} {
		if code, _ := get(t, s, cookie, path); code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, code)
		}
	}
	// An upload without a name or transfer ID, or with a lying length.
	req, _ := http.NewRequest("POST", s.BaseURL()+"/files/upload?name=x", strings.NewReader("abc"))
	req.AddCookie(cookie)
	if resp := do(t, req); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("upload without tid: %d", resp.StatusCode)
	}
	fd.failNet = errors.New("dial tcp 127.0.0.1:1: connect: connection refused")
	resp := upload(t, s, cookie, "", "x.bin", "application/octet-stream", []byte("abc"))
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(b), "Details are in the log") && !strings.Contains(string(b), "network") {
		t.Errorf("upload with the network down: %d %s", resp.StatusCode, b)
	}
	resp, body := post(t, s, cookie, "/files/links", url.Values{"link": {"borg://cap/garbage"}}, true)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "borg://cap/") {
		t.Errorf("bad link: %d %s", resp.StatusCode, body)
	}
}

func TestFilesShareAndOpenLink(t *testing.T) {
	fd := newFakeDrive()
	s, cookie := appServer(t, &services{files: fd})
	f, _ := fd.add("", "report.pdf", false, []byte("%PDF-1.4"), "application/pdf")
	resp, body := post(t, s, cookie, "/files/share/"+string(f.ID), url.Values{"to": {"not an address"}}, true)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("share to garbage: %d %s", resp.StatusCode, body)
	}
	const bob = "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH" // any valid MUID
	resp, body = post(t, s, cookie, "/files/share/"+string(f.ID), url.Values{"to": {bob}}, true)
	if resp.StatusCode != 200 || !strings.Contains(body, "delivered") || !strings.Contains(body, "no-fs") {
		t.Fatalf("share: %d %s", resp.StatusCode, body)
	}
	if len(fd.shared) != 1 || fd.shared[0] != bob+" "+string(f.ID) {
		t.Fatalf("shared %v", fd.shared)
	}
	resp, body = post(t, s, cookie, "/files/link/"+string(f.ID), nil, true)
	if resp.StatusCode != 200 || !strings.Contains(body, "borg://cap/") {
		t.Fatalf("link: %d %s", resp.StatusCode, body)
	}
	link, _ := fd.Link(f.ID)
	resp, _ = post(t, s, cookie, "/files/links", url.Values{"link": {link}}, false)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/files/shared/") || strings.Contains(loc, "cap") {
		t.Fatalf("open link: %d %q", resp.StatusCode, loc)
	}
	code, body := get(t, s, cookie, loc)
	if code != 200 || !strings.Contains(body, "report.pdf") || !strings.Contains(body, "Open in the browser") {
		t.Fatalf("shared page: %d\n%s", code, body)
	}
	code, body = get(t, s, cookie, loc+"/content")
	if code != 200 || body != "%PDF-1.4" {
		t.Fatalf("shared content: %d %q", code, body)
	}
}

// BenchmarkFileList1000 renders the heaviest Files fragment: a folder of
// 1,000 entries.
func BenchmarkFileList1000(b *testing.B) {
	entries := make([]drive.Entry, 1000)
	for i := range entries {
		entries[i] = drive.Entry{ID: newID(), Name: fmt.Sprintf("holiday photo %04d <b>.jpg", i), Size: int64(i) * 12345,
			MIME: "image/jpeg", Modified: time.Unix(1_790_000_000+int64(i), 0), Folder: i%10 == 0}
	}
	benchRender(b, fileList("", entries, false))
}
