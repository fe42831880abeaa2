package files

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/borgios/borghui/internal/seglog"
)

// A Journal records the progress of one upload or download on the stick, so
// that after a crash or a pulled stick the transfer continues without
// re-sending finished chunks. It is an append-only log of lines
// (internal/seglog): a header line, then one line per finished chunk (its
// index, shard ID, sealed size and the holders that acknowledged it). Every
// line ends with its CRC-32C; a torn or damaged tail (the crash cut a
// write) is skipped on open, so a chunk counts as finished only if its whole
// line reached the disk (each append is fsync'd before the chunk is
// reported done). Each resume appends to a new segment file beside the
// first, so no file is extended after it was reopened.
type Journal struct {
	path   string
	log    *seglog.Log
	Header JournalHeader
	done   map[uint32]JournalChunk
}

// JournalHeader says what is being transferred.
type JournalHeader struct {
	Kind      string `json:"kind"` // "upload" or "download"
	File      HexID  `json:"file"`
	Name      string `json:"name"`
	Size      int64  `json:"size"`
	ChunkSize int    `json:"chunkSize"`
	Source    string `json:"source,omitempty"` // where the bytes come from (upload)
	ModTime   int64  `json:"modTime,omitempty"`
	Data      int    `json:"data,omitempty"`   // erasure data chunks per group (upload); 0 = copies
	Parity    int    `json:"parity,omitempty"` // erasure parity shards per group
}

// JournalChunk is one finished chunk. With erasure coding the chunks of a
// group are recorded once the whole group (parity included) is stored, and
// the group's first chunk carries the parity shards.
type JournalChunk struct {
	Index   uint32     `json:"i"`
	ID      HexID      `json:"id"`
	Size    int        `json:"size"`
	Holders []string   `json:"holders,omitempty"`
	Parity  []ChunkRef `json:"parity,omitempty"`
}

// maxJournalLine bounds one line (a chunk with many holders).
const maxJournalLine = 64 << 10

// CreateJournal starts a journal at path; an existing one is an error
// (resume it with OpenJournal).
func CreateJournal(path string, h JournalHeader) (*Journal, error) {
	l, err := seglog.Create(path)
	if err != nil {
		return nil, fmt.Errorf("files: journal: %w", err)
	}
	j := &Journal{path: path, log: l, Header: h, done: map[uint32]JournalChunk{}}
	if err := j.appendLine(h); err != nil {
		l.Remove()
		return nil, err
	}
	return j, nil
}

// OpenJournal reads a journal and readies it for more appends. A torn
// tail is skipped, never truncated, and the appends go to a new segment
// file (see internal/seglog: on some FAT drivers a reopened file must not
// be extended).
func OpenJournal(path string) (*Journal, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("files: journal: %w", err)
	}
	l, recs, err := seglog.Open(path)
	if err != nil {
		return nil, fmt.Errorf("files: journal: %w", err)
	}
	j := &Journal{path: path, log: l, done: map[uint32]JournalChunk{}}
	if len(recs) == 0 {
		l.Close()
		return nil, fmt.Errorf("files: %s has no readable header", path)
	}
	if err := json.Unmarshal(recs[0], &j.Header); err != nil || (j.Header.Kind != "upload" && j.Header.Kind != "download") {
		l.Close()
		return nil, fmt.Errorf("files: %s is not a transfer journal", path)
	}
	for _, body := range recs[1:] {
		var c JournalChunk
		if err := json.Unmarshal(body, &c); err != nil || c.Index >= Chunks(j.Header.Size, max(1, j.Header.ChunkSize)) {
			continue
		}
		j.done[c.Index] = c
	}
	return j, nil
}

func (j *Journal) appendLine(v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if len(body) > maxJournalLine-16 {
		return errors.New("files: journal line too long")
	}
	if err := j.log.Append(body); err != nil {
		return fmt.Errorf("files: journal: %w", err)
	}
	return nil
}

// Done records a finished chunk durably.
func (j *Journal) Done(c JournalChunk) error {
	if err := j.appendLine(c); err != nil {
		return err
	}
	j.done[c.Index] = c
	return nil
}

// Finished returns the finished chunk with this index, if any.
func (j *Journal) Finished(i uint32) (JournalChunk, bool) {
	c, ok := j.done[i]
	return c, ok
}

// Count is how many chunks are finished.
func (j *Journal) Count() int { return len(j.done) }

// Close closes the journal, keeping it for a later resume.
func (j *Journal) Close() error { return j.log.Close() }

// Remove closes and deletes the journal: the transfer is complete.
func (j *Journal) Remove() error { return j.log.Remove() }

// RemoveJournal deletes the journal at path (every segment of it).
func RemoveJournal(path string) error { return seglog.Remove(path) }
