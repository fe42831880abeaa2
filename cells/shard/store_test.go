package shard

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const chunk = 1 << 20

var (
	alice = "04" + strings.Repeat("a1", 64)
	bob   = "04" + strings.Repeat("b2", 64)
)

func randBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func openTestStore(t *testing.T, dir string, quota int64) *Store {
	t.Helper()
	s, err := OpenStore(StoreConfig{Dir: dir, Quota: quota})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStoreRoundTrip(t *testing.T) {
	s := openTestStore(t, t.TempDir(), 0)
	for _, n := range []int{0, 1, chunk - 1, chunk, chunk + 1, 3 * chunk} {
		blob := randBytes(t, n)
		id := Sum(blob)
		if _, err := s.Put(id, []string{alice}, blob); err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		got, m, err := s.Get(id)
		if err != nil || !bytes.Equal(got, blob) || m.Size != int64(n) {
			t.Fatalf("%d bytes: got %d bytes, meta %+v, %v", n, len(got), m, err)
		}
	}
}

func TestStoreRefusals(t *testing.T) {
	blob := randBytes(t, 1000)
	tests := []struct {
		name  string
		quota int64
		id    ID
		want  error
	}{
		{"wrong hash", 0, Sum([]byte("something else")), ErrHashMismatch},
		{"over quota", 999, Sum(blob), ErrQuota},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openTestStore(t, t.TempDir(), tc.quota)
			if _, err := s.Put(tc.id, []string{alice}, blob); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if s.Has(tc.id) || s.Usage(alice) != 0 || s.Stats().Shards != 0 {
				t.Fatal("a refused put left something behind")
			}
		})
	}
}

func TestStoreQuotaCountsEveryShard(t *testing.T) {
	s := openTestStore(t, t.TempDir(), 2500)
	for i, want := range []error{nil, nil, ErrQuota} {
		blob := randBytes(t, 1000)
		if _, err := s.Put(Sum(blob), []string{alice}, blob); !errors.Is(err, want) {
			t.Fatalf("put %d: %v, want %v", i, err, want)
		}
	}
	if got := s.Usage(alice); got != 2000 {
		t.Fatalf("usage %d, want 2000", got)
	}
	blob := randBytes(t, 1000) // bob has his own quota
	if _, err := s.Put(Sum(blob), []string{bob}, blob); err != nil {
		t.Fatal(err)
	}
}

func TestStoreIdempotentAndRefcounted(t *testing.T) {
	s := openTestStore(t, t.TempDir(), 0)
	blob := randBytes(t, 4096)
	id := Sum(blob)
	steps := []struct {
		owner     string
		wantAdded bool
		owners    int
	}{
		{alice, true, 1},
		{alice, false, 1}, // same owner again: no-op
		{bob, true, 2},    // second owner: a reference
		{bob, false, 2},
	}
	for i, st := range steps {
		added, err := s.Put(id, []string{st.owner}, blob)
		if err != nil || added != st.wantAdded {
			t.Fatalf("step %d: added %v, %v", i, added, err)
		}
		m, _ := s.Meta(id)
		if len(m.Owners) != st.owners {
			t.Fatalf("step %d: %d owners", i, len(m.Owners))
		}
	}
	if s.Usage(alice) != 4096 || s.Usage(bob) != 4096 {
		t.Fatalf("usage alice %d bob %d", s.Usage(alice), s.Usage(bob))
	}
	// A stranger cannot delete; nothing changes.
	stranger := "04" + strings.Repeat("cc", 64)
	if _, err := s.Release(id, stranger); !errors.Is(err, ErrNotOwner) {
		t.Fatalf("stranger delete: %v", err)
	}
	if m, _ := s.Meta(id); len(m.Owners) != 2 || !s.Verify(id) {
		t.Fatal("a refused delete changed the shard")
	}
	// Alice lets go: bob's reference keeps the blob.
	if rel, err := s.Release(id, alice); err != nil || rel {
		t.Fatalf("alice release: %v %v", rel, err)
	}
	if _, err := s.Release(id, alice); !errors.Is(err, ErrNotOwner) {
		t.Fatalf("second alice release: %v", err)
	}
	if n, _ := s.GC(); n != 0 || !s.Verify(id) {
		t.Fatal("blob still referenced by bob was collected")
	}
	// Bob lets go: the blob goes at the next collection.
	if rel, err := s.Release(id, bob); err != nil || !rel {
		t.Fatalf("bob release: %v %v", rel, err)
	}
	if s.Has(id) || s.Usage(bob) != 0 {
		t.Fatal("released shard still listed")
	}
	if _, err := os.Stat(s.blobPath(id)); err != nil {
		t.Fatal("blob gone before collection")
	}
	if n, err := s.GC(); n != 1 || err != nil {
		t.Fatalf("GC removed %d, %v", n, err)
	}
	if _, err := os.Stat(s.blobPath(id)); !os.IsNotExist(err) {
		t.Fatal("blob file still there after GC")
	}
}

func TestStoreCorruptBlobQuarantined(t *testing.T) {
	s := openTestStore(t, t.TempDir(), 0)
	blob := randBytes(t, chunk)
	id := Sum(blob)
	if _, err := s.Put(id, []string{alice}, blob); err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(blob)
	bad[12345] ^= 1
	if err := os.WriteFile(s.blobPath(id), bad, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Get(id); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("corrupt read: %v", err)
	}
	if s.Stats().Corrupt != 1 || s.Has(id) {
		t.Fatal("corruption not counted or file not quarantined")
	}
	q, _ := os.ReadDir(filepath.Join(s.dir, quarantineDir))
	if len(q) != 1 {
		t.Fatalf("%d quarantined files", len(q))
	}
	// A good copy (a repair push) restores it, owners intact.
	if _, err := s.Put(id, []string{alice}, blob); err != nil {
		t.Fatal(err)
	}
	if got, _, err := s.Get(id); err != nil || !bytes.Equal(got, blob) {
		t.Fatalf("after repair: %v", err)
	}
}

// TestStoreCrashRecovery reopens a store that was never closed cleanly
// (the handle is simply abandoned, as by kill -9; bbolt's lock is released
// by closing only the file) in the states a crash can leave.
func TestStoreCrashRecovery(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenStore(StoreConfig{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	acked := randBytes(t, chunk+1)
	if _, err := s.Put(Sum(acked), []string{alice}, acked); err != nil {
		t.Fatal(err)
	}
	// Crash between the blob's rename and the metadata commit.
	orphan := randBytes(t, 777)
	if err := s.writeBlob(Sum(orphan), orphan); err != nil {
		t.Fatal(err)
	}
	// A temp file of a write cut short.
	tmp := filepath.Join(filepath.Dir(s.blobPath(Sum(orphan))), tmpPrefix+"cut")
	os.WriteFile(tmp, orphan[:10], 0o600)
	// Metadata whose blob vanished (a disk that lost it).
	lost := randBytes(t, 500)
	if _, err := s.Put(Sum(lost), []string{bob}, lost); err != nil {
		t.Fatal(err)
	}
	os.Remove(s.blobPath(Sum(lost)))
	s.db.Close() // no GC, no clean shutdown step: only the lock goes

	s2 := openTestStore(t, dir, 0)
	if got, _, err := s2.Get(Sum(acked)); err != nil || !bytes.Equal(got, acked) {
		t.Fatalf("acknowledged shard lost: %v", err)
	}
	st := s2.Stats()
	if st.Orphans != 1 || st.DroppedMeta != 1 || st.Shards != 1 || s2.Usage(bob) != 0 {
		t.Fatalf("reconcile: %+v, bob usage %d", st, s2.Usage(bob))
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Fatal("temp file left")
	}
	if n, err := s2.GC(); n != 1 || err != nil {
		t.Fatalf("orphan GC removed %d, %v", n, err)
	}
	if _, err := os.Stat(s2.blobPath(Sum(orphan))); !os.IsNotExist(err) {
		t.Fatal("orphan still on disk")
	}
}

// TestStoreKeepsOnlyGivenBytes puts ciphertext-like blobs for named owners
// and scans every file under the blob folders: each is exactly one blob's
// bytes, and no owner key or plaintext marker appears in any.
func TestStoreKeepsOnlyGivenBytes(t *testing.T) {
	s := openTestStore(t, t.TempDir(), 0)
	marker := []byte("PLAINTEXT-MARKER-do-not-store")
	given := map[ID][]byte{}
	for i := range 20 {
		blob := randBytes(t, 100+i*1000) // stands for ciphertext
		given[Sum(blob)] = blob
		if _, err := s.Put(Sum(blob), []string{alice, bob}, blob); err != nil {
			t.Fatal(err)
		}
	}
	files := 0
	filepath.WalkDir(filepath.Join(s.dir, blobsDir), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		b, _ := os.ReadFile(p)
		id, perr := ParseID(d.Name())
		if perr != nil || !bytes.Equal(b, given[id]) {
			t.Errorf("%s is not exactly the bytes given", p)
		}
		for _, bad := range [][]byte{marker, []byte(alice), []byte(bob), []byte(alice[:20])} {
			if bytes.Contains(b, bad) {
				t.Errorf("%s contains %q", p, bad[:10])
			}
		}
		return nil
	})
	if files != len(given) {
		t.Fatalf("%d blob files, want %d", files, len(given))
	}
}
