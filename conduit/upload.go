package conduit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/borgios/borghui/conduit/drive"
	"github.com/borgios/borghui/conduit/files"
	"github.com/borgios/borghui/internal/dirs"
)

// Upload stores size bytes from r as the file name in the folder parent.
// When modTime (the file's modification time, as the browser reports it)
// is known, the upload keeps a journal on the stick: if it is cut short —
// the stick pulled, the network lost, the tab closed — uploading the same
// file again (same folder, name, size and modification time) sends only
// the chunks the network does not have yet. already is how many of the
// file's bytes an earlier try had stored.
func (s *Session) Upload(ctx context.Context, parent drive.EntryID, name, mime string, r io.Reader, size, modTime int64, progress func(files.Progress)) (e drive.Entry, already int64, err error) {
	if s.journals == "" || modTime <= 0 {
		e, err = s.Drive.Upload(ctx, parent, name, mime, r, size, nil, progress)
		return e, 0, err
	}
	if err := dirs.MkdirAll(s.journals, 0o700); err != nil {
		return drive.Entry{}, 0, fmt.Errorf("conduit: the journals folder: %w", err)
	}
	key := sha256.Sum256(fmt.Appendf(nil, "upload/v1\x00%s\x00%s\x00%s\x00%d\x00%d", s.key.MUID(), parent, name, size, modTime))
	path := filepath.Join(s.journals, hex.EncodeToString(key[:16])+".upload")
	j, err := files.OpenJournal(path)
	switch {
	case err == nil && j.Header.Size == size && j.Header.ChunkSize == s.chunkSize():
		already = min(size, int64(j.Count())*int64(j.Header.ChunkSize))
	case err == nil || !errors.Is(err, os.ErrNotExist):
		// Damaged, or made with another chunk size: start over.
		if j != nil {
			j.Close()
		}
		_ = files.RemoveJournal(path)
		fallthrough
	default:
		if j, err = s.Files.CreateUploadJournal(path, name, "browser", size, modTime); err != nil {
			return drive.Entry{}, 0, err
		}
	}
	e, err = s.Drive.Upload(ctx, parent, name, mime, r, size, j, progress)
	if err != nil {
		j.Close() // kept for the next try (Drive.Upload removes it if it must not be resumed)
		return e, already, err
	}
	_ = j.Remove()
	return e, already, nil
}

func (s *Session) chunkSize() int {
	if s.Files.ChunkSize > 0 {
		return s.Files.ChunkSize
	}
	return files.DefaultChunkSize
}
