package mail

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// plainOf decrypts a prekey store file with id's key.
func plainOf(t *testing.T, path string, id Deriver) []byte {
	t.Helper()
	key := make([]byte, 32)
	if err := id.DeriveKey(LabelPrekeys, []byte("v1"), key); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := openFile(key, prekeyMagic, prekeyLabel, b)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPrekeyStoreDestroyRemovesFromFile(t *testing.T) {
	bob := newIdentity(t)
	path := filepath.Join(t.TempDir(), "prekeys.bin")
	ps, err := OpenPrekeyStore(path, bob)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("an empty store wrote a file")
	}
	pks, err := ps.Generate(5, time.Now())
	if err != nil || len(pks) != 5 {
		t.Fatal(pks, err)
	}
	victim := pks[2].ID
	k, err := ps.Private(victim)
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := k.Bytes()
	if !bytes.Contains(plainOf(t, path, bob), secret) {
		t.Fatal("the private key is not in the file")
	}
	raw, _ := os.ReadFile(path)
	if bytes.Contains(raw, secret) {
		t.Fatal("the private key is in the file in clear")
	}
	if err := ps.Destroy(victim, PrekeyID{9}); err != nil {
		t.Fatal(err)
	}
	if ps.Has(victim) || ps.Len() != 4 {
		t.Fatal("still held in memory")
	}
	if _, err := ps.Private(victim); !errors.Is(err, ErrNoKey) {
		t.Fatalf("Private after Destroy: %v", err)
	}
	p := plainOf(t, path, bob)
	if bytes.Contains(p, secret) || bytes.Contains(p, victim[:]) {
		t.Fatal("the destroyed key is still in the file")
	}
	ps.Close()
	ps2, err := OpenPrekeyStore(path, bob)
	if err != nil {
		t.Fatal(err)
	}
	defer ps2.Close()
	if ps2.Len() != 4 || ps2.Has(victim) {
		t.Fatalf("reopened: %d keys", ps2.Len())
	}
	for _, pk := range pks {
		if pk.ID == victim {
			continue
		}
		pub, err := ps2.Public(pk.ID)
		if err != nil || !bytes.Equal(pub.Key, pk.Key) {
			t.Fatalf("prekey %s changed: %v", pk.ID, err)
		}
	}
	// Prune by age.
	n, err := ps2.Prune(func(id PrekeyID, created time.Time) bool { return id == pks[0].ID })
	if err != nil || n != 1 || ps2.Has(pks[0].ID) {
		t.Fatal(n, err)
	}
}

func TestPrekeyStoreAtomicity(t *testing.T) {
	bob, eve := newIdentity(t), newIdentity(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "prekeys.bin")
	ps, err := OpenPrekeyStore(path, bob)
	if err != nil {
		t.Fatal(err)
	}
	pks, _ := ps.Generate(3, time.Now())
	before, _ := os.ReadFile(path)
	ps.Close()

	t.Run("a crash's temp file is ignored and removed", func(t *testing.T) {
		tmp := filepath.Join(dir, ".prekeys.bin.tmp-12345")
		if err := os.WriteFile(tmp, before[:len(before)/2], 0o600); err != nil {
			t.Fatal(err)
		}
		ps, err := OpenPrekeyStore(path, bob)
		if err != nil {
			t.Fatal(err)
		}
		defer ps.Close()
		if ps.Len() != 3 {
			t.Fatalf("%d keys", ps.Len())
		}
		if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
			t.Fatal("temp file left")
		}
	})
	t.Run("a failed rename keeps the keys", func(t *testing.T) {
		// Works as root too: the rename over a non-empty folder fails.
		p := filepath.Join(t.TempDir(), "p.bin")
		ps, err := OpenPrekeyStore(p, bob)
		if err != nil {
			t.Fatal(err)
		}
		defer ps.Close()
		got, _ := ps.Generate(2, time.Now())
		os.Remove(p)
		os.MkdirAll(filepath.Join(p, "x"), 0o700)
		if err := ps.Destroy(got[0].ID); err == nil {
			t.Fatal("Destroy succeeded without a file")
		}
		if !ps.Has(got[0].ID) {
			t.Fatal("the key went from memory although no file was written")
		}
		if m, _ := filepath.Glob(filepath.Join(filepath.Dir(p), ".*.tmp-*")); len(m) != 0 {
			t.Fatalf("temp files left: %v", m)
		}
	})
	t.Run("a failed write changes nothing", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root ignores folder permissions")
		}
		ps, err := OpenPrekeyStore(path, bob)
		if err != nil {
			t.Fatal(err)
		}
		defer ps.Close()
		if err := os.Chmod(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		err = ps.Destroy(pks[0].ID)
		os.Chmod(dir, 0o700)
		if err == nil {
			t.Fatal("Destroy in a read-only folder succeeded")
		}
		if !ps.Has(pks[0].ID) {
			t.Fatal("the key went from memory although the file kept it")
		}
		after, _ := os.ReadFile(path)
		if !bytes.Equal(after, before) {
			t.Fatal("the file changed")
		}
	})
	t.Run("torn or damaged file refused", func(t *testing.T) {
		for _, bad := range [][]byte{before[:len(before)-1], append(bytes.Clone(before), 0), {}} {
			p := filepath.Join(t.TempDir(), "p.bin")
			os.WriteFile(p, bad, 0o600)
			if _, err := OpenPrekeyStore(p, bob); err == nil {
				t.Fatal("damaged file opened")
			}
		}
	})
	t.Run("another identity cannot open it", func(t *testing.T) {
		if _, err := OpenPrekeyStore(path, eve); !errors.Is(err, ErrOpen) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("concurrent changes", func(t *testing.T) {
		ps, err := OpenPrekeyStore(path, bob)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got, err := ps.Generate(2, time.Now())
				if err != nil {
					t.Error(err)
					return
				}
				if err := ps.Destroy(got[0].ID); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		n := ps.Len()
		ps.Close()
		ps2, err := OpenPrekeyStore(path, bob)
		if err != nil {
			t.Fatal(err)
		}
		defer ps2.Close()
		if n != 3+4 || ps2.Len() != n {
			t.Fatalf("%d in memory, %d in the file", n, ps2.Len())
		}
	})
}
