package keystore

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// fatRename simulates a filesystem where renaming over an existing file
// fails; failTmpToTarget additionally fails the fallback's second step.
func fatRename(t *testing.T, failTmpToTarget bool) {
	t.Helper()
	t.Cleanup(func() { renameFile = os.Rename })
	renameFile = func(from, to string) error {
		if _, err := os.Lstat(to); err == nil {
			return &os.LinkError{Op: "rename", Old: from, New: to, Err: syscall.EEXIST}
		}
		if failTmpToTarget && strings.HasSuffix(from, tmpExt) {
			return &os.LinkError{Op: "rename", Old: from, New: to, Err: syscall.EIO}
		}
		return os.Rename(from, to)
	}
}

func TestRenameOverFallback(t *testing.T) {
	fatRename(t, false)
	s, _ := created(t)
	if _, err := s.Replace(newPayload, otherPass, newMeta); err != nil {
		t.Fatalf("Replace: %v", err)
	}
	if err := s.ChangePassphrase(otherPass, testPass); err != nil {
		t.Fatalf("ChangePassphrase: %v", err)
	}
	if p, _, err := s.Open(testPass); err != nil || !bytes.Equal(p, newPayload) {
		t.Fatalf("Open: %q, %v", p, err)
	}
	for _, name := range keys(snapshot(t, s.Dir)) {
		if strings.HasSuffix(name, oldSuffix) || strings.HasSuffix(name, tmpExt) {
			t.Errorf("leftover %s", name)
		}
	}
}

// TestRenameFallbackRollback: the fallback's second rename fails; the
// previous file is put back, byte-identical, and no temp or .old remains.
func TestRenameFallbackRollback(t *testing.T) {
	s, _ := created(t)
	before := snapshot(t, s.Dir)
	fatRename(t, true)
	if err := s.ChangePassphrase(testPass, otherPass); err == nil {
		t.Fatal("ChangePassphrase succeeded")
	}
	delete(before, BackupDir) // the verified backup is allowed to remain
	after := snapshot(t, s.Dir)
	for k := range after {
		if strings.HasPrefix(k, BackupDir) {
			delete(after, k)
		}
	}
	if len(after) != len(before) || after[FileName] != before[FileName] {
		t.Errorf("folder after failed replace: %v", keys(after))
	}
	if p, _, err := s.Open(testPass); err != nil || !bytes.Equal(p, testPayload) {
		t.Errorf("old file no longer opens: %v", err)
	}
}

// TestRecovery covers each crash state of the write protocol.
func TestRecovery(t *testing.T) {
	oldFile := validFile(t)
	newFile, err := seal(newPayload, otherPass, newMeta, TestParams)
	if err != nil {
		t.Fatal(err)
	}
	tmp := FileName + ".123456.tmp"
	cases := []struct {
		name     string
		files    map[string][]byte
		pass     []byte
		want     []byte // payload Open must return; nil: wantErr
		wantErr  error
		wantLeft []string // names left in the folder (backups/ listed by prefix)
	}{
		{"crash before commit", map[string][]byte{FileName: oldFile, tmp: newFile}, testPass, testPayload, nil, []string{FileName}},
		{"crash in Create before commit", map[string][]byte{tmp: newFile}, testPass, nil, ErrNotFound, nil},
		{"crash after target moved to .old", map[string][]byte{FileName + oldSuffix: oldFile, tmp: newFile}, testPass, testPayload, nil, []string{FileName}},
		{"crash before .old removed", map[string][]byte{FileName: newFile, FileName + oldSuffix: oldFile}, otherPass, newPayload, nil, []string{FileName}},
		{"new target damaged, .old intact", map[string][]byte{FileName: newFile[:40], FileName + oldSuffix: oldFile}, testPass, testPayload, nil, []string{BackupDir, BackupDir + "/", FileName}},
		{".old damaged, no target", map[string][]byte{FileName + oldSuffix: oldFile[:40]}, testPass, nil, ErrCorrupt, []string{FileName + oldSuffix}},
		{".old damaged, target intact", map[string][]byte{FileName: newFile, FileName + oldSuffix: oldFile[:40]}, otherPass, newPayload, nil, []string{FileName}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newStore(t)
			for name, b := range c.files {
				if err := os.WriteFile(filepath.Join(s.Dir, name), b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			p, _, err := s.Open(c.pass)
			if c.want != nil && (err != nil || !bytes.Equal(p, c.want)) || c.want == nil && !errors.Is(err, c.wantErr) {
				t.Errorf("Open = %q, %v", p, err)
			}
			left := keys(snapshot(t, s.Dir))[1:]
			if len(left) != len(c.wantLeft) {
				t.Fatalf("left %v, want %v", left, c.wantLeft)
			}
			for i := range left {
				if !strings.HasPrefix(left[i], c.wantLeft[i]) {
					t.Errorf("left %v, want %v", left, c.wantLeft)
				}
			}
			if c.name == "new target damaged, .old intact" {
				b, _ := os.ReadFile(filepath.Join(s.Dir, left[1]))
				if !strings.HasSuffix(left[1], "-damaged.keystore") || !bytes.Equal(b, newFile[:40]) {
					t.Errorf("damaged file not kept in backups: %s", left[1])
				}
			}
		})
	}
}

// TestRecoveryKeepsInflightTemp: a reader's recovery never deletes a temp
// file this process is writing.
func TestRecoveryKeepsInflightTemp(t *testing.T) {
	s, _ := created(t)
	tmp := filepath.Join(s.Dir, FileName+".999.tmp")
	os.WriteFile(tmp, []byte("in progress"), 0o600)
	fsMu.Lock()
	inflight[tmp] = true
	fsMu.Unlock()
	defer discardTemp(tmp)
	if _, err := s.ReadMeta(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tmp); err != nil {
		t.Errorf("in-flight temp removed: %v", err)
	}
}

// TestDiskFull: ENOSPC while writing → ErrDiskFull, temp removed, the
// existing file byte-identical.
func TestDiskFull(t *testing.T) {
	t.Cleanup(func() { writeFile = func(f *os.File, b []byte) error { _, err := f.Write(b); return err } })
	writeFile = func(f *os.File, b []byte) error {
		f.Write(b[:len(b)/2])
		return &fs.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
	}
	s := newStore(t)
	err := s.Create(testPayload, testPass, testMeta)
	if !errors.Is(err, ErrDiskFull) || !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("Create: %v", err)
	} else {
		checkUserMessage(t, err)
	}
	assertSnapshot(t, s.Dir, map[string]string{".": "<dir>"})

	old := validFile(t)
	os.WriteFile(s.path(), old, 0o600)
	if err := s.ChangePassphrase(testPass, otherPass); !errors.Is(err, ErrDiskFull) {
		t.Errorf("ChangePassphrase: %v", err)
	}
	if b, _ := os.ReadFile(s.path()); !bytes.Equal(b, old) {
		t.Error("existing file changed")
	}
	for _, name := range keys(snapshot(t, s.Dir)) {
		if strings.HasSuffix(name, tmpExt) {
			t.Errorf("temp file left: %s", name)
		}
	}
}

// TestVerifyBeforeRename: a write that reads back differently (a failing
// stick) is never renamed into place.
func TestVerifyBeforeRename(t *testing.T) {
	t.Cleanup(func() { writeFile = func(f *os.File, b []byte) error { _, err := f.Write(b); return err } })
	writeFile = func(f *os.File, b []byte) error {
		_, err := f.Write(flip(b, len(b)/2))
		return err
	}
	s := newStore(t)
	err := s.Create(testPayload, testPass, testMeta)
	if !errors.Is(err, ErrVerifyFailed) || errors.Is(err, ErrCorrupt) {
		t.Errorf("Create: %v, want ErrVerifyFailed only", err)
	}
	assertSnapshot(t, s.Dir, map[string]string{".": "<dir>"})
}
