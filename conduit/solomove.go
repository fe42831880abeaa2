package conduit

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/borgios/borghui/conduit/drive"
	"github.com/borgios/borghui/internal/seglog"
)

// MoveLogFile, in the data folder, records what moved from the solo
// network to the network: the drive entries already copied (so an
// interrupted move goes on where it stopped and copies nothing twice) and
// whether the solo network was used since the last complete move.
const MoveLogFile = "solo-moved.log"

// Moved is what leaving the solo network carried to the network.
type Moved struct {
	Files   int   // files copied
	Folders int   // folders made
	Bytes   int64 // bytes of the files copied
	Letters int   // sent letters the solo cells held, sent again
	// Left is the solo wallet's balance, which stays behind: its shells
	// are not the network's ("" when it was empty or unknown).
	Left string
	Done time.Time // zero while the move is under way
}

// moveLine is one record of the move log.
type moveLine struct {
	Op   string        `json:"op"` // solo, start, done, complete
	Src  drive.EntryID `json:"src,omitempty"`
	Dst  drive.EntryID `json:"dst,omitempty"`
	Name string        `json:"name,omitempty"` // start: the name used on the network
}

// moveLog is the move log, open.
type moveLog struct {
	log     *seglog.Log
	pending bool                            // the solo network was used since the last complete move
	done    map[drive.EntryID]drive.EntryID // solo entry → network entry
	started map[drive.EntryID]string        // solo file → name given on the network
}

func openMoveLog(p string) (*moveLog, error) {
	l, recs, err := seglog.Open(p)
	if err != nil {
		return nil, fmt.Errorf("conduit: the solo move log: %w", err)
	}
	m := &moveLog{log: l, done: map[drive.EntryID]drive.EntryID{}, started: map[drive.EntryID]string{}}
	for _, b := range recs {
		var ml moveLine
		if json.Unmarshal(b, &ml) != nil {
			continue // not ours to judge; the entries it named are copied again if missing
		}
		switch ml.Op {
		case "solo":
			m.pending = true
		case "complete":
			m.pending = false
		case "start":
			m.started[ml.Src] = ml.Name
		case "done":
			m.done[ml.Src] = ml.Dst
		}
	}
	return m, nil
}

func (m *moveLog) add(ml moveLine) error {
	b, err := json.Marshal(ml)
	if err == nil {
		err = m.log.Append(b)
	}
	if err != nil {
		return fmt.Errorf("conduit: the solo move log: %w", err)
	}
	switch ml.Op {
	case "start":
		m.started[ml.Src] = ml.Name
	case "done":
		m.done[ml.Src] = ml.Dst
	}
	return nil
}

// complete records a finished move, keeping only the copied entries.
func (m *moveLog) complete() error {
	var bodies [][]byte
	for src, dst := range m.done {
		b, _ := json.Marshal(moveLine{Op: "done", Src: src, Dst: dst})
		bodies = append(bodies, b)
	}
	b, _ := json.Marshal(moveLine{Op: "complete"})
	if err := m.log.Compact(append(bodies, b)); err != nil {
		return fmt.Errorf("conduit: the solo move log: %w", err)
	}
	m.pending, m.started = false, map[drive.EntryID]string{}
	return nil
}

func (m *moveLog) Close() error { return m.log.Close() }

// markSolo records that the solo network holds data the network may not
// have: the next session on the network moves it.
func markSolo(dir string) error {
	m, err := openMoveLog(filepath.Join(dir, MoveLogFile))
	if err != nil {
		return err
	}
	defer m.Close()
	if m.pending {
		return nil
	}
	return m.add(moveLine{Op: "solo"})
}

// mover copies one drive into another.
type mover struct {
	from, to *Session
	log      *moveLog
	moved    *Moved
	progress func()
}

// copyFolder copies the entries of the solo folder src into the network
// folder dst, depth first, and reports how many entries it copied or made.
func (m *mover) copyFolder(ctx context.Context, src, dst drive.EntryID) (int, error) {
	entries, err := m.from.Drive.List(src)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		if e.Folder {
			d, made, err := m.folderFor(ctx, e, dst)
			if err != nil {
				return n, err
			}
			if made {
				n++
			}
			k, err := m.copyFolder(ctx, e.ID, d)
			n += k
			if err != nil {
				return n, err
			}
			continue
		}
		copied, err := m.copyFile(ctx, e, dst)
		if err != nil {
			return n, err
		}
		if copied {
			n++
		}
	}
	return n, nil
}

// folderFor finds or makes the network folder that mirrors the solo folder
// e in the network folder parent: the one made by an earlier move, else
// one of the same name, else a new one.
func (m *mover) folderFor(ctx context.Context, e drive.Entry, parent drive.EntryID) (drive.EntryID, bool, error) {
	if d, ok := m.log.done[e.ID]; ok {
		if got, err := m.to.Drive.Get(d); err == nil && got.Folder {
			return d, false, nil
		}
	}
	kids, err := m.to.Drive.List(parent)
	if err != nil {
		return "", false, err
	}
	name := e.Name
	for _, k := range kids {
		if k.Name == e.Name {
			if k.Folder {
				return k.ID, false, m.log.add(moveLine{Op: "done", Src: e.ID, Dst: k.ID})
			}
			name = freeName(kids, e.Name)
		}
	}
	made, err := m.to.Drive.Mkdir(ctx, parent, name)
	if err != nil {
		return "", false, err
	}
	m.moved.Folders++
	m.progress()
	return made.ID, true, m.log.add(moveLine{Op: "done", Src: e.ID, Dst: made.ID})
}

// copyFile copies the solo file e into the network folder parent unless an
// earlier move did. A file that an interrupted move may have stored (same
// name and size where it was going) counts as copied.
func (m *mover) copyFile(ctx context.Context, e drive.Entry, parent drive.EntryID) (bool, error) {
	if d, ok := m.log.done[e.ID]; ok {
		if _, err := m.to.Drive.Get(d); err == nil {
			return false, nil
		}
	}
	kids, err := m.to.Drive.List(parent)
	if err != nil {
		return false, err
	}
	if name, ok := m.log.started[e.ID]; ok {
		for _, k := range kids {
			if k.Name == name && !k.Folder && k.Size == e.Size {
				return false, m.log.add(moveLine{Op: "done", Src: e.ID, Dst: k.ID})
			}
		}
	}
	name := e.Name
	for _, k := range kids {
		if k.Name == name {
			name = freeName(kids, e.Name)
			break
		}
	}
	if err := m.log.add(moveLine{Op: "start", Src: e.ID, Name: name}); err != nil {
		return false, err
	}
	_, r, err := m.from.Drive.Open(ctx, e.ID)
	if err != nil {
		return false, fmt.Errorf("conduit: reading %s from the solo network: %w", e.Path, err)
	}
	defer r.Close()
	// With the modification time, the upload keeps a journal: a move cut
	// short sends only the chunks the network does not have yet.
	got, _, err := m.to.Upload(ctx, parent, name, e.MIME, r, e.Size, max(e.Modified.UnixMilli(), 1), nil)
	if err != nil {
		return false, fmt.Errorf("conduit: storing %s on the network: %w", e.Path, err)
	}
	m.moved.Files++
	m.moved.Bytes += e.Size
	m.progress()
	return true, m.log.add(moveLine{Op: "done", Src: e.ID, Dst: got.ID})
}

// freeName is name with " (solo)", " (solo 2)", … before its extension:
// the first that no entry of kids has.
func freeName(kids []drive.Entry, name string) string {
	taken := map[string]bool{}
	for _, k := range kids {
		taken[k.Name] = true
	}
	ext := path.Ext(name)
	if ext == name || strings.ContainsAny(ext, " ") {
		ext = ""
	}
	base := strings.TrimSuffix(name, ext)
	for i := 1; ; i++ {
		tag := " (solo)"
		if i > 1 {
			tag = fmt.Sprintf(" (solo %d)", i)
		}
		if c := base + tag + ext; !taken[c] {
			return c
		}
	}
}
