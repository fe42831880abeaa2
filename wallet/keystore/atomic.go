package keystore

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
)

// Names beside FileName in the data folder (all lower-case).
const (
	oldSuffix   = ".old"                   // identity.keystore.old: the previous file during a fallback replace
	tempPattern = FileName + ".*" + tmpExt // identity.keystore.<digits>.tmp
	tmpExt      = ".tmp"
)

// Process-wide locking. Stores are cheap values, so the state lives here.
var (
	// opMu serialises the write operations (Create, Replace,
	// ChangePassphrase) from check to commit.
	opMu sync.Mutex
	// fsMu guards short directory-state steps: recovery, the commit
	// renames, reading the current file, and inflight.
	fsMu sync.Mutex
	// inflight holds the temp files this process is writing right now;
	// recovery never deletes them.
	inflight = map[string]bool{}
)

// Seams for tests that simulate FAT rename-over failures and full disks.
var (
	renameFile = os.Rename
	writeFile  = func(f *os.File, b []byte) error { _, err := f.Write(b); return err }
)

// readCapped reads at most maxFileSize+1 bytes of path, so a huge foreign
// file cannot exhaust memory (parse rejects anything longer than the cap).
func readCapped(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxFileSize+1))
}

// writeTemp writes data to a new, uniquely named temp file in dir (mode
// 0600 from os.CreateTemp where the filesystem keeps modes),
// fsyncs and closes it, reads it back and runs verify on what was read.
// On success the temp file is left for commit; on any failure it is removed.
func writeTemp(dir string, data []byte, verify func(readBack []byte) error) (string, error) {
	fsMu.Lock()
	f, err := os.CreateTemp(dir, tempPattern)
	if err == nil {
		inflight[f.Name()] = true
	}
	fsMu.Unlock()
	if err != nil {
		return "", writeErr(err)
	}
	tmp := f.Name()
	if err := fillTemp(f, data, verify); err != nil {
		f.Close() // may already be closed; the error is irrelevant then
		discardTemp(tmp)
		return "", err
	}
	return tmp, nil
}

// fillTemp writes, syncs, closes and verifies an open temp file.
func fillTemp(f *os.File, data []byte, verify func(readBack []byte) error) error {
	if err := writeFile(f, data); err != nil {
		return writeErr(err)
	}
	if err := f.Sync(); err != nil {
		return writeErr(err)
	}
	if err := f.Close(); err != nil {
		return writeErr(err)
	}
	back, err := readCapped(f.Name())
	if err != nil {
		return fmt.Errorf("%w: read back %s: %v", ErrVerifyFailed, f.Name(), err)
	}
	return verify(back)
}

// discardTemp removes a temp file and forgets it.
func discardTemp(tmp string) {
	os.Remove(tmp)
	fsMu.Lock()
	delete(inflight, tmp)
	fsMu.Unlock()
}

// commitLocked moves tmp over target and fsyncs the folder. The caller holds
// fsMu. On failure tmp is removed and target is as before.
//
// Where renaming over an existing file fails (some FAT/exFAT drivers), it
// falls back to: target → target.old, tmp → target, delete target.old; if
// the second step fails, target.old is renamed back. A crash inside that
// window is repaired by recoverLocked.
func commitLocked(tmp, target string) error {
	defer delete(inflight, tmp)
	err := renameFile(tmp, target)
	if err != nil {
		if _, serr := os.Lstat(target); serr != nil {
			os.Remove(tmp)
			return writeErr(err) // the target does not exist: not a rename-over problem
		}
		old := target + oldSuffix
		if err2 := renameFile(target, old); err2 != nil {
			os.Remove(tmp)
			return writeErr(err)
		}
		if err3 := renameFile(tmp, target); err3 != nil {
			os.Remove(tmp)
			if err4 := renameFile(old, target); err4 != nil {
				// The previous file survives as target.old; recovery restores it.
				return fmt.Errorf("keystore: replace %s failed and could not roll back: %w", target, errors.Join(writeErr(err3), err4))
			}
			return writeErr(err3)
		}
		os.Remove(old) // a leftover is removed by recoverLocked (target is intact)
	}
	if err := syncDir(filepath.Dir(target)); err != nil {
		// The new file is in place; only its durability is in doubt.
		return fmt.Errorf("keystore: new file is in place but the folder could not be synced: %w", writeErr(err))
	}
	return nil
}

// syncDir fsyncs a folder so a rename or create in it is durable. Windows
// cannot (and does not need to); filesystems that refuse are tolerated.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, errors.ErrUnsupported) && !errors.Is(err, syscall.EINVAL) {
		return err
	}
	return nil
}

// intact reports whether path holds a BorgHUI keystore whose frame and
// checksum are sound (a newer version counts: its checksum verified).
func intact(path string) bool {
	b, err := readCapped(path)
	if err != nil {
		return false
	}
	_, err = parse(b, fileLimits)
	return err == nil || errors.Is(err, ErrUnsupportedVersion)
}

// recoverLocked repairs what an interrupted write can leave behind and
// returns the path holding the current keystore and whether one exists.
// The caller holds fsMu. Rules (see doc.go):
//
//  1. identity.keystore.*.tmp not written by this process right now: never
//     committed, deleted.
//  2. .old present and the target intact: the replace completed; .old deleted.
//  3. .old present, intact, and the target missing or damaged: the replace
//     did not complete; a damaged target is moved to backups/, .old is
//     renamed back to the target.
//  4. .old present and damaged: nothing is touched (the target, if any, wins).
//
// Repairs are best effort: on a read-only stick the current file is simply
// read from where it is (possibly .old).
func recoverLocked(dir string) (current string, exists bool, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", false, folderErr(err)
	}
	for _, e := range entries {
		name := strings.ToLower(e.Name())
		if strings.HasPrefix(name, FileName+".") && strings.HasSuffix(name, tmpExt) && !e.IsDir() {
			p := filepath.Join(dir, e.Name())
			if !inflight[p] {
				os.Remove(p)
			}
		}
	}
	target := filepath.Join(dir, FileName)
	old := target + oldSuffix
	haveTarget, err := present(target)
	if err != nil {
		return "", false, err
	}
	haveOld, err := present(old)
	if err != nil {
		return "", false, err
	}
	switch {
	case !haveOld:
		return target, haveTarget, nil
	case haveTarget && intact(target):
		os.Remove(old)
		return target, true, nil
	case !intact(old):
		if haveTarget {
			return target, true, nil
		}
		return old, true, nil
	}
	if haveTarget {
		if _, err := moveToBackups(dir, target, "-damaged"); err != nil {
			return old, true, nil
		}
	}
	if err := renameFile(old, target); err != nil {
		return old, true, nil
	}
	syncDir(dir)
	return target, true, nil
}

// present reports whether path exists.
func present(path string) (bool, error) {
	_, err := os.Lstat(path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	default:
		return false, fmt.Errorf("keystore: %w", err)
	}
}
