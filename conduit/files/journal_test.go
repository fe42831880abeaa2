package files

import (
	"os"
	"path/filepath"
	"testing"
)

func TestJournalResume(t *testing.T) {
	path := filepath.Join(t.TempDir(), "upload.journal")
	h := JournalHeader{Kind: "upload", File: HexID{9}, Name: "film.mkv", Size: 5 << 20, ChunkSize: 1 << 20, Source: "/stick/film.mkv"}
	j, err := CreateJournal(path, h)
	if err != nil {
		t.Fatal(err)
	}
	for i := uint32(0); i < 3; i++ {
		if err := j.Done(JournalChunk{Index: i, ID: HexID{byte(i + 1)}, Size: 1<<20 + Overhead, Holders: []string{"a", "b", "c"}}); err != nil {
			t.Fatal(err)
		}
	}
	j.Close()
	if _, err := CreateJournal(path, h); err == nil {
		t.Fatal("a second journal replaced the first")
	}

	// A crash cut the next line in the middle: the torn tail is dropped.
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"i":3,"id":"0404`)
	f.Close()
	j, err = OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	if j.Header != h {
		t.Fatalf("header %+v", j.Header)
	}
	if j.Count() != 3 {
		t.Fatalf("%d chunks finished after the crash, want 3", j.Count())
	}
	if c, ok := j.Finished(2); !ok || c.ID != (HexID{3}) || len(c.Holders) != 3 {
		t.Fatalf("chunk 2: %+v %v", c, ok)
	}
	if _, ok := j.Finished(3); ok {
		t.Fatal("the torn chunk counts as finished")
	}
	// Appending after the resume works, and survives another reopen.
	if err := j.Done(JournalChunk{Index: 3, ID: HexID{4}, Size: 1<<20 + Overhead}); err != nil {
		t.Fatal(err)
	}
	j.Close()
	j, err = OpenJournal(path)
	if err != nil || j.Count() != 4 {
		t.Fatalf("after resume: %d, %v", j.Count(), err)
	}
	if err := j.Remove(); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(path + "*"); len(left) > 0 {
		t.Fatalf("the journal of a finished transfer stays: %v", left)
	}
}

func TestJournalDamage(t *testing.T) {
	dir := t.TempDir()
	h := JournalHeader{Kind: "download", File: HexID{1}, Size: 10, ChunkSize: 4}
	path := filepath.Join(dir, "j")
	j, _ := CreateJournal(path, h)
	j.Done(JournalChunk{Index: 0, ID: HexID{1}, Size: 4 + Overhead})
	j.Done(JournalChunk{Index: 1, ID: HexID{2}, Size: 4 + Overhead})
	j.Close()
	data, _ := os.ReadFile(path)
	// Flip a byte in the second chunk line: it and everything after are dropped.
	lines := 0
	for i, b := range data {
		if b == '\n' {
			lines++
			if lines == 2 {
				data[i+5] ^= 1
				break
			}
		}
	}
	os.WriteFile(path, data, 0o600)
	j, err := OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	if j.Count() != 1 {
		t.Fatalf("%d chunks trusted after damage, want 1", j.Count())
	}
	j.Close()
	for name, content := range map[string]string{"empty": "", "foreign": "hello world\n", "bad header": `{"kind":"x"} 00000000` + "\n"} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o600)
		if _, err := OpenJournal(p); err == nil {
			t.Errorf("%s: opened as a journal", name)
		}
	}
}

func FuzzOpenJournal(f *testing.F) {
	f.Add([]byte("{\"kind\":\"upload\",\"file\":\"" + "00" + "\"} 00000000\n"))
	f.Add([]byte{})
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "j")
		os.WriteFile(p, data, 0o600)
		if j, err := OpenJournal(p); err == nil {
			j.Close()
		}
	})
}
