package drive

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/borgios/borghui/cells/ftree"
	"github.com/borgios/borghui/conduit/files"
	"github.com/borgios/borghui/signer"
)

// Roots is the owner's root record on the ftree cells (an *ftree.Client
// adapted, in practice).
type Roots interface {
	// Root returns the owner's newest root record, or (nil, nil) when the
	// owner has none yet (an error matching ftree.ErrNotFound is taken the
	// same way).
	Root(ctx context.Context) (*ftree.RootRecord, error)
	// PutRoot writes the next record. When another writer got there first
	// the error matches ftree.ErrConflict.
	PutRoot(ctx context.Context, rec *ftree.RootRecord) error
}

// Releaser deletes the caller's reference to a shard (the shard store does).
type Releaser interface {
	Delete(ctx context.Context, id files.ID) error
}

// Config is what a Drive works with.
type Config struct {
	// Files uploads and opens files; its Store keeps the sealed index and
	// its Keys derive the index key and the file keys. Required.
	Files *files.Service
	// Roots reads and writes the owner's root record. Required.
	Roots Roots
	// Release drops shards no longer needed: replaced indexes, deleted
	// files, uploads that could not be added. nil releases nothing.
	Release Releaser
	// Owner signs root records. Required.
	Owner signer.Key
	// Now is the clock (modification times, records, progress); nil is
	// time.Now.
	Now func() time.Time
}

// EntryID names an entry: 16 random bytes as 32 lower-case hex characters.
// The empty ID is the top folder.
type EntryID string

// Entry is a file or a folder of the tree.
type Entry struct {
	ID       EntryID   `json:"id"`
	Parent   EntryID   `json:"parent,omitempty"` // "" for the top folder
	Name     string    `json:"name"`
	Folder   bool      `json:"folder,omitempty"`
	Size     int64     `json:"size,omitempty"`    // files: plaintext bytes
	MIME     string    `json:"mime,omitempty"`    // files: media type, "" if unknown
	Modified time.Time `json:"modified,omitzero"` // when it was uploaded or made (UTC)
	// File is a file's ID; its key is files.FileKey(keys, file).
	File files.HexID `json:"file,omitzero"`
	// Manifest is the shard ID of a file's sealed manifest.
	Manifest files.HexID `json:"manifest,omitzero"`
	// Path is "/a/b/name", filled in by List, Get and Search; not stored.
	Path string `json:"-"`
}

// maxAttempts bounds the writes of one change that lose a race.
const maxAttempts = 8

// maxResults bounds what Search returns.
const maxResults = 200

// Drive is the person's folder tree. Load it once, then read it with List,
// Get and Search (from memory) and change it with Mkdir, Upload, Rename,
// Move and Delete (each a new sealed index and root record). It is safe
// for concurrent use; changes are made one at a time.
type Drive struct {
	cfg Config

	wmu sync.Mutex // held while loading or changing: one at a time

	mu     sync.RWMutex // guards the fields below
	loaded bool
	root   *ftree.RootRecord // nil: the owner has no record yet
	shard  files.ID          // the index shard root points at
	idx    *index
}

// New returns a Drive; call Load before reading it (changes load it first
// if needed).
func New(cfg Config) *Drive { return &Drive{cfg: cfg} }

func (d *Drive) now() time.Time {
	if d.cfg.Now != nil {
		return d.cfg.Now()
	}
	return time.Now()
}

// uncertainError is a root write whose outcome is unknown (the record may
// have been stored): nothing it refers to may be released.
type uncertainError struct{ err error }

func (e *uncertainError) Error() string { return e.err.Error() }
func (e *uncertainError) Unwrap() error { return e.err }

// Load reads the newest root record, then fetches and opens the index it
// points at. With no record the drive is empty. A record or index that does
// not open with this identity is refused (ErrCorrupt) and the drive keeps
// what it had.
func (d *Drive) Load(ctx context.Context) error {
	d.wmu.Lock()
	defer d.wmu.Unlock()
	if err := d.load(ctx); err != nil {
		return fmt.Errorf("drive: loading: %w", err)
	}
	return nil
}

// load does Load's work; d.wmu is held.
func (d *Drive) load(ctx context.Context) error {
	c := d.cfg
	if c.Files == nil || c.Files.Store == nil || c.Files.Keys == nil || c.Roots == nil || c.Owner == nil {
		return errors.New("the drive needs files (with a store and keys), roots and an owner")
	}
	owner, err := ftree.PubKeyOf(c.Owner.PublicKey())
	if err != nil {
		return err
	}
	rec, err := d.readRoot(ctx)
	if err != nil {
		return err
	}
	for tries := 1; ; tries++ {
		err := d.loadRecord(ctx, owner, rec)
		if err == nil || errors.Is(err, ErrCorrupt) || tries == maxAttempts {
			return err
		}
		// The index may have been replaced, and released, since the record
		// was read: read the record again and retry if it changed.
		again, rerr := d.readRoot(ctx)
		if rerr != nil || again == nil || rec == nil || again.Hash() == rec.Hash() {
			return err
		}
		rec = again
	}
}

// readRoot returns the owner's record, nil when there is none.
func (d *Drive) readRoot(ctx context.Context) (*ftree.RootRecord, error) {
	rec, err := d.cfg.Roots.Root(ctx)
	if errors.Is(err, ftree.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the root record: %w", err)
	}
	return rec, nil
}

// loadRecord makes rec (nil: none) and the index it points at current.
func (d *Drive) loadRecord(ctx context.Context, owner ftree.PubKey, rec *ftree.RootRecord) error {
	c := d.cfg
	d.mu.RLock()
	had, same := d.root, d.loaded && d.root != nil && rec != nil && d.root.Hash() == rec.Hash()
	d.mu.RUnlock()
	if same {
		return nil
	}
	if rec == nil {
		if had != nil {
			// Never start over empty: the next write would replace the tree.
			return errors.New("the root record is missing where there was one; try again")
		}
		d.set(nil, files.ID{}, newIndex())
		return nil
	}
	switch {
	case rec.Owner != owner:
		return fmt.Errorf("%w: the root record belongs to another identity", ErrCorrupt)
	case rec.Verify() != nil:
		return fmt.Errorf("%w: the root record does not verify", ErrCorrupt)
	case rec.Size > MaxIndex:
		return fmt.Errorf("%w: the root record points at an index of %d bytes", ErrCorrupt, rec.Size)
	}
	id := files.ID(rec.Manifest)
	sealed, err := c.Files.Store.Fetch(ctx, id)
	if err != nil {
		return fmt.Errorf("fetching the folder index: %w", err)
	}
	if files.ShardID(sealed) != id || uint64(len(sealed)) != rec.Size {
		return fmt.Errorf("%w: the stored index is not the one the root record names", ErrCorrupt)
	}
	key, err := indexKey(c.Files.Keys)
	if err != nil {
		return err
	}
	defer key.Wipe()
	x, err := openIndex(key, sealed)
	if err != nil {
		return err
	}
	d.set(rec, id, x)
	return nil
}

func (d *Drive) set(rec *ftree.RootRecord, shard files.ID, x *index) {
	d.mu.Lock()
	d.loaded, d.root, d.shard, d.idx = true, rec, shard, x
	d.mu.Unlock()
}

// ensureLoaded loads the drive unless it is loaded.
func (d *Drive) ensureLoaded(ctx context.Context) error {
	d.mu.RLock()
	ok := d.loaded
	d.mu.RUnlock()
	if ok {
		return nil
	}
	d.wmu.Lock()
	defer d.wmu.Unlock()
	d.mu.RLock()
	ok = d.loaded
	d.mu.RUnlock()
	if ok {
		return nil
	}
	return d.load(ctx)
}

// update applies one change: to a copy of the index, sealed and stored,
// then a new root record pointing at it. When another writer won the race
// it reloads the newest tree and applies the same change to that (which
// may now fail), at most maxAttempts times. The replaced index is released.
func (d *Drive) update(ctx context.Context, change func(*index) error) error {
	d.wmu.Lock()
	defer d.wmu.Unlock()
	d.mu.RLock()
	loaded := d.loaded
	d.mu.RUnlock()
	if !loaded {
		if err := d.load(ctx); err != nil {
			return err
		}
	}
	key, err := indexKey(d.cfg.Files.Keys)
	if err != nil {
		return err
	}
	defer key.Wipe()
	for attempt := 1; ; attempt++ {
		d.mu.RLock()
		cur, prev, x := d.root, d.shard, d.idx
		d.mu.RUnlock()
		next := x.clone()
		if err := change(next); err != nil {
			return err
		}
		sealed, err := sealIndex(key, next)
		if err != nil {
			return err
		}
		id := files.ShardID(sealed)
		if err := d.cfg.Files.Store.Put(ctx, id, sealed); err != nil {
			return fmt.Errorf("storing the folder index: %w", err)
		}
		rec, err := ftree.NextRoot(d.cfg.Owner, cur, ftree.Hash(id), uint64(len(sealed)), d.now())
		if err != nil {
			d.release(ctx, id)
			return err
		}
		err = d.cfg.Roots.PutRoot(ctx, rec)
		if err == nil {
			d.set(rec, id, next)
			if cur != nil && prev != id {
				d.release(ctx, prev)
			}
			return nil
		}
		if !errors.Is(err, ftree.ErrConflict) {
			return &uncertainError{fmt.Errorf("saving the root record: %w", err)}
		}
		// Another writer won: take its tree, then try again on top of it.
		if err := d.load(ctx); err != nil {
			return err
		}
		d.mu.RLock()
		won := d.root != nil && d.root.Manifest == ftree.Hash(id)
		d.mu.RUnlock()
		if won { // our record was stored after all
			if cur != nil && prev != id {
				d.release(ctx, prev)
			}
			return nil
		}
		d.release(ctx, id)
		if attempt == maxAttempts {
			return fmt.Errorf("%w (%d attempts)", ErrConflict, maxAttempts)
		}
		if err := pause(ctx, attempt); err != nil {
			return err
		}
	}
}

// pause waits a random while, longer after each lost race, so two writers
// do not keep colliding.
func pause(ctx context.Context, attempt int) error {
	t := time.NewTimer(rand.N(time.Duration(attempt) * 20 * time.Millisecond))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// release drops a shard, best effort: a shard left behind costs space, not
// correctness.
func (d *Drive) release(ctx context.Context, id files.ID) {
	if d.cfg.Release != nil {
		_ = d.cfg.Release.Delete(ctx, id)
	}
}

// List returns the entries of a folder ("" for the top folder), folders
// first, then by name ignoring case, with Path set.
func (d *Drive) List(parent EntryID) ([]Entry, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if !d.loaded {
		return nil, fmt.Errorf("drive: %w", ErrNotLoaded)
	}
	if err := d.idx.folder(parent); err != nil {
		return nil, fmt.Errorf("drive: listing %q: %w", parent, err)
	}
	return d.idx.children(parent), nil
}

// Get returns one entry with Path set; "" gives the top folder (a folder
// with Path "/").
func (d *Drive) Get(id EntryID) (Entry, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if !d.loaded {
		return Entry{}, fmt.Errorf("drive: %w", ErrNotLoaded)
	}
	if id == "" {
		return Entry{Folder: true, Path: "/"}, nil
	}
	e, err := d.idx.get(id)
	if err != nil {
		return Entry{}, fmt.Errorf("drive: %q: %w", id, err)
	}
	e.Path = d.idx.path(id)
	return e, nil
}

// Search returns the entries whose name holds query, ignoring case, with
// Path set: at most 200, ordered by name then ID. An empty query, or a
// drive not loaded, finds nothing.
func (d *Drive) Search(query string) []Entry {
	if query == "" {
		return nil
	}
	q := strings.ToLower(query)
	d.mu.RLock()
	defer d.mu.RUnlock()
	if !d.loaded {
		return nil
	}
	var out []Entry
	for _, e := range d.idx.entries {
		if strings.Contains(strings.ToLower(e.Name), q) {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b Entry) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)),
			cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	if len(out) > maxResults {
		out = out[:maxResults]
	}
	for i := range out {
		out[i].Path = d.idx.path(out[i].ID)
	}
	return out
}

// Mkdir makes a folder in parent ("" for the top folder).
func (d *Drive) Mkdir(ctx context.Context, parent EntryID, name string) (Entry, error) {
	if err := checkName(name); err != nil {
		return Entry{}, fmt.Errorf("drive: new folder: %w", err)
	}
	id, err := newEntryID()
	if err != nil {
		return Entry{}, fmt.Errorf("drive: new folder: %w", err)
	}
	e := Entry{ID: id, Parent: parent, Name: name, Folder: true, Modified: stamp(d.now())}
	var path string
	err = d.update(ctx, func(x *index) error {
		if err := x.add(e); err != nil {
			return err
		}
		path = x.path(id)
		return nil
	})
	if err != nil {
		return Entry{}, fmt.Errorf("drive: new folder %q: %w", name, err)
	}
	e.Path = path
	return e, nil
}

// Upload stores size bytes read from r as a file named name in parent,
// through files.Service.Upload (with the journal j, if any, to resume
// later), and adds it to the tree. progress, when not nil, is told how far
// the upload is, one call at a time. If the file is stored but cannot be
// added (the name was taken meanwhile, say), its shards are released and
// j is removed (a resume would refer to released chunks), unless it is
// unknown whether the tree took it.
func (d *Drive) Upload(ctx context.Context, parent EntryID, name, mime string, r io.Reader, size int64, j *files.Journal, progress func(Progress)) (Entry, error) {
	fail := func(err error) (Entry, error) { return Entry{}, fmt.Errorf("drive: upload %q: %w", name, err) }
	if err := checkName(name); err != nil {
		return fail(err)
	}
	if err := checkMIME(mime); err != nil {
		return fail(err)
	}
	if size < 0 {
		return fail(errors.New("negative size"))
	}
	if err := d.ensureLoaded(ctx); err != nil {
		return fail(err)
	}
	// Refuse early what would be refused after sending every byte.
	d.mu.RLock()
	err := d.idx.folder(parent)
	if _, taken := d.idx.names[parent][name]; taken && err == nil {
		err = ErrExists
	}
	d.mu.RUnlock()
	if err != nil {
		return fail(err)
	}
	st, err := d.cfg.Files.Upload(ctx, r, size, name, mime, j, meter(size, j, d.now, progress))
	if err != nil {
		return fail(err)
	}
	defer st.Key.Wipe()
	e := Entry{Parent: parent, Name: name, Size: size, MIME: mime, Modified: stamp(d.now()),
		File: st.Manifest.File, Manifest: files.HexID(st.ManifestID)}
	var path string
	if e.ID, err = newEntryID(); err == nil {
		err = d.update(ctx, func(x *index) error {
			if err := x.add(e); err != nil {
				return err
			}
			path = x.path(e.ID)
			return nil
		})
	}
	if err != nil {
		if u := (*uncertainError)(nil); !errors.As(err, &u) {
			d.dropUpload(ctx, st, j)
		}
		return fail(err)
	}
	e.Path = path
	return e, nil
}

// dropUpload releases the shards of a stored file the tree did not take.
func (d *Drive) dropUpload(ctx context.Context, st *files.Stored, j *files.Journal) {
	if d.cfg.Release == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	ids := fileShards(st.Manifest, st.ManifestID)
	d.mu.RLock()
	for _, e := range d.idx.entries {
		if !e.Folder && e.File == st.Manifest.File {
			// The same file is in the tree already (an earlier try of a
			// resumed upload that did land): keep its chunks.
			ids = nil
			if e.Manifest != files.HexID(st.ManifestID) {
				ids = []files.ID{st.ManifestID}
			}
			j = nil
			break
		}
	}
	d.mu.RUnlock()
	for _, id := range ids {
		d.release(ctx, id)
	}
	if j != nil {
		_ = j.Remove()
	}
}

// fileShards lists every shard of a stored file: its chunks, the parity
// shards of its erasure groups, and last the manifest.
func fileShards(m *files.Manifest, manifest files.ID) []files.ID {
	ids := make([]files.ID, 0, len(m.Chunks)+1)
	for _, c := range m.Chunks {
		ids = append(ids, files.ID(c.ID))
	}
	if m.Erasure != nil {
		for _, g := range m.Erasure.Groups {
			for _, p := range g {
				ids = append(ids, files.ID(p.ID))
			}
		}
	}
	return append(ids, manifest)
}

// Rename gives an entry a new name in the same folder.
func (d *Drive) Rename(ctx context.Context, id EntryID, name string) error {
	if err := checkName(name); err != nil {
		return fmt.Errorf("drive: rename: %w", err)
	}
	if err := d.update(ctx, func(x *index) error { return x.rename(id, name) }); err != nil {
		return fmt.Errorf("drive: rename to %q: %w", name, err)
	}
	return nil
}

// Move puts an entry into another folder ("" for the top folder), keeping
// its name. A folder cannot move into itself or below itself.
func (d *Drive) Move(ctx context.Context, id, newParent EntryID) error {
	if err := d.update(ctx, func(x *index) error { return x.move(id, newParent) }); err != nil {
		return fmt.Errorf("drive: move: %w", err)
	}
	return nil
}

// Delete removes an entry, a folder with everything in it. Once the new
// tree is saved, every shard of the removed files (chunks, parity shards,
// manifests) is released; errors doing so are returned joined, but the
// entries stay deleted.
func (d *Drive) Delete(ctx context.Context, id EntryID) error {
	var removed []Entry
	err := d.update(ctx, func(x *index) error {
		var err error
		removed, err = x.remove(id)
		return err
	})
	if err != nil {
		return fmt.Errorf("drive: delete: %w", err)
	}
	if d.cfg.Release == nil {
		return nil
	}
	d.mu.RLock()
	inUse := map[files.HexID]bool{}
	for _, e := range d.idx.entries {
		if !e.Folder {
			inUse[e.File] = true
		}
	}
	d.mu.RUnlock()
	var errs []error
	for _, e := range removed {
		if e.Folder || inUse[e.File] {
			continue
		}
		if err := d.releaseFile(ctx, e); err != nil {
			errs = append(errs, fmt.Errorf("%q: %w", e.Name, err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("drive: deleted, but storage was not fully released: %w", errors.Join(errs...))
	}
	return nil
}

// releaseFile releases every shard of a removed file.
func (d *Drive) releaseFile(ctx context.Context, e Entry) error {
	mid := files.ID(e.Manifest)
	key, err := files.FileKey(d.cfg.Files.Keys, files.ID(e.File))
	if err != nil {
		return err
	}
	defer key.Wipe()
	m, _, err := d.cfg.Files.Open(ctx, mid, key)
	if err == nil && m.File != e.File {
		err = files.ErrCorrupt
	}
	if err != nil {
		// Its chunks cannot be found; the manifest is of no use either.
		return errors.Join(err, d.cfg.Release.Delete(ctx, mid))
	}
	var errs []error
	for _, id := range fileShards(m, mid) {
		if err := d.cfg.Release.Delete(ctx, id); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Open returns a file's manifest and a reader of its bytes (an
// io.ReadSeeker fetching chunks as they are read).
func (d *Drive) Open(ctx context.Context, id EntryID) (*files.Manifest, *files.Reader, error) {
	d.mu.RLock()
	loaded := d.loaded
	var e Entry
	var err error
	if loaded {
		e, err = d.idx.get(id)
	}
	d.mu.RUnlock()
	switch {
	case !loaded:
		err = ErrNotLoaded
	case id == "" || (err == nil && e.Folder):
		err = ErrIsFolder
	}
	if err != nil {
		return nil, nil, fmt.Errorf("drive: open %q: %w", id, err)
	}
	key, err := files.FileKey(d.cfg.Files.Keys, files.ID(e.File))
	if err != nil {
		return nil, nil, fmt.Errorf("drive: open %q: %w", e.Name, err)
	}
	m, rd, err := d.cfg.Files.Open(ctx, files.ID(e.Manifest), key)
	if err == nil && m.File != e.File {
		err = fmt.Errorf("%w: the manifest is of another file", ErrCorrupt)
	}
	if err != nil {
		key.Wipe()
		return nil, nil, fmt.Errorf("drive: open %q: %w", e.Name, err)
	}
	return m, rd, nil // the reader keeps the key
}
