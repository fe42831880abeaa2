package files

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"strconv"
)

// A Journal records the progress of one upload or download on the stick, so
// that after a crash or a pulled stick the transfer continues without
// re-sending finished chunks. It is an append-only text file: a header line,
// then one line per finished chunk (its index, shard ID, sealed size and the
// holders that acknowledged it). Every line ends with its CRC-32C; a torn or
// damaged tail (the crash cut a write) is dropped on open, so a chunk counts
// as finished only if its whole line reached the disk (each append is
// fsync'd before the chunk is reported done).
type Journal struct {
	path   string
	f      *os.File
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

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// maxJournalLine bounds one line (a chunk with many holders).
const maxJournalLine = 64 << 10

// CreateJournal starts a journal at path; an existing one is an error
// (resume it with OpenJournal).
func CreateJournal(path string, h JournalHeader) (*Journal, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("files: journal: %w", err)
	}
	j := &Journal{path: path, f: f, Header: h, done: map[uint32]JournalChunk{}}
	if err := j.appendLine(h); err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	return j, nil
}

// OpenJournal reads a journal and readies it for more appends, dropping a
// torn tail.
func OpenJournal(path string) (*Journal, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("files: journal: %w", err)
	}
	j := &Journal{path: path, done: map[uint32]JournalChunk{}}
	good := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 4096), maxJournalLine)
	first := true
	for sc.Scan() {
		line := sc.Bytes()
		body, ok := checkLine(line)
		if !ok {
			break
		}
		if first {
			if err := json.Unmarshal(body, &j.Header); err != nil || (j.Header.Kind != "upload" && j.Header.Kind != "download") {
				return nil, fmt.Errorf("files: %s is not a transfer journal", path)
			}
			first = false
		} else {
			var c JournalChunk
			if err := json.Unmarshal(body, &c); err != nil || c.Index >= Chunks(j.Header.Size, max(1, j.Header.ChunkSize)) {
				break
			}
			j.done[c.Index] = c
		}
		good += len(line) + 1
	}
	if first {
		return nil, fmt.Errorf("files: %s has no readable header", path)
	}
	if good < len(data) {
		if err := os.Truncate(path, int64(good)); err != nil {
			return nil, fmt.Errorf("files: journal: dropping a torn tail: %w", err)
		}
	}
	if j.f, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o600); err != nil {
		return nil, fmt.Errorf("files: journal: %w", err)
	}
	return j, nil
}

func checkLine(line []byte) ([]byte, bool) {
	i := bytes.LastIndexByte(line, ' ')
	if i < 0 || len(line)-i-1 != 8 {
		return nil, false
	}
	want, err := strconv.ParseUint(string(line[i+1:]), 16, 32)
	if err != nil || crc32.Checksum(line[:i], crcTable) != uint32(want) {
		return nil, false
	}
	return line[:i], true
}

func (j *Journal) appendLine(v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if len(body) > maxJournalLine-16 {
		return errors.New("files: journal line too long")
	}
	var sum [4]byte
	crc := crc32.Checksum(body, crcTable)
	sum[0], sum[1], sum[2], sum[3] = byte(crc>>24), byte(crc>>16), byte(crc>>8), byte(crc)
	line := append(append(append(body, ' '), hex.EncodeToString(sum[:])...), '\n')
	if _, err := j.f.Write(line); err != nil {
		return fmt.Errorf("files: journal: %w", err)
	}
	if err := j.f.Sync(); err != nil {
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
func (j *Journal) Close() error { return j.f.Close() }

// Remove closes and deletes the journal: the transfer is complete.
func (j *Journal) Remove() error {
	j.f.Close()
	if err := os.Remove(j.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
