package seglog

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// MaxRecord bounds one record's body; callers keep their own, smaller
// bounds.
const MaxRecord = 16 << 20

var (
	crcTable = crc32.MakeTable(crc32.Castagnoli)

	markSnapshot = []byte("#seglog-snapshot")
	markEnd      = []byte("#seglog-end")
)

var (
	// ErrTooLarge is returned for a body over MaxRecord or with a newline.
	ErrTooLarge = errors.New("seglog: record too large or not one line")
	// ErrReserved is returned for a body that is one of the log's own marks.
	ErrReserved = errors.New("seglog: record is reserved")
)

func isMark(b []byte) bool { return bytes.Equal(b, markSnapshot) || bytes.Equal(b, markEnd) }

// Log is an open log, ready for appends. It is not safe for concurrent
// use; callers serialise.
type Log struct {
	path string
	next int      // number of the next segment to create
	f    *os.File // the segment this open appends to; nil until the first append
	segs []int    // segments on disk, ascending
}

// Open reads the log at path (none yet is an empty log) and returns its
// records in order and the log, ready for appends.
func Open(path string) (*Log, [][]byte, error) {
	segs, err := segments(path)
	if err != nil {
		return nil, nil, err
	}
	l := &Log{path: path, segs: segs}
	if len(segs) > 0 {
		l.next = segs[len(segs)-1] + 1
	}
	// Start at the newest complete snapshot; older segments are what it
	// replaced (their deletion may not have finished).
	var all [][][]byte
	start := 0
	for i, n := range segs {
		data, err := os.ReadFile(l.name(n))
		if err != nil {
			return nil, nil, fmt.Errorf("seglog: %w", err)
		}
		recs := parse(data)
		if len(recs) > 0 && bytes.Equal(recs[0], markSnapshot) {
			if j := slices.IndexFunc(recs, func(r []byte) bool { return bytes.Equal(r, markEnd) }); j > 0 {
				start = i
				recs = slices.Delete(recs, j, j+1)[1:]
			} else {
				recs = nil // a snapshot cut short: what it would replace still stands
			}
		}
		// Marks elsewhere are not records (only Compact writes them).
		recs = slices.DeleteFunc(recs, isMark)
		all = append(all, recs)
	}
	var out [][]byte
	for _, recs := range all[start:] {
		out = append(out, recs...)
	}
	return l, out, nil
}

// Create starts a new log at path; an existing one is an error.
func Create(path string) (*Log, error) {
	segs, err := segments(path)
	if err != nil {
		return nil, err
	}
	if len(segs) > 0 {
		return nil, fmt.Errorf("seglog: %s: %w", path, os.ErrExist)
	}
	l := &Log{path: path}
	if err := l.startSegment(); err != nil {
		return nil, err
	}
	return l, nil
}

// Append writes one record and fsyncs it.
func (l *Log) Append(body []byte) error {
	if isMark(body) {
		return ErrReserved
	}
	if l.f == nil {
		if err := l.startSegment(); err != nil {
			return err
		}
	}
	return l.write(body)
}

// Compact replaces the log's contents with bodies: they are written as a
// new snapshot segment, which appends then continue; the older segments
// are deleted once the snapshot is whole on disk.
func (l *Log) Compact(bodies [][]byte) error {
	if l.f != nil {
		if err := l.f.Close(); err != nil {
			return fmt.Errorf("seglog: %w", err)
		}
		l.f = nil
	}
	old := l.segs
	if err := l.startSegment(); err != nil {
		return err
	}
	for _, b := range slices.Concat([][]byte{markSnapshot}, bodies, [][]byte{markEnd}) {
		if err := l.write(b); err != nil {
			return err
		}
	}
	var errs []error
	for _, n := range old {
		if err := os.Remove(l.name(n)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	l.segs = l.segs[len(old):]
	if len(errs) > 0 {
		return fmt.Errorf("seglog: the snapshot is written; removing the old segments: %w", errors.Join(errs...))
	}
	return nil
}

// Segments is how many segment files the log has on disk.
func (l *Log) Segments() int { return len(l.segs) }

// Close closes the log; it stays on disk.
func (l *Log) Close() error {
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

// Remove closes and deletes the log.
func (l *Log) Remove() error {
	l.Close()
	return Remove(l.path)
}

// Remove deletes the log at path, every segment of it.
func Remove(path string) error {
	segs, err := segments(path)
	if err != nil {
		return err
	}
	var errs []error
	for _, n := range segs {
		if err := os.Remove(segName(path, n)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (l *Log) startSegment() error {
	f, err := os.OpenFile(l.name(l.next), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("seglog: %w", err)
	}
	l.f = f
	l.segs = append(l.segs, l.next)
	l.next++
	return nil
}

func (l *Log) write(body []byte) error {
	line, err := Frame(body)
	if err != nil {
		return err
	}
	if _, err := l.f.Write(line); err != nil {
		return fmt.Errorf("seglog: %w", err)
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("seglog: %w", err)
	}
	return nil
}

func (l *Log) name(n int) string { return segName(l.path, n) }

func segName(path string, n int) string {
	if n == 0 {
		return path
	}
	return path + "." + strconv.Itoa(n)
}

// segments lists the segment numbers of the log at path, ascending. The
// match is case-insensitive, as FAT's names are.
func segments(path string) ([]int, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("seglog: %w", err)
	}
	var segs []int
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || len(name) < len(base) || !strings.EqualFold(name[:len(base)], base) {
			continue
		}
		switch rest := name[len(base):]; {
		case rest == "":
			segs = append(segs, 0)
		case rest[0] == '.':
			if n, err := strconv.Atoi(rest[1:]); err == nil && n > 0 && strconv.Itoa(n) == rest[1:] {
				segs = append(segs, n)
			}
		}
	}
	slices.Sort(segs)
	return segs, nil
}

// Frame returns body as one checksummed line.
func Frame(body []byte) ([]byte, error) {
	if len(body) > MaxRecord || bytes.IndexByte(body, '\n') >= 0 {
		return nil, ErrTooLarge
	}
	crc := crc32.Checksum(body, crcTable)
	sum := []byte{byte(crc >> 24), byte(crc >> 16), byte(crc >> 8), byte(crc)}
	line := make([]byte, 0, len(body)+10)
	return append(append(append(line, body...), ' '), hex.EncodeToString(sum)+"\n"...), nil
}

// parse returns the bodies of data's whole, sound lines, stopping at the
// first that is not (a torn tail).
func parse(data []byte) [][]byte {
	var out [][]byte
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		body, ok := check(data[:i])
		if !ok {
			break
		}
		out = append(out, body)
		data = data[i+1:]
	}
	return out
}

func check(line []byte) ([]byte, bool) {
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
