package drive

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/borgios/borghui/conduit/files"
)

const (
	idA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	idB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	idC = "cccccccccccccccccccccccccccccccc"
	hx1 = "1111111111111111111111111111111111111111111111111111111111111111"
	hx2 = "2222222222222222222222222222222222222222222222222222222222222222"
)

// doc wraps entries into an index document.
func doc(entries ...string) string {
	return `{"version":1,"entries":[` + strings.Join(entries, ",") + `]}`
}

func folder(id, parent, name string) string {
	return fmt.Sprintf(`{"id":%q,"parent":%q,"name":%q,"folder":true}`, id, parent, name)
}

func file(id, parent, name string) string {
	return fmt.Sprintf(`{"id":%q,"parent":%q,"name":%q,"size":5,"mime":"text/plain","modified":"2026-01-02T03:04:05.000000006+01:00","file":%q,"manifest":%q}`,
		id, parent, name, hx1, hx2)
}

func TestDecodeIndex(t *testing.T) {
	for _, c := range []struct {
		name, doc string
		err       string // "" = accepted
	}{
		{"empty", doc(), ""},
		{"no entries member", `{"version":1}`, ""},
		{"a tree", doc(folder(idA, "", "a"), folder(idB, idA, "b"), file(idC, idB, "c.txt")), ""},
		{"children before parents", doc(file(idC, idB, "c.txt"), folder(idB, idA, "b"), folder(idA, "", "a")), ""},
		{"same name in two folders", doc(folder(idA, "", "x"), folder(idB, idA, "x")), ""},
		{"not JSON", `nope`, "not a folder index"},
		{"trailing data", doc() + ` {}`, "data after"},
		{"unknown member", `{"version":1,"entries":[],"owner":"me"}`, "unknown field"},
		{"unknown entry member", doc(`{"id":"` + idA + `","name":"a","folder":true,"color":"red"}`), "unknown field"},
		{"path is not stored", doc(`{"id":"` + idA + `","name":"a","folder":true,"Path":"/a"}`), "unknown field"},
		{"version 0", `{"entries":[]}`, "version 0"},
		{"version 2", `{"version":2,"entries":[]}`, "version 2"},
		{"duplicate id", doc(folder(idA, "", "a"), folder(idA, "", "b")), "listed twice"},
		{"missing parent", doc(folder(idB, idA, "b")), "no such file or folder"},
		{"parent is a file", doc(file(idA, "", "f"), folder(idB, idA, "b")), "not a folder"},
		{"cycle", doc(folder(idA, idB, "a"), folder(idB, idA, "b")), "inside itself"},
		{"self parent", doc(folder(idA, idA, "a")), "inside itself"},
		{"duplicate names", doc(folder(idA, "", "x"), file(idB, "", "x")), "already in this folder"},
		{"short id", doc(folder("abc", "", "a")), "bad id"},
		{"upper-case id", doc(folder(strings.ToUpper(idA), "", "a")), "bad id"},
		{"bad parent id", doc(folder(idA, "xyz", "a")), "bad parent id"},
		{"empty name", doc(folder(idA, "", "")), "not allowed"},
		{"slash in name", doc(folder(idA, "", "a/b")), "not allowed"},
		{"control in name", doc(`{"id":"` + idA + `","name":"a\u0001","folder":true}`), "not allowed"},
		{"nul in name", doc(`{"id":"` + idA + `","name":"a\u0000b","folder":true}`), "not allowed"},
		{"dot-dot", doc(folder(idA, "", "..")), "not allowed"},
		{"long name", doc(folder(idA, "", strings.Repeat("n", 256))), "not allowed"},
		{"folder with a size", doc(`{"id":"` + idA + `","name":"a","folder":true,"size":3}`), "folder with file fields"},
		{"file without ids", doc(`{"id":"` + idA + `","name":"a","size":3}`), "without size"},
		{"negative size", doc(strings.Replace(file(idA, "", "f"), `"size":5`, `"size":-1`, 1)), "without size"},
		{"bad mime", doc(strings.Replace(file(idA, "", "f"), "text/plain", `text\nplain`, 1)), "file type"},
		{"time out of range", doc(strings.Replace(file(idA, "", "f"), "2026-01-02T03:04:05.000000006+01:00", "9999-12-31T23:00:00-23:00", 1)), "time out of range"},
	} {
		t.Run(c.name, func(t *testing.T) {
			x, err := decodeIndex([]byte(c.doc))
			if c.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				checkReseal(t, x)
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("decodeIndex = %v, want an error saying %q", err, c.err)
			}
		})
	}
}

// testKey is a fixed index key for tests.
var testKey = &files.Key{1, 2, 3}

// checkReseal seals an accepted index and opens it again: it must come
// back the same.
func checkReseal(t *testing.T, x *index) {
	t.Helper()
	sealed, err := sealIndex(testKey, x)
	if err != nil {
		t.Fatalf("an accepted index does not seal: %v", err)
	}
	y, err := openIndex(testKey, sealed)
	if err != nil {
		t.Fatalf("a resealed index does not open: %v", err)
	}
	a, err := x.encode()
	if err != nil {
		t.Fatal(err)
	}
	b, err := y.encode()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) || len(x.entries) != len(y.entries) || len(x.names) != len(y.names) {
		t.Fatalf("resealed index differs:\n%s\n%s", a, b)
	}
}

func TestOpenIndexRefuses(t *testing.T) {
	x, err := decodeIndex([]byte(doc(folder(idA, "", "a"))))
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := sealIndex(testKey, x)
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(sealed)
	flipped[len(flipped)/2] ^= 1
	for name, c := range map[string]struct {
		key    *files.Key
		sealed []byte
	}{
		"wrong key":  {&files.Key{9}, sealed},
		"tampered":   {testKey, flipped},
		"truncated":  {testKey, sealed[:20]},
		"empty":      {testKey, nil},
		"over limit": {testKey, make([]byte, MaxIndex+1)},
	} {
		if _, err := openIndex(c.key, c.sealed); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: openIndex = %v, want ErrCorrupt", name, err)
		}
	}
	// Another use of XChaCha20-Poly1305 with the same key (another AAD) does
	// not open as an index.
	if _, err := openIndex(testKey, mustSealChunk(t)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("a chunk opened as an index: %v", err)
	}
}

func mustSealChunk(t *testing.T) []byte {
	t.Helper()
	s, err := files.SealChunk(nil, testKey, files.ID{}, 0, 1, []byte(doc()))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestIndexFull(t *testing.T) {
	x := newIndex()
	name := strings.Repeat("n", 250)
	for i := range 20000 {
		id, err := newEntryID()
		if err != nil {
			t.Fatal(err)
		}
		if err := x.add(Entry{ID: id, Name: fmt.Sprintf("%s%05d", name, i), Folder: true}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sealIndex(testKey, x); !errors.Is(err, ErrFull) {
		t.Fatalf("sealing 20,000 long names: %v, want ErrFull", err)
	}
}

func FuzzOpenIndex(f *testing.F) {
	for _, s := range []string{
		doc(),
		doc(folder(idA, "", "a"), folder(idB, idA, "b"), file(idC, idB, "c.txt")),
		doc(folder(idA, idB, "a"), folder(idB, idA, "b")),
		doc(file(idA, "", "f"), folder(idB, idA, "b")),
		`{"version":1,"entries":null}`,
		`{"version":1,"entries":[{"id":"` + idA + `","name":"x","modified":"0000-01-01T00:00:00+01:00","folder":true}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, plain []byte) {
		// Raw bytes as a sealed index: refused, never a panic.
		if _, err := openIndex(testKey, plain); err == nil {
			t.Fatal("unsealed bytes opened as an index")
		}
		sealed, err := sealBytes(testKey, plain)
		if err != nil {
			t.Fatal(err)
		}
		x, err := openIndex(testKey, sealed)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("refusal without ErrCorrupt: %v", err)
			}
			return
		}
		checkReseal(t, x)
		for id := range x.entries { // every accepted entry has a path under the root
			if p := x.path(id); !strings.HasPrefix(p, "/") {
				t.Fatalf("path %q", p)
			}
		}
	})
}
