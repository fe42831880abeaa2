package seglog

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/borgios/borghui/internal/fattest"
)

func recs(prefix string, n int) [][]byte {
	var out [][]byte
	for i := range n {
		out = append(out, fmt.Appendf(nil, `{"%s":%d}`, prefix, i))
	}
	return out
}

func mustOpen(t *testing.T, path string) (*Log, [][]byte) {
	t.Helper()
	l, got, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return l, got
}

func appendAll(t *testing.T, l *Log, bodies [][]byte) {
	t.Helper()
	for _, b := range bodies {
		if err := l.Append(b); err != nil {
			t.Fatal(err)
		}
	}
}

func equal(t *testing.T, got, want [][]byte) {
	t.Helper()
	if !slices.EqualFunc(got, want, bytes.Equal) {
		t.Fatalf("read %d records %q\nwant %d %q", len(got), got, len(want), want)
	}
}

// TestReopenStartsSegments: every open that appends writes a new
// segment; the records read back in order across them.
func TestReopenStartsSegments(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.journal")
	l, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	var want [][]byte
	for round := range 4 {
		batch := recs(fmt.Sprint("r", round), 3)
		appendAll(t, l, batch)
		want = append(want, batch...)
		l.Close()
		var got [][]byte
		l, got = mustOpen(t, path)
		equal(t, got, want)
	}
	l.Close()
	if l.Segments() != 4 {
		t.Errorf("%d segments on disk, want 4 (one per open that appended)", l.Segments())
	}
	// An open that appends nothing leaves no empty segment.
	l, _ = mustOpen(t, path)
	l.Close()
	l, _ = mustOpen(t, path)
	if l.Segments() != 4 {
		t.Errorf("%d segments after opens without appends, want 4", l.Segments())
	}
	if _, err := Create(path); err == nil {
		t.Error("Create over an existing log succeeded")
	}
	if err := l.Remove(); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(path + "*"); len(left) > 0 {
		t.Fatalf("Remove left %v", left)
	}
}

// TestTornTails: a record counts only when its whole line is on disk;
// a cut line at a segment's end is dropped, later segments still read.
func TestTornTails(t *testing.T) {
	for _, tc := range []struct {
		name string
		tail string
	}{
		{"half a line", `{"half":`},
		{"line without checksum", "{\"x\":1}\n"},
		{"wrong checksum", "{\"x\":1} 00000000\n"},
		{"short checksum", "{\"x\":1} 0000\n"},
		{"garbage", "\x00\x00\x00\xff"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x")
			l, _ := mustOpen(t, path)
			appendAll(t, l, recs("a", 2))
			l.Close()
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString(tc.tail)
			f.Close()
			l, got := mustOpen(t, path)
			equal(t, got, recs("a", 2))
			appendAll(t, l, recs("b", 1))
			l.Close()
			_, got = mustOpen(t, path)
			equal(t, got, append(recs("a", 2), recs("b", 1)...))
		})
	}
}

// TestCompact: a snapshot replaces what came before; appends continue
// after it; a snapshot cut short (no end mark) is ignored and the
// segments it would have replaced stand.
func TestCompact(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox")
	l, _ := mustOpen(t, path)
	appendAll(t, l, recs("old", 5))
	l.Close()
	l, _ = mustOpen(t, path)
	appendAll(t, l, recs("more", 2))
	if err := l.Compact(recs("live", 2)); err != nil {
		t.Fatal(err)
	}
	appendAll(t, l, recs("after", 1))
	l.Close()
	l, got := mustOpen(t, path)
	equal(t, got, append(recs("live", 2), recs("after", 1)...))
	if l.Segments() != 1 {
		t.Errorf("%d segments after compaction, want 1", l.Segments())
	}
	// An empty snapshot is an empty log.
	if err := l.Compact(nil); err != nil {
		t.Fatal(err)
	}
	l.Close()
	_, got = mustOpen(t, path)
	equal(t, got, nil)

	// A snapshot cut before its end mark.
	path = filepath.Join(t.TempDir(), "outbox")
	l, _ = mustOpen(t, path)
	appendAll(t, l, recs("kept", 3))
	l.Close()
	cut := append([]byte{}, must(Frame(markSnapshot))...)
	cut = append(cut, must(Frame([]byte(`{"partial":1}`)))...)
	if err := os.WriteFile(path+".1", cut, 0o600); err != nil {
		t.Fatal(err)
	}
	l, got = mustOpen(t, path)
	equal(t, got, recs("kept", 3))
	appendAll(t, l, recs("new", 1))
	l.Close()
	_, got = mustOpen(t, path)
	equal(t, got, append(recs("kept", 3), recs("new", 1)...))
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func TestFrameRefusesNewlinesAndHugeBodies(t *testing.T) {
	for _, b := range [][]byte{[]byte("a\nb"), make([]byte, MaxRecord+1)} {
		if _, err := Frame(b); err != ErrTooLarge {
			t.Errorf("Frame(%d bytes) = %v, want ErrTooLarge", len(b), err)
		}
	}
}

func TestMarksAreNotRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m")
	data := slices.Concat(must(Frame([]byte("a"))), must(Frame(markSnapshot)), must(Frame(markEnd)), must(Frame([]byte("b"))))
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	l, got := mustOpen(t, path)
	equal(t, got, [][]byte{[]byte("a"), []byte("b")})
	if err := l.Append(markEnd); err != ErrReserved {
		t.Fatalf("Append(mark) = %v, want ErrReserved", err)
	}
}

func TestSegmentNamesIgnoreOthers(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"j", "j.2", "J.3", "j.x", "j.01", "jj", "j.-1", "k.1"} {
		os.WriteFile(filepath.Join(dir, n), nil, 0o600)
	}
	segs, err := segments(filepath.Join(dir, "j"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(segs, []int{0, 2, 3}) {
		t.Fatalf("segments = %v, want [0 2 3]", segs)
	}
}

// TestOnFusefat: on a real FAT image mounted with fusefat, a log opened
// and appended to many times, and compacted, reads back whole after the
// stick is detached and mounted again. (Appending to a reopened file
// there loses the file's start; this package never does.)
func TestOnFusefat(t *testing.T) {
	stick := fattest.New(t, 64<<20)
	path := filepath.Join(stick.Dir, "upload.journal")
	var want [][]byte
	big := bytes.Repeat([]byte("x"), 3000)
	for round := range 6 {
		l, got := mustOpen(t, path)
		equal(t, got, want)
		for i := range 200 {
			b := fmt.Appendf(nil, `{"r":%d,"i":%d,"pad":"%s"}`, round, i, big)
			appendAll(t, l, [][]byte{b})
			want = append(want, b)
		}
		if round == 3 {
			want = want[len(want)-50:]
			if err := l.Compact(want); err != nil {
				t.Fatal(err)
			}
		}
		l.Close()
	}
	stick.Detach()
	stick.WaitGone(10 * time.Second)
	stick.Mount()
	_, got := mustOpen(t, path)
	equal(t, got, want)
}

func FuzzOpen(f *testing.F) {
	f.Add(must(Frame([]byte(`{"a":1}`))), []byte("x"))
	f.Add(append(must(Frame(markSnapshot)), must(Frame(markEnd))...), must(Frame([]byte("b"))))
	f.Fuzz(func(t *testing.T, seg0, seg1 []byte) {
		path := filepath.Join(t.TempDir(), "f")
		os.WriteFile(path, seg0, 0o600)
		os.WriteFile(path+".1", seg1, 0o600)
		l, got, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range got {
			if isMark(r) {
				t.Fatalf("a mark was returned as a record")
			}
		}
		if err := l.Append([]byte("z")); err != nil {
			t.Fatal(err)
		}
		l.Close()
		_, again, err := Open(path)
		if err != nil || len(again) == 0 || !bytes.Equal(again[len(again)-1], []byte("z")) {
			t.Fatalf("the appended record did not read back: %q %v", again, err)
		}
	})
}
