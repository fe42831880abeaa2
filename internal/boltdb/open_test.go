package boltdb

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/borgios/borghui/internal/fattest"
)

func TestOpenWritesAndReadsBack(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.db")
	db, err := Open(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if db.NoGrowSync {
		t.Error("a local folder that can grow files was opened with NoGrowSync")
	}
	put(t, db, 2000)
	db.Close()
	db, err = Open(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	check(t, db, 2000)
	if left, _ := filepath.Glob(filepath.Join(dir, ".grow-probe-*")); len(left) > 0 {
		t.Errorf("probe files left: %v", left)
	}
}

func TestCanGrowMissingFolder(t *testing.T) {
	if _, err := CanGrow(filepath.Join(t.TempDir(), "gone")); err == nil {
		t.Fatal("a missing folder was probed without error")
	}
}

// TestOpenOnFusefat: on a real FAT image mounted with fusefat, which
// cannot grow files in place, Open refuses with ErrCannotGrow and leaves
// nothing behind.
func TestOpenOnFusefat(t *testing.T) {
	mnt := fattest.New(t, 64<<20).Dir
	_, err := Open(filepath.Join(mnt, "cells.db"), time.Second)
	if !errors.Is(err, ErrCannotGrow) {
		t.Fatalf("Open on fusefat: %v, want ErrCannotGrow", err)
	}
	if left, _ := os.ReadDir(mnt); len(left) > 1 { // the volume label entry
		t.Fatalf("files left: %v", left)
	}
}

func put(t *testing.T, db *bolt.DB, n int) {
	t.Helper()
	for i := 0; i < n; i += 500 {
		err := db.Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists([]byte("b"))
			if err != nil {
				return err
			}
			for k := i; k < i+500 && k < n; k++ {
				if err := b.Put(key(k), make([]byte, 200)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func check(t *testing.T, db *bolt.DB, n int) {
	t.Helper()
	err := db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("b"))
		if b == nil {
			t.Fatal("bucket lost")
		}
		if got := b.Stats().KeyN; got != n {
			t.Fatalf("%d keys read back, want %d", got, n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func key(i int) []byte { return []byte{byte(i >> 16), byte(i >> 8), byte(i)} }
