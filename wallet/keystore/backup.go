package keystore

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// BackupDir is the folder inside Store.Dir that holds backup copies, named
// identity-<UTC time>.keystore, e.g. identity-20261121T153000Z.keystore
// (with -2, -3, … on a clash; no ':' so FAT accepts them).
const BackupDir = "backups"

const backupTimeLayout = "20060102T150405Z"

// now is the clock for Meta.Created defaults and backup names (a test seam).
var now = func() time.Time { return time.Now().UTC() }

// backupName returns the i-th candidate name (i ≥ 1) for a backup at t.
func backupName(t time.Time, tag string, i int) string {
	n := "identity-" + t.UTC().Format(backupTimeLayout) + tag
	if i > 1 {
		n += "-" + strconv.Itoa(i)
	}
	return n + ".keystore"
}

// ensureBackupDir creates dir/backups (0700) if missing; dir itself must exist.
func ensureBackupDir(dir string) (string, error) {
	bdir := filepath.Join(dir, BackupDir)
	if err := os.Mkdir(bdir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", writeErr(err)
	}
	return bdir, nil
}

// makeBackup copies src byte for byte to a new file in dir/backups, fsyncs
// it, reads it back and compares SHA-256 digests with what was read from
// src. It works for damaged or foreign files too (nothing is decoded). On
// failure the partial copy is removed.
func makeBackup(dir, src string) (string, error) {
	bdir, err := ensureBackupDir(dir)
	if err != nil {
		return "", err
	}
	in, err := os.Open(src)
	if err != nil {
		return "", fmt.Errorf("keystore: backup: %w", err)
	}
	defer in.Close()

	t := now()
	var out *os.File
	var path string
	for i := 1; ; i++ {
		path = filepath.Join(bdir, backupName(t, "", i))
		out, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) || i >= 1000 {
			return "", writeErr(err)
		}
	}
	if err := copyVerified(out, in); err != nil {
		out.Close()
		os.Remove(path)
		return "", err
	}
	if err := syncDir(bdir); err != nil {
		return "", writeErr(err)
	}
	if err := syncDir(dir); err != nil {
		return "", writeErr(err)
	}
	return path, nil
}

// copyVerified copies in to out, fsyncs and closes out, then re-reads it
// and compares its SHA-256 with the digest of what was read from in.
func copyVerified(out, in *os.File) error {
	h := sha256.New()
	if _, err := io.Copy(out, io.TeeReader(in, h)); err != nil {
		return writeErr(err)
	}
	if err := out.Sync(); err != nil {
		return writeErr(err)
	}
	if err := out.Close(); err != nil {
		return writeErr(err)
	}
	got, err := hashFile(out.Name())
	if err != nil {
		return fmt.Errorf("%w: read back backup %s: %v", ErrVerifyFailed, out.Name(), err)
	}
	if !bytes.Equal(got, h.Sum(nil)) {
		return fmt.Errorf("%w: backup %s differs from the original", ErrVerifyFailed, out.Name())
	}
	return nil
}

// moveToBackups renames src into dir/backups under a fresh backup name
// with tag (used by recovery to keep, not delete, a damaged file).
func moveToBackups(dir, src, tag string) (string, error) {
	bdir, err := ensureBackupDir(dir)
	if err != nil {
		return "", err
	}
	t := now()
	for i := 1; i < 1000; i++ {
		p := filepath.Join(bdir, backupName(t, tag, i))
		if ok, err := present(p); err != nil || ok {
			continue
		}
		if err := renameFile(src, p); err != nil {
			return "", writeErr(err)
		}
		return p, nil
	}
	return "", fmt.Errorf("keystore: no free backup name in %s", bdir)
}

func hashFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}
