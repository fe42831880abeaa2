package shard

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/borgios/borghui/internal/dirs"
)

// Blob files: dir/blobs/ab/cd/<64 hex>, where ab and cd are the id's first
// two bytes. A blob is written to a temp file in its own folder, fsynced,
// renamed over its name and the folder fsynced, so a blob file is either
// absent or complete.

const (
	blobsDir      = "blobs"
	quarantineDir = "quarantine"
	tmpPrefix     = ".tmp-"
)

func (s *Store) blobPath(id ID) string {
	h := id.String()
	return filepath.Join(s.dir, blobsDir, h[0:2], h[2:4], h)
}

// writeBlob stores blob under id atomically and durably.
func (s *Store) writeBlob(id ID, blob []byte) error {
	final := s.blobPath(id)
	dir := filepath.Dir(final)
	if err := dirs.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("shard: blob folder: %w", err)
	}
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := filepath.Join(dir, tmpPrefix+id.String()[:16]+"-"+hex.EncodeToString(rnd[:]))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("shard: blob temp file: %w", err)
	}
	_, err = f.Write(blob)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, final)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("shard: writing blob %s: %w", id, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("shard: syncing blob folder: %w", err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// readBlob reads a blob file and checks its hash. A file that fails the
// check is moved to quarantine and ErrCorrupt returned; a missing file is
// ErrNotFound.
func (s *Store) readBlob(id ID) ([]byte, error) {
	path := s.blobPath(id)
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("shard: reading blob %s: %w", id, err)
	}
	if Sum(b) != id {
		s.quarantine(id, path)
		return nil, fmt.Errorf("%w: %s", ErrCorrupt, id)
	}
	return b, nil
}

// quarantine moves a corrupt blob file aside (never served, never deleted
// silently) and counts it.
func (s *Store) quarantine(id ID, path string) {
	s.corrupt.Add(1)
	q := filepath.Join(s.dir, quarantineDir)
	if err := dirs.MkdirAll(q, 0o700); err == nil {
		dst := filepath.Join(q, id.String()+"-"+strconv.FormatInt(time.Now().UnixNano(), 10))
		if os.Rename(path, dst) == nil {
			syncDir(filepath.Dir(path))
			return
		}
	}
	os.Remove(path)
}

func (s *Store) removeBlob(id ID) error {
	path := s.blobPath(id)
	if err := os.Remove(path); err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return fmt.Errorf("shard: removing blob %s: %w", id, err)
	}
	return syncDir(filepath.Dir(path))
}

func (s *Store) blobExists(id ID) bool {
	_, err := os.Stat(s.blobPath(id))
	return err == nil
}
