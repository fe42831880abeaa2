package drive

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/borgios/borghui/conduit/files"
)

// IndexVersion is the version of the index format.
const IndexVersion = 1

// MaxIndex bounds a sealed index: 4 MiB less 64 KiB, room for about 13,000
// files (some 300 bytes each with ordinary names) or more entries when many
// are folders (some 150 bytes each).
const MaxIndex = 4<<20 - 64<<10

// MaxName is the longest name, in bytes.
const MaxName = 255

// maxMIME is the longest MIME type, in bytes.
const maxMIME = 255

// indexAAD binds the sealed bytes to their use.
var indexAAD = []byte("BorgIOS/v1/drive-index\n")

// keyLabel is the DeriveKey label of the index key.
const keyLabel = "drive-index"

// indexKey derives the index key from the identity. The caller wipes it.
func indexKey(src files.KeySource) (*files.Key, error) {
	var k files.Key
	if err := src.DeriveKey(keyLabel, nil, k[:]); err != nil {
		return nil, fmt.Errorf("index key: %w", err)
	}
	return &k, nil
}

// index is the decoded folder tree.
type index struct {
	entries map[EntryID]Entry
	names   map[EntryID]map[string]EntryID // folder ("" = root) → name → child
}

func newIndex() *index {
	return &index{entries: map[EntryID]Entry{}, names: map[EntryID]map[string]EntryID{}}
}

// clone returns an independent copy.
func (x *index) clone() *index {
	c := &index{entries: make(map[EntryID]Entry, len(x.entries)), names: make(map[EntryID]map[string]EntryID, len(x.names))}
	for id, e := range x.entries {
		c.entries[id] = e
	}
	for p, m := range x.names {
		n := make(map[string]EntryID, len(m))
		for k, v := range m {
			n[k] = v
		}
		c.names[p] = n
	}
	return c
}

// folder checks that id is the root or a folder.
func (x *index) folder(id EntryID) error {
	if id == "" {
		return nil
	}
	e, ok := x.entries[id]
	switch {
	case !ok:
		return ErrNotFound
	case !e.Folder:
		return ErrNotFolder
	}
	return nil
}

// get returns an entry that is not the root.
func (x *index) get(id EntryID) (Entry, error) {
	if id == "" {
		return Entry{}, ErrRoot
	}
	e, ok := x.entries[id]
	if !ok {
		return Entry{}, ErrNotFound
	}
	return e, nil
}

// add inserts a new entry under its parent.
func (x *index) add(e Entry) error {
	if _, ok := x.entries[e.ID]; ok || e.ID == "" {
		return errors.New("entry id already in use")
	}
	if err := x.folder(e.Parent); err != nil {
		return err
	}
	if _, ok := x.names[e.Parent][e.Name]; ok {
		return ErrExists
	}
	x.entries[e.ID] = e
	m := x.names[e.Parent]
	if m == nil {
		m = map[string]EntryID{}
		x.names[e.Parent] = m
	}
	m[e.Name] = e.ID
	return nil
}

// unlink removes one entry from its parent's names and from entries.
func (x *index) unlink(e Entry) {
	delete(x.entries, e.ID)
	if m := x.names[e.Parent]; m != nil {
		delete(m, e.Name)
		if len(m) == 0 {
			delete(x.names, e.Parent)
		}
	}
}

// rename gives an entry a new name in the same folder.
func (x *index) rename(id EntryID, name string) error {
	e, err := x.get(id)
	if err != nil {
		return err
	}
	if e.Name == name {
		return nil
	}
	if _, ok := x.names[e.Parent][name]; ok {
		return ErrExists
	}
	x.unlink(e)
	e.Name = name
	return x.add(e)
}

// move puts an entry into another folder, keeping its name.
func (x *index) move(id, parent EntryID) error {
	e, err := x.get(id)
	if err != nil {
		return err
	}
	if err := x.folder(parent); err != nil {
		return err
	}
	if e.Parent == parent {
		return nil
	}
	for p := parent; p != ""; p = x.entries[p].Parent {
		if p == id {
			return ErrMoveInside
		}
	}
	if _, ok := x.names[parent][e.Name]; ok {
		return ErrExists
	}
	x.unlink(e)
	e.Parent = parent
	return x.add(e)
}

// remove deletes an entry and, for a folder, everything under it, and
// returns what it removed.
func (x *index) remove(id EntryID) ([]Entry, error) {
	e, err := x.get(id)
	if err != nil {
		return nil, err
	}
	var out []Entry
	stack := []Entry{e}
	for len(stack) > 0 {
		e := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		out = append(out, e)
		for _, c := range x.names[e.ID] {
			stack = append(stack, x.entries[c])
		}
	}
	for _, e := range out {
		x.unlink(e)
	}
	return out, nil
}

// path returns "/a/b/name" for an entry ("/" for the root).
func (x *index) path(id EntryID) string {
	if id == "" {
		return "/"
	}
	var parts []string
	for p := id; p != ""; p = x.entries[p].Parent {
		parts = append(parts, x.entries[p].Name)
	}
	slices.Reverse(parts)
	return "/" + strings.Join(parts, "/")
}

// children returns the entries of a folder, folders first, then by name
// (case-insensitive, exact bytes to break ties), with Path set.
func (x *index) children(parent EntryID) []Entry {
	m := x.names[parent]
	out := make([]Entry, 0, len(m))
	base := x.path(parent)
	if base != "/" {
		base += "/"
	}
	for _, id := range m {
		e := x.entries[id]
		e.Path = base + e.Name
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b Entry) int {
		if a.Folder != b.Folder {
			if a.Folder {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// indexDoc is the JSON form of the index.
type indexDoc struct {
	Version int     `json:"version"`
	Entries []Entry `json:"entries"`
}

// encode returns the index as JSON, entries sorted by ID.
func (x *index) encode() ([]byte, error) {
	doc := indexDoc{Version: IndexVersion, Entries: make([]Entry, 0, len(x.entries))}
	for _, e := range x.entries {
		doc.Entries = append(doc.Entries, e)
	}
	slices.SortFunc(doc.Entries, func(a, b Entry) int { return cmp.Compare(a.ID, b.ID) })
	return json.Marshal(doc)
}

// decodeIndex parses and checks the JSON form strictly.
func decodeIndex(plain []byte) (*index, error) {
	var doc indexDoc
	dec := json.NewDecoder(bytes.NewReader(plain))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("not a folder index: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the folder index")
	}
	if doc.Version != IndexVersion {
		return nil, fmt.Errorf("index version %d is not supported", doc.Version)
	}
	x := newIndex()
	for _, e := range doc.Entries {
		if err := checkEntry(e); err != nil {
			return nil, fmt.Errorf("entry %q: %w", e.ID, err)
		}
		if _, dup := x.entries[e.ID]; dup {
			return nil, fmt.Errorf("entry %q is listed twice", e.ID)
		}
		e.Modified = e.Modified.UTC()
		x.entries[e.ID] = e
	}
	for _, e := range doc.Entries {
		if err := x.folder(e.Parent); err != nil {
			return nil, fmt.Errorf("entry %q: parent %q: %w", e.ID, e.Parent, err)
		}
		m := x.names[e.Parent]
		if m == nil {
			m = map[string]EntryID{}
			x.names[e.Parent] = m
		}
		if _, dup := m[e.Name]; dup {
			return nil, fmt.Errorf("entry %q: %w", e.ID, ErrExists)
		}
		m[e.Name] = e.ID
	}
	// Every chain of parents must reach the root: walk up from each entry,
	// remembering the entries known to reach it.
	rooted := make(map[EntryID]bool, len(x.entries))
	for id := range x.entries {
		var chain []EntryID
		onChain := map[EntryID]bool{}
		for p := id; p != "" && !rooted[p]; p = x.entries[p].Parent {
			if onChain[p] {
				return nil, fmt.Errorf("entry %q is inside itself", p)
			}
			onChain[p] = true
			chain = append(chain, p)
		}
		for _, p := range chain {
			rooted[p] = true
		}
	}
	return x, nil
}

// checkEntry checks the fields of one entry on its own.
func checkEntry(e Entry) error {
	if !validID(e.ID) {
		return errors.New("bad id")
	}
	if e.Parent != "" && !validID(e.Parent) {
		return errors.New("bad parent id")
	}
	if err := checkName(e.Name); err != nil {
		return err
	}
	if err := checkMIME(e.MIME); err != nil {
		return err
	}
	if !e.Modified.IsZero() {
		if y := e.Modified.UTC().Year(); y < 1 || y > 9999 {
			return errors.New("modification time out of range")
		}
	}
	if e.Folder {
		if e.Size != 0 || e.MIME != "" || e.File != (files.HexID{}) || e.Manifest != (files.HexID{}) {
			return errors.New("a folder with file fields")
		}
		return nil
	}
	if e.Size < 0 || e.File == (files.HexID{}) || e.Manifest == (files.HexID{}) {
		return errors.New("a file without size, file or manifest id")
	}
	return nil
}

// validID reports whether s is 32 lower-case hex characters.
func validID(id EntryID) bool {
	if len(id) != 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// newEntryID returns a random entry ID.
func newEntryID() (EntryID, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("system randomness: %w", err)
	}
	return EntryID(hex.EncodeToString(b[:])), nil
}

// checkName applies the naming rules.
func checkName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: it is empty", ErrBadName)
	case len(name) > MaxName:
		return fmt.Errorf("%w: it is longer than %d bytes", ErrBadName, MaxName)
	case !utf8.ValidString(name):
		return fmt.Errorf("%w: it is not valid text", ErrBadName)
	case name == "." || name == "..":
		return fmt.Errorf("%w: %q is reserved", ErrBadName, name)
	case strings.Contains(name, "/"):
		return fmt.Errorf("%w: it holds a slash", ErrBadName)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return fmt.Errorf("%w: it holds a control character", ErrBadName)
	}
	return nil
}

// checkMIME checks a MIME type (empty is allowed: unknown).
func checkMIME(mime string) error {
	if len(mime) > maxMIME || !utf8.ValidString(mime) || strings.IndexFunc(mime, unicode.IsControl) >= 0 {
		return ErrBadType
	}
	return nil
}

// sealIndex encodes and seals the index.
func sealIndex(key *files.Key, x *index) ([]byte, error) {
	plain, err := x.encode()
	if err != nil {
		return nil, fmt.Errorf("encoding the index: %w", err)
	}
	defer clear(plain)
	sealed, err := sealBytes(key, plain)
	if err != nil {
		return nil, err
	}
	if len(sealed) > MaxIndex {
		return nil, ErrFull
	}
	return sealed, nil
}

// sealBytes seals plain: nonce (24 random bytes) ‖ ciphertext ‖ tag.
func sealBytes(key *files.Key, plain []byte) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(key[:])
	if err != nil {
		return nil, err
	}
	out := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	if _, err := rand.Read(out); err != nil {
		return nil, fmt.Errorf("system randomness: %w", err)
	}
	return aead.Seal(out, out, plain, indexAAD), nil
}

// openIndex opens and decodes a sealed index. Every failure wraps ErrCorrupt.
func openIndex(key *files.Key, sealed []byte) (*index, error) {
	if len(sealed) > MaxIndex {
		return nil, fmt.Errorf("%w: the index is larger than %d bytes", ErrCorrupt, MaxIndex)
	}
	aead, err := chacha20poly1305.NewX(key[:])
	if err != nil {
		return nil, err
	}
	ns := aead.NonceSize()
	if len(sealed) < ns+aead.Overhead() {
		return nil, fmt.Errorf("%w: the index is truncated", ErrCorrupt)
	}
	plain, err := aead.Open(nil, sealed[:ns], sealed[ns:], indexAAD)
	if err != nil {
		return nil, fmt.Errorf("%w: the index does not open with this identity", ErrCorrupt)
	}
	defer clear(plain)
	x, err := decodeIndex(plain)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return x, nil
}

// stamp returns t in UTC without a monotonic reading, as stored.
func stamp(t time.Time) time.Time { return t.UTC() }
