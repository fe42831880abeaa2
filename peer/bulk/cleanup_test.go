package bulk

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCleanup(t *testing.T) {
	dir := t.TempDir()
	id := func(c byte) string { return strings.Repeat(string(c), 64) }
	old := time.Now().Add(-2 * time.Hour)
	write := func(name string, mtime time.Time) {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	write(id('a')+".part", old) // abandoned
	write(id('a')+".bitmap", old)
	write(id('a')+".bitmap.tmp", old)
	write(id('b')+".part", old) // partial old, bitmap fresh: still in use
	write(id('b')+".bitmap", time.Now())
	write(id('c')+".bitmap", time.Now()) // orphan bitmap
	write(id('d'), old)                  // completed file
	write(id('e')+".part", old)          // old but being served
	write("notes.part", old)             // not ours
	write(strings.ToUpper(id('f'))+".part", old)
	release, err := acquire(context.Background(), activeKey(dir, id('e')), func() {})
	if err != nil {
		t.Fatal(err)
	}
	defer release()

	r := &Receiver{Dir: dir}
	if err := r.Cleanup(time.Hour); err != nil {
		t.Fatal(err)
	}
	want := []string{id('b') + ".bitmap", id('b') + ".part", id('d'), id('e') + ".part", "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF.part", "notes.part"}
	slices.Sort(want)
	if got := dirFiles(t, dir); !slices.Equal(got, want) {
		t.Errorf("after Cleanup:\n got %v\nwant %v", got, want)
	}
	if err := (&Receiver{Dir: filepath.Join(dir, "missing")}).Cleanup(time.Hour); err != nil {
		t.Errorf("missing dir: %v", err)
	}
}

// TestCleanupAbandonedTransfer: a transfer cut off by its sender leaves a
// partial that Cleanup removes once old enough, and not before.
func TestCleanupAbandonedTransfer(t *testing.T) {
	checkGoroutines(t)
	dir := t.TempDir()
	data := randomData(30*testChunk, 13)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := &Receiver{Dir: dir}
	r.afterChunk = func(i int) {
		if i == 10 {
			cancel()
		}
	}
	s := newServer(t, r, true)
	if _, err := Send(ctx, s.dial, "abandoned", bytes.NewReader(data), int64(len(data)), fastOpts()); err == nil {
		t.Fatal("Send succeeded")
	}
	s.waitServes(1)
	if f := dirFiles(t, dir); len(f) != 2 {
		t.Fatalf("files %v, want a partial and its bitmap", f)
	}
	if err := r.Cleanup(time.Hour); err != nil || len(dirFiles(t, dir)) != 2 {
		t.Fatalf("fresh partial removed (%v)", err)
	}
	time.Sleep(20 * time.Millisecond)
	if err := r.Cleanup(10 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if f := dirFiles(t, dir); len(f) != 0 {
		t.Errorf("left behind: %v", f)
	}
}
