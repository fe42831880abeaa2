package drive

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/borgios/borghui/cells/ftree"
	"github.com/borgios/borghui/conduit/files"
)

var ctx = context.Background()

func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func mkdir(t *testing.T, d *Drive, parent EntryID, name string) Entry {
	t.Helper()
	e, err := d.Mkdir(ctx, parent, name)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func upload(t *testing.T, d *Drive, parent EntryID, name string, data []byte) Entry {
	t.Helper()
	e, err := d.Upload(ctx, parent, name, "application/octet-stream", bytes.NewReader(data), int64(len(data)), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func names(es []Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Path
	}
	return out
}

func list(t *testing.T, d *Drive, parent EntryID) []string {
	t.Helper()
	es, err := d.List(parent)
	if err != nil {
		t.Fatal(err)
	}
	return names(es)
}

func readAll(t *testing.T, d *Drive, id EntryID) []byte {
	t.Helper()
	_, rd, err := d.Open(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(rd)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// shardsOf returns every shard of a file entry.
func shardsOf(t *testing.T, d *Drive, id EntryID) map[files.ID]bool {
	t.Helper()
	e, err := d.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := d.Open(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	out := map[files.ID]bool{}
	for _, s := range fileShards(m, files.ID(e.Manifest)) {
		out[s] = true
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	env := newEnv(t)
	d := env.drive(t, true)
	if got := list(t, d, ""); len(got) != 0 {
		t.Fatalf("new drive lists %v", got)
	}
	docs := mkdir(t, d, "", "Docs")
	if docs.Path != "/Docs" || !docs.Folder || !validID(docs.ID) {
		t.Fatalf("mkdir gave %+v", docs)
	}
	plain := randBytes(3000) // three chunks of 1 KiB
	var last Progress
	calls := 0
	a, err := d.Upload(ctx, docs.ID, "a.txt", "text/plain", bytes.NewReader(plain), int64(len(plain)), nil,
		func(p Progress) { calls++; last = p })
	if err != nil {
		t.Fatal(err)
	}
	if calls == 0 || last.Done != 3000 || last.Total != 3000 || last.ETA != 0 {
		t.Fatalf("progress: %d calls, last %+v", calls, last)
	}
	if a.Path != "/Docs/a.txt" || a.Size != 3000 || a.MIME != "text/plain" || a.Folder {
		t.Fatalf("upload gave %+v", a)
	}
	upload(t, d, "", "b.bin", randBytes(10))
	upload(t, d, "", "empty", nil)
	mkdir(t, d, "", "zeta")

	if got, want := list(t, d, ""), []string{"/Docs", "/zeta", "/b.bin", "/empty"}; !slices.Equal(got, want) {
		t.Fatalf("root lists %v, want %v", got, want)
	}
	if got, want := list(t, d, docs.ID), []string{"/Docs/a.txt"}; !slices.Equal(got, want) {
		t.Fatalf("Docs lists %v, want %v", got, want)
	}
	if _, err := d.List(a.ID); !errors.Is(err, ErrNotFolder) {
		t.Fatalf("listing a file: %v", err)
	}
	if _, err := d.List("0123456789abcdef0123456789abcdef"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("listing a missing folder: %v", err)
	}
	m, rd, err := d.Open(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "a.txt" || m.Size != 3000 || files.HexID(m.File) != a.File {
		t.Fatalf("manifest %+v", m)
	}
	got, err := io.ReadAll(rd)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("read back %d bytes (%v), want the %d uploaded", len(got), err, len(plain))
	}
	if _, _, err := d.Open(ctx, docs.ID); !errors.Is(err, ErrIsFolder) {
		t.Fatalf("opening a folder: %v", err)
	}
	if g, err := d.Get(a.ID); err != nil || g.Path != "/Docs/a.txt" || g.Name != "a.txt" {
		t.Fatalf("Get: %+v %v", g, err)
	}
	if g, err := d.Get(""); err != nil || !g.Folder || g.Path != "/" {
		t.Fatalf("Get root: %+v %v", g, err)
	}
	if _, _, missing := env.store.counts(); missing != 0 {
		t.Fatalf("%d releases of shards not held", missing)
	}
	// Every replaced index was released: the store holds the files' shards
	// and the current index only.
	want := map[files.ID]bool{files.ID(env.roots.current().Manifest): true}
	for _, es := range [][]Entry{mustList(t, d, ""), mustList(t, d, docs.ID)} {
		for _, e := range es {
			if !e.Folder {
				maps.Copy(want, shardsOf(t, d, e.ID))
			}
		}
	}
	if held := env.store.ids(); !maps.Equal(held, want) {
		t.Fatalf("store holds %d shards, want %d", len(held), len(want))
	}
}

func mustList(t *testing.T, d *Drive, parent EntryID) []Entry {
	t.Helper()
	es, err := d.List(parent)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func TestNotLoaded(t *testing.T) {
	env := newEnv(t)
	d := New(env.config(true))
	if _, err := d.List(""); !errors.Is(err, ErrNotLoaded) {
		t.Fatalf("List before Load: %v", err)
	}
	if _, err := d.Get(""); !errors.Is(err, ErrNotLoaded) {
		t.Fatalf("Get before Load: %v", err)
	}
	if d.Search("x") != nil {
		t.Fatal("Search before Load found something")
	}
	// A change loads first.
	if _, err := d.Mkdir(ctx, "", "x"); err != nil {
		t.Fatal(err)
	}
	if got := list(t, d, ""); !slices.Equal(got, []string{"/x"}) {
		t.Fatalf("lists %v", got)
	}
	if _, err := New(Config{}).Mkdir(ctx, "", "x"); err == nil {
		t.Fatal("a drive without configuration made a folder")
	}
}

func TestRename(t *testing.T) {
	env := newEnv(t)
	d := env.drive(t, true)
	f := mkdir(t, d, "", "old")
	mkdir(t, d, "", "other")
	file := upload(t, d, f.ID, "x", []byte("hello"))
	if err := d.Rename(ctx, f.ID, "new"); err != nil {
		t.Fatal(err)
	}
	if err := d.Rename(ctx, f.ID, "new"); err != nil {
		t.Fatalf("renaming to the same name: %v", err)
	}
	if got := list(t, d, ""); !slices.Equal(got, []string{"/new", "/other"}) {
		t.Fatalf("lists %v", got)
	}
	if g, _ := d.Get(file.ID); g.Path != "/new/x" {
		t.Fatalf("file path %q after renaming its folder", g.Path)
	}
	for _, c := range []struct {
		id   EntryID
		name string
		want error
	}{
		{f.ID, "other", ErrExists},
		{f.ID, "a/b", ErrBadName},
		{f.ID, "", ErrBadName},
		{"", "root", ErrRoot},
		{"0123456789abcdef0123456789abcdef", "y", ErrNotFound},
	} {
		if err := d.Rename(ctx, c.id, c.name); !errors.Is(err, c.want) {
			t.Errorf("Rename(%q, %q) = %v, want %v", c.id, c.name, err, c.want)
		}
	}
	if got := string(readAll(t, d, file.ID)); got != "hello" {
		t.Fatalf("file reads %q after renames", got)
	}
}

func TestMove(t *testing.T) {
	env := newEnv(t)
	d := env.drive(t, true)
	a := mkdir(t, d, "", "A")
	b := mkdir(t, d, a.ID, "B")
	c := mkdir(t, d, b.ID, "C")
	f := upload(t, d, c.ID, "f", []byte("data"))
	mkdir(t, d, "", "C")
	for _, tc := range []struct {
		name   string
		id, to EntryID
		want   error
	}{
		{"into itself", a.ID, a.ID, ErrMoveInside},
		{"into its child", a.ID, b.ID, ErrMoveInside},
		{"into its grandchild", a.ID, c.ID, ErrMoveInside},
		{"into a file", b.ID, f.ID, ErrNotFolder},
		{"into a missing folder", b.ID, "0123456789abcdef0123456789abcdef", ErrNotFound},
		{"the top folder", "", a.ID, ErrRoot},
		{"onto a taken name", c.ID, "", ErrExists},
	} {
		if err := d.Move(ctx, tc.id, tc.to); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if err := d.Move(ctx, b.ID, ""); err != nil {
		t.Fatal(err)
	}
	if err := d.Move(ctx, a.ID, c.ID); err != nil { // A is no longer above C
		t.Fatal(err)
	}
	if g, _ := d.Get(f.ID); g.Path != "/B/C/f" {
		t.Fatalf("file at %q", g.Path)
	}
	if g, _ := d.Get(a.ID); g.Path != "/B/C/A" {
		t.Fatalf("A at %q", g.Path)
	}
	if err := d.Move(ctx, f.ID, ""); err != nil {
		t.Fatal(err)
	}
	if got := list(t, d, ""); !slices.Equal(got, []string{"/B", "/C", "/f"}) {
		t.Fatalf("lists %v", got)
	}
}

func TestDeleteReleasesShards(t *testing.T) {
	env := newEnv(t)
	d := env.drive(t, true)
	a := mkdir(t, d, "", "A")
	b := mkdir(t, d, a.ID, "B")
	f1 := upload(t, d, a.ID, "f1", randBytes(3000))
	f2 := upload(t, d, b.ID, "f2", randBytes(2000))
	f3 := upload(t, d, "", "f3", randBytes(1500))
	gone := union(shardsOf(t, d, f1.ID), shardsOf(t, d, f2.ID))
	before := env.store.ids()
	oldIndex := files.ID(env.roots.current().Manifest)
	env.store.takeDeleted()

	if err := d.Delete(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	newIndex := files.ID(env.roots.current().Manifest)
	want := union(gone, map[files.ID]bool{oldIndex: true})
	if got := env.store.takeDeleted(); !maps.Equal(got, want) {
		t.Fatalf("released %d shards, want %d (the files' %d and the old index)", len(got), len(want), len(gone))
	}
	held := env.store.ids()
	wantHeld := map[files.ID]bool{newIndex: true}
	for id := range before {
		if !want[id] {
			wantHeld[id] = true
		}
	}
	if !maps.Equal(held, wantHeld) {
		t.Fatalf("store holds %d shards, want %d", len(held), len(wantHeld))
	}
	if got := list(t, d, ""); !slices.Equal(got, []string{"/f3"}) {
		t.Fatalf("lists %v", got)
	}
	for _, id := range []EntryID{a.ID, b.ID, f1.ID, f2.ID} {
		if _, err := d.Get(id); !errors.Is(err, ErrNotFound) {
			t.Fatalf("deleted entry %s: %v", id, err)
		}
	}
	if len(readAll(t, d, f3.ID)) != 1500 {
		t.Fatal("the remaining file does not read")
	}
	if err := d.Delete(ctx, a.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleting twice: %v", err)
	}
	if err := d.Delete(ctx, ""); !errors.Is(err, ErrRoot) {
		t.Fatalf("deleting the top folder: %v", err)
	}
	if _, _, missing := env.store.counts(); missing != 0 {
		t.Fatalf("%d releases of shards not held", missing)
	}
}

func TestDeleteReleaseErrorsKeepTheChange(t *testing.T) {
	env := newEnv(t)
	d := env.drive(t, true)
	f := upload(t, d, "", "f", randBytes(2500))
	sh := shardsOf(t, d, f.ID)
	// Lose one chunk's shard: releasing it fails, the rest still go.
	var lost files.ID
	for id := range sh {
		if id != files.ID(f.Manifest) {
			lost = id
			break
		}
	}
	env.store.Delete(ctx, lost)
	env.store.takeDeleted()
	err := d.Delete(ctx, f.ID)
	if err == nil || !strings.Contains(err.Error(), "not fully released") {
		t.Fatalf("Delete = %v, want a release error", err)
	}
	if got := list(t, d, ""); len(got) != 0 {
		t.Fatalf("the entry stayed: %v", got)
	}
	if got := env.store.takeDeleted(); len(got) != len(sh) { // the old index and all but the lost shard
		t.Fatalf("released %d shards, want %d", len(got), len(sh))
	}
}

func TestNoReleaser(t *testing.T) {
	env := newEnv(t)
	d := env.drive(t, false)
	f := upload(t, d, "", "f", randBytes(2500))
	mkdir(t, d, "", "dir")
	before := env.store.ids()
	if err := d.Delete(ctx, f.ID); err != nil {
		t.Fatal(err)
	}
	if _, deletes, _ := env.store.counts(); deletes != 0 {
		t.Fatalf("%d shards released with no Releaser", deletes)
	}
	for id := range before {
		if !env.store.ids()[id] {
			t.Fatal("a shard went missing with no Releaser")
		}
	}
}

func TestNames(t *testing.T) {
	for _, c := range []struct {
		name string
		ok   bool
	}{
		{"a", true},
		{"report.pdf", true},
		{"...", true},
		{" spaced ", true},
		{"日本語のファイル", true},
		{"ä", true},
		{strings.Repeat("a", 255), true},
		{strings.Repeat("é", 127), true},
		{"", false},
		{".", false},
		{"..", false},
		{"a/b", false},
		{"/", false},
		{"a\x00b", false},
		{"a\nb", false},
		{"tab\there", false},
		{"\x7f", false},
		{"c1\u0085", false},
		{"\xff\xfe", false},
		{strings.Repeat("a", 256), false},
		{strings.Repeat("é", 128), false},
	} {
		err := checkName(c.name)
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, ErrBadName)) {
			t.Errorf("checkName(%q) = %v, want ok=%v", c.name, err, c.ok)
		}
	}
	env := newEnv(t)
	d := env.drive(t, true)
	if _, err := d.Mkdir(ctx, "", "a/b"); !errors.Is(err, ErrBadName) {
		t.Fatalf("Mkdir with a slash: %v", err)
	}
	puts, _, _ := env.store.counts()
	if _, err := d.Upload(ctx, "", "..", "", bytes.NewReader(nil), 0, nil, nil); !errors.Is(err, ErrBadName) {
		t.Fatalf("Upload named ..: %v", err)
	}
	if _, err := d.Upload(ctx, "", "ok", "text/\nplain", bytes.NewReader(nil), 0, nil, nil); !errors.Is(err, ErrBadType) {
		t.Fatalf("Upload with a bad type: %v", err)
	}
	if p, _, _ := env.store.counts(); p != puts {
		t.Fatal("a refused upload stored shards")
	}
}

func TestDuplicateNames(t *testing.T) {
	env := newEnv(t)
	d := env.drive(t, true)
	dir := mkdir(t, d, "", "same")
	if _, err := d.Mkdir(ctx, "", "same"); !errors.Is(err, ErrExists) {
		t.Fatalf("second folder: %v", err)
	}
	if _, err := d.Mkdir(ctx, "", "Same"); err != nil {
		t.Fatalf("a name differing in case: %v", err)
	}
	mkdir(t, d, dir.ID, "same") // other folder, same name: fine
	puts, _, _ := env.store.counts()
	if _, err := d.Upload(ctx, "", "same", "", bytes.NewReader([]byte("x")), 1, nil, nil); !errors.Is(err, ErrExists) {
		t.Fatalf("file over a folder's name: %v", err)
	}
	if p, _, _ := env.store.counts(); p != puts {
		t.Fatal("an upload refused for its name stored shards")
	}
	if err := ErrExists.Error(); err != "an entry with that name is already in this folder" {
		t.Fatalf("ErrExists says %q", err)
	}
}

func TestSearch(t *testing.T) {
	env := newEnv(t)
	d := env.drive(t, true)
	work := mkdir(t, d, "", "Work")
	old := mkdir(t, d, work.ID, "Old")
	upload(t, d, work.ID, "Report.pdf", []byte("1"))
	upload(t, d, old.ID, "report-old.txt", []byte("2"))
	upload(t, d, "", "ÄRGER.txt", []byte("3"))
	mkdir(t, d, "", "Holiday")
	for _, c := range []struct {
		q    string
		want []string
	}{
		{"REPORT", []string{"/Work/Old/report-old.txt", "/Work/Report.pdf"}},
		{"old", []string{"/Work/Old", "/Work/Old/report-old.txt"}},
		{"ärger", []string{"/ÄRGER.txt"}},
		{".txt", []string{"/Work/Old/report-old.txt", "/ÄRGER.txt"}},
		{"nothing", nil},
		{"", nil},
	} {
		if got := names(d.Search(c.q)); !slices.Equal(got, c.want) {
			t.Errorf("Search(%q) = %v, want %v", c.q, got, c.want)
		}
	}
	// At most 200 results (built in memory: 250 entries).
	x := newIndex()
	for i := range 250 {
		id, _ := newEntryID()
		if err := x.add(Entry{ID: id, Name: fmt.Sprintf("note %03d", i), Folder: true}); err != nil {
			t.Fatal(err)
		}
	}
	d.set(nil, files.ID{}, x)
	got := d.Search("NOTE")
	if len(got) != 200 || got[0].Path != "/note 000" || got[199].Path != "/note 199" {
		t.Fatalf("Search gave %d results, %q to %q", len(got), got[0].Path, got[len(got)-1].Path)
	}
}

func TestSecondDriveLoads(t *testing.T) {
	env := newEnv(t)
	d := env.drive(t, true)
	a := mkdir(t, d, "", "A")
	upload(t, d, a.ID, "f", []byte("shared"))
	mkdir(t, d, a.ID, "sub")
	d2 := env.drive(t, true)
	for _, p := range []EntryID{"", a.ID} {
		l1, l2 := mustList(t, d, p), mustList(t, d2, p)
		if !slices.EqualFunc(l1, l2, func(x, y Entry) bool {
			return x.ID == y.ID && x.Path == y.Path && x.Modified.Equal(y.Modified) && x.File == y.File && x.Manifest == y.Manifest
		}) {
			t.Fatalf("second drive lists %v, first %v", names(l2), names(l1))
		}
	}
	f := d2.Search("f")[0]
	if got := string(readAll(t, d2, f.ID)); got != "shared" {
		t.Fatalf("second drive reads %q", got)
	}
	// Another identity sees none of it.
	other := &testEnv{store: env.store, roots: env.roots, id: newIdentity(t), clock: env.clock}
	if err := New(other.config(true)).Load(ctx); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("another identity loading: %v", err)
	}
}

func TestRacingWriters(t *testing.T) {
	t.Run("one lost race", func(t *testing.T) {
		env := newEnv(t)
		a, b := env.drive(t, true), env.drive(t, true)
		mkdir(t, a, "", "base")
		if err := b.Load(ctx); err != nil {
			t.Fatal(err)
		}
		mkdir(t, b, "", "from b") // a's view is now stale
		mkdir(t, a, "", "from a") // conflicts, reloads, applies again
		if env.roots.conflicts != 1 {
			t.Fatalf("%d conflicts, want 1", env.roots.conflicts)
		}
		want := []string{"/base", "/from a", "/from b"}
		if got := list(t, a, ""); !slices.Equal(got, want) {
			t.Fatalf("a lists %v", got)
		}
		if got := list(t, env.drive(t, true), ""); !slices.Equal(got, want) {
			t.Fatalf("a fresh drive lists %v", got)
		}
	})
	t.Run("a change that no longer applies", func(t *testing.T) {
		env := newEnv(t)
		a, b := env.drive(t, true), env.drive(t, true)
		mkdir(t, b, "", "x")
		if _, err := a.Mkdir(ctx, "", "x"); !errors.Is(err, ErrExists) {
			t.Fatalf("racing for one name: %v", err)
		}
		if got := list(t, a, ""); !slices.Equal(got, []string{"/x"}) {
			t.Fatalf("a lists %v", got)
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		env := newEnv(t)
		a, b := env.drive(t, true), env.drive(t, true)
		const n = 6 // below maxAttempts: a writer loses at most n races per change
		var wg sync.WaitGroup
		errs := make(chan error, 2*n)
		for i := range n {
			for _, w := range []struct {
				d    *Drive
				name string
			}{{a, "a"}, {b, "b"}} {
				wg.Go(func() {
					if _, err := w.d.Mkdir(ctx, "", fmt.Sprintf("%s%d", w.name, i)); err != nil {
						errs <- err
					}
				})
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		got := list(t, env.drive(t, true), "")
		if len(got) != 2*n {
			t.Fatalf("%d entries survive, want %d: %v", len(got), 2*n, got)
		}
		// Replaced and losing indexes were all released: one index remains.
		if held := env.store.ids(); len(held) != 1 || !held[files.ID(env.roots.current().Manifest)] {
			t.Fatalf("store holds %d shards, want the current index only", len(held))
		}
		if _, _, missing := env.store.counts(); missing != 0 {
			t.Fatalf("%d releases of shards not held", missing)
		}
		t.Logf("%d conflicts", env.roots.conflicts)
	})
}

func TestConflictGivesUp(t *testing.T) {
	env := newEnv(t)
	d := env.drive(t, true)
	env.roots.always = true
	_, err := d.Mkdir(ctx, "", "x")
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("Mkdir = %v, want ErrConflict", err)
	}
	puts, deletes, _ := env.store.counts()
	if puts != maxAttempts || deletes != maxAttempts || len(env.store.ids()) != 0 {
		t.Fatalf("%d index puts, %d released, %d held; want %d, %d, 0", puts, deletes, len(env.store.ids()), maxAttempts, maxAttempts)
	}
	if env.roots.current() != nil {
		t.Fatal("a root record was written")
	}
}

func TestUploadLosesItsName(t *testing.T) {
	env := newEnv(t)
	a, b := env.drive(t, true), env.drive(t, true)
	mkdir(t, b, "", "x") // a does not know yet
	before := env.store.ids()
	path := filepath.Join(t.TempDir(), "up.journal")
	data := randBytes(2500)
	j, err := a.cfg.Files.CreateUploadJournal(path, "x", "test", int64(len(data)), 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.Upload(ctx, "", "x", "", bytes.NewReader(data), int64(len(data)), j, nil)
	if !errors.Is(err, ErrExists) {
		t.Fatalf("Upload = %v, want ErrExists", err)
	}
	if after := env.store.ids(); !maps.Equal(after, before) {
		t.Fatalf("store holds %d shards after the refused upload, %d before", len(after), len(before))
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the journal of released chunks stayed: %v", err)
	}
}

func TestUploadUncertainKeepsShards(t *testing.T) {
	env := newEnv(t)
	d := env.drive(t, true)
	env.roots.failPut = errors.New("timeout")
	_, err := d.Upload(ctx, "", "f", "", bytes.NewReader(randBytes(2000)), 2000, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("Upload = %v", err)
	}
	if _, deletes, _ := env.store.counts(); deletes != 0 {
		t.Fatalf("%d shards released though the record may have been stored", deletes)
	}
}

func TestUploadStoreFails(t *testing.T) {
	env := newEnv(t)
	d := env.drive(t, true)
	env.store.failPuts = errors.New("no holders")
	if _, err := d.Upload(ctx, "", "f", "", bytes.NewReader(randBytes(100)), 100, nil, nil); err == nil {
		t.Fatal("Upload succeeded with no holders")
	}
	if _, err := d.Mkdir(ctx, "", "d"); err == nil || !strings.Contains(err.Error(), "no holders") {
		t.Fatalf("Mkdir = %v", err)
	}
	env.store.failPuts = nil
	if got := list(t, d, ""); len(got) != 0 {
		t.Fatalf("lists %v", got)
	}
}

func TestCorruptIndexRefused(t *testing.T) {
	plant := func(t *testing.T, env *testEnv, signer *testEnv, sealed []byte, size uint64) {
		t.Helper()
		id := files.ShardID(sealed)
		env.store.shards[id] = sealed
		rec, err := ftree.NextRoot(signer.id, nil, ftree.Hash(id), size, env.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		env.roots.set(rec)
	}
	sealWith := func(t *testing.T, e *testEnv, plain []byte) []byte {
		t.Helper()
		k, err := indexKey(e.id)
		if err != nil {
			t.Fatal(err)
		}
		defer k.Wipe()
		s, err := sealBytes(k, plain)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	cases := []struct {
		name  string
		setup func(t *testing.T, env *testEnv)
		want  string
	}{
		{"another identity's index", func(t *testing.T, env *testEnv) {
			other := &testEnv{id: newIdentity(t)}
			s := sealWith(t, other, []byte(`{"version":1,"entries":[]}`))
			plant(t, env, env, s, uint64(len(s)))
		}, "does not open with this identity"},
		{"not an index", func(t *testing.T, env *testEnv) {
			s := sealWith(t, env, []byte(`{"version":1,"entries":[],"extra":1}`))
			plant(t, env, env, s, uint64(len(s)))
		}, "unknown field"},
		{"a newer format", func(t *testing.T, env *testEnv) {
			s := sealWith(t, env, []byte(`{"version":2,"entries":[]}`))
			plant(t, env, env, s, uint64(len(s)))
		}, "version 2"},
		{"random bytes", func(t *testing.T, env *testEnv) {
			s := randBytes(500)
			plant(t, env, env, s, 500)
		}, "does not open"},
		{"wrong size in the record", func(t *testing.T, env *testEnv) {
			s := sealWith(t, env, []byte(`{"version":1,"entries":[]}`))
			plant(t, env, env, s, uint64(len(s))+1)
		}, "not the one the root record names"},
		{"another owner's record", func(t *testing.T, env *testEnv) {
			other := &testEnv{id: newIdentity(t)}
			s := sealWith(t, env, []byte(`{"version":1,"entries":[]}`))
			plant(t, env, other, s, uint64(len(s)))
		}, "another identity"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := newEnv(t)
			c.setup(t, env)
			rec := env.roots.current()
			puts, _, _ := env.store.counts()
			d := New(env.config(true))
			err := d.Load(ctx)
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Load = %v, want ErrCorrupt saying %q", err, c.want)
			}
			if _, err := d.Mkdir(ctx, "", "x"); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Mkdir over a bad index = %v", err)
			}
			if p, deletes, _ := env.store.counts(); p != puts || deletes != 0 || env.roots.current() != rec {
				t.Fatal("something was written over a bad index")
			}
		})
	}
	t.Run("a loaded drive keeps its tree", func(t *testing.T) {
		env := newEnv(t)
		d := env.drive(t, true)
		mkdir(t, d, "", "kept")
		plant(t, env, env, randBytes(100), 100)
		if err := d.Load(ctx); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Load = %v", err)
		}
		if got := list(t, d, ""); !slices.Equal(got, []string{"/kept"}) {
			t.Fatalf("lists %v", got)
		}
	})
	t.Run("a record that disappears", func(t *testing.T) {
		env := newEnv(t)
		d := env.drive(t, true)
		mkdir(t, d, "", "kept")
		env.roots.set(nil)
		if err := d.Load(ctx); err == nil {
			t.Fatal("Load accepted a vanished record as an empty drive")
		}
		if got := list(t, d, ""); !slices.Equal(got, []string{"/kept"}) {
			t.Fatalf("lists %v", got)
		}
	})
}

func TestFileShards(t *testing.T) {
	id := func(b byte) files.HexID { return files.HexID{b} }
	m := &files.Manifest{
		Chunks:  []files.ChunkRef{{ID: id(1)}, {ID: id(2)}, {ID: id(3)}},
		Erasure: &files.Erasure{Data: 2, Parity: 2, Groups: [][]files.ChunkRef{{{ID: id(4)}, {ID: id(5)}}, {{ID: id(6)}, {ID: id(7)}}}},
	}
	got := fileShards(m, files.ID{9})
	want := []files.ID{{1}, {2}, {3}, {4}, {5}, {6}, {7}, {9}}
	if !slices.Equal(got, want) {
		t.Fatalf("fileShards = %v", got)
	}
}

// spreadStore lets the memStore take erasure-coded files (places ignored).
type spreadStore struct{ *memStore }

func (s spreadStore) PutAt(ctx context.Context, id files.ID, sealed []byte, _ files.Place) error {
	return s.Put(ctx, id, sealed)
}

func (s spreadStore) FetchAt(ctx context.Context, id files.ID, _ files.Place) ([]byte, error) {
	return s.Fetch(ctx, id)
}

func TestDeleteReleasesParity(t *testing.T) {
	env := newEnv(t)
	cfg := env.config(true)
	cfg.Files.Store = spreadStore{env.store}
	cfg.Files.Erasure = &files.ErasureConfig{Data: 2, Parity: 1}
	d := New(cfg)
	if err := d.Load(ctx); err != nil {
		t.Fatal(err)
	}
	plain := randBytes(5000) // 5 chunks: groups of 2, 2 and 1, a parity shard each
	f := upload(t, d, "", "coded", plain)
	m, rd, err := d.Open(ctx, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(rd); !bytes.Equal(got, plain) {
		t.Fatal("the erasure-coded file does not read back")
	}
	if m.Erasure == nil || len(m.Erasure.Groups) != 3 {
		t.Fatalf("erasure layout %+v", m.Erasure)
	}
	want := shardsOf(t, d, f.ID)
	if len(want) != 5+3+1 {
		t.Fatalf("%d shards, want 5 chunks, 3 parity, 1 manifest", len(want))
	}
	want[files.ID(env.roots.current().Manifest)] = true
	env.store.takeDeleted()
	if err := d.Delete(ctx, f.ID); err != nil {
		t.Fatal(err)
	}
	if got := env.store.takeDeleted(); !maps.Equal(got, want) {
		t.Fatalf("released %d shards, want %d", len(got), len(want))
	}
	if held := env.store.ids(); len(held) != 1 {
		t.Fatalf("store holds %d shards, want the index only", len(held))
	}
}
