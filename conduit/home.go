package conduit

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/borgios/borghui/internal/dirs"
)

// HomeFile is the file, in the data folder on the stick, that lists the
// computers where the person allowed home mode. It is its own file: the
// settings file is rewritten by RememberList with its own field only.
const HomeFile = "hosts.json"

// MinHomeQuota is the smallest quota home mode accepts (1 GiB).
const MinHomeQuota int64 = 1 << 30

// Home-mode refusals. Every error of HomeList.Allow wraps one of them;
// HomeMessage words them for the person.
var (
	// ErrHomeFolder: the folder cannot hold home data (not a full path,
	// on the stick, not a folder, cannot be made or written).
	ErrHomeFolder = errors.New("conduit: home folder refused")
	// ErrHomeQuota: the quota is under MinHomeQuota or over the free space.
	ErrHomeQuota = errors.New("conduit: home quota refused")
	// ErrHomeDamaged: the list on the stick cannot be read; it is left as
	// it is and home mode stays off until it is repaired or removed.
	ErrHomeDamaged = errors.New("conduit: the home-mode list on the stick is damaged")
)

// HomeError is a refused home-mode choice: Err is ErrHomeFolder or
// ErrHomeQuota, Reason the sentence for the person.
type HomeError struct {
	Err    error
	Reason string
}

func (e *HomeError) Error() string { return e.Err.Error() + ": " + e.Reason }
func (e *HomeError) Unwrap() error { return e.Err }

// HomeMessage words a home-mode error for the person; other errors go to
// UserMessage.
func HomeMessage(err error) string {
	var he *HomeError
	switch {
	case errors.As(err, &he):
		return he.Reason
	case errors.Is(err, ErrHomeDamaged):
		return "The list of home computers on the stick (" + HomeFile + " in its data folder) is damaged, so no node runs here. Move that file away, then allow home mode again; nothing else is affected."
	}
	return UserMessage(err)
}

// HomeChoice is what the person chose for one computer: where its node
// keeps the network's data and how much of it.
type HomeChoice struct {
	Folder     string    `json:"folder"`
	QuotaBytes int64     `json:"quotaBytes"`
	Since      time.Time `json:"since"`
}

// HomeList records, on the stick, the computers where the person allowed
// home mode, keyed by host fingerprint. Only a computer listed here gets a
// node, and so anything written outside the stick.
type HomeList struct {
	// Path is the list's file on the stick (HomeFile in the data folder).
	Path string
	// Host is this computer's fingerprint (see usbboot.HostFingerprint).
	Host string
	// Stick are the folders that are the stick (its root, its data
	// folder): home data may not go in or below them.
	Stick []string
	// FreeSpace reports the bytes free on the disk that holds an existing
	// folder; nil: ask the system. Tests set it.
	FreeSpace func(dir string) (int64, error)
	// Now is the clock; nil: time.Now.
	Now func() time.Time

	mu sync.Mutex
}

// homeFile is the list as stored. Fields and hosts this version does not
// know are kept as they are.
type homeFile struct {
	top   map[string]json.RawMessage
	hosts map[string]json.RawMessage
}

func (h *HomeList) load() (homeFile, error) {
	f := homeFile{top: map[string]json.RawMessage{}, hosts: map[string]json.RawMessage{}}
	data, err := os.ReadFile(h.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return f, fmt.Errorf("conduit: reading the home-mode list: %w", err)
	}
	if err := json.Unmarshal(data, &f.top); err != nil || f.top == nil {
		return f, fmt.Errorf("%w: %v", ErrHomeDamaged, err)
	}
	if raw, ok := f.top["hosts"]; ok {
		if err := json.Unmarshal(raw, &f.hosts); err != nil || f.hosts == nil {
			return f, fmt.Errorf("%w: hosts: %v", ErrHomeDamaged, err)
		}
	}
	if raw, ok := f.hosts[h.Host]; ok {
		if _, err := decodeChoice(raw); err != nil {
			return f, err
		}
	}
	return f, nil
}

func decodeChoice(raw json.RawMessage) (HomeChoice, error) {
	var c HomeChoice
	if err := json.Unmarshal(raw, &c); err != nil {
		return c, fmt.Errorf("%w: this computer's entry: %v", ErrHomeDamaged, err)
	}
	if !filepath.IsAbs(c.Folder) || c.QuotaBytes < MinHomeQuota {
		return c, fmt.Errorf("%w: this computer's entry has no full folder path or too small a quota", ErrHomeDamaged)
	}
	return c, nil
}

// store writes the list atomically: a temp file beside it, then a rename.
func (h *HomeList) store(f homeFile) error {
	hosts, err := json.Marshal(f.hosts)
	if err != nil {
		return err
	}
	f.top["hosts"] = hosts
	data, err := json.MarshalIndent(f.top, "", "  ")
	if err != nil {
		return err
	}
	return replaceFile(h.Path, "hosts-*.tmp", "the home-mode list", append(data, '\n'))
}

// Get returns this computer's choice; ok is false when home mode is not
// allowed here. A damaged list is an error (ErrHomeDamaged): no node runs.
func (h *HomeList) Get() (c HomeChoice, ok bool, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f, err := h.load()
	if err != nil {
		return c, false, err
	}
	raw, ok := f.hosts[h.Host]
	if !ok {
		return c, false, nil
	}
	c, err = decodeChoice(raw)
	return c, err == nil, err
}

// Allow records that this computer runs a home node keeping up to quota
// bytes in folder. The folder must be a full path, off the stick, a
// folder that exists or can be made, and writable; the quota at least
// MinHomeQuota and at most the space free there. Allow makes the folder:
// the person's choice is what permits writing outside the stick. Refusals
// are *HomeError; nothing is written then.
func (h *HomeList) Allow(folder string, quota int64) (HomeChoice, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f, err := h.load()
	if err != nil {
		return HomeChoice{}, err
	}
	folder, existing, err := h.checkFolder(folder)
	if err != nil {
		return HomeChoice{}, err
	}
	free, err := h.free(existing)
	if err != nil {
		return HomeChoice{}, &HomeError{ErrHomeFolder, "BorgHUI cannot tell how much space is free there. Choose a folder on another disk."}
	}
	switch {
	case quota < MinHomeQuota:
		return HomeChoice{}, &HomeError{ErrHomeQuota, "Give the node at least 1 GB: less is not worth a node."}
	case quota > free:
		return HomeChoice{}, &HomeError{ErrHomeQuota, fmt.Sprintf("Only %s is free there. Give a smaller quota, or choose a folder on a disk with more room.", gbText(free))}
	}
	if err := writable(folder); err != nil {
		return HomeChoice{}, &HomeError{ErrHomeFolder, "BorgHUI cannot make or write that folder. Choose a folder your account may write to."}
	}
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	c := HomeChoice{Folder: folder, QuotaBytes: quota, Since: now().UTC()}
	raw, err := json.Marshal(c)
	if err != nil {
		return HomeChoice{}, err
	}
	f.hosts[h.Host] = raw
	if err := h.store(f); err != nil {
		return HomeChoice{}, err
	}
	return c, nil
}

// Disallow removes this computer from the list. The data folder is left
// as it is: it is the person's to delete.
func (h *HomeList) Disallow() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	f, err := h.load()
	if err != nil {
		return err
	}
	if _, ok := f.hosts[h.Host]; !ok {
		return nil
	}
	delete(f.hosts, h.Host)
	return h.store(f)
}

// Free reports the space free where folder is, or would be made (the
// nearest folder above it that exists). It writes nothing.
func (h *HomeList) Free(folder string) (int64, error) {
	_, existing, err := h.checkFolder(folder)
	if err != nil {
		return 0, err
	}
	return h.free(existing)
}

func (h *HomeList) free(dir string) (int64, error) {
	if h.FreeSpace != nil {
		return h.FreeSpace(dir)
	}
	return diskFree(dir)
}

// checkFolder cleans folder and checks it without writing: a full path,
// not a file, not on the stick. existing is folder or the nearest folder
// above it that exists.
func (h *HomeList) checkFolder(folder string) (clean, existing string, err error) {
	if strings.TrimSpace(folder) == "" {
		return "", "", &HomeError{ErrHomeFolder, "Type the folder where this computer's node keeps its data."}
	}
	if !filepath.IsAbs(folder) {
		return "", "", &HomeError{ErrHomeFolder, "Type the folder's full path, from the top of the disk (like " + exampleFolder() + ")."}
	}
	clean = filepath.Clean(folder)
	existing, rest := clean, ""
	for {
		st, err := os.Stat(existing)
		if err == nil {
			if !st.IsDir() {
				return "", "", &HomeError{ErrHomeFolder, existing + " is a file, not a folder. Choose a folder."}
			}
			break
		}
		// Not there (or not reachable: a file above it, no permission):
		// the folder above decides, and writable checks the rest.
		up := filepath.Dir(existing)
		if up == existing {
			return "", "", &HomeError{ErrHomeFolder, "That disk is not there. Check the path."}
		}
		rest = filepath.Join(filepath.Base(existing), rest)
		existing = up
	}
	real := existing
	if r, err := filepath.EvalSymlinks(existing); err == nil {
		real = r
	}
	real = filepath.Join(real, rest)
	for _, s := range h.Stick {
		if s == "" {
			continue
		}
		stick := filepath.Clean(s)
		if r, err := filepath.EvalSymlinks(stick); err == nil {
			stick = r
		}
		if within(real, stick) {
			return "", "", &HomeError{ErrHomeFolder, "That folder is on the stick. Home mode keeps the network's data on this computer: choose a folder on its own disk."}
		}
	}
	return clean, existing, nil
}

// within reports whether path is dir or below it.
func within(path, dir string) bool {
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" { // case-insensitive by default
		path, dir = strings.ToLower(path), strings.ToLower(dir)
	}
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// writable makes folder if needed and checks that a file can be made in it.
func writable(folder string) error {
	if err := dirs.MkdirAll(folder, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(folder, ".borghui-check-*")
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}

func exampleFolder() string {
	if runtime.GOOS == "windows" {
		return `D:\BorgHUI node`
	}
	return "/home/you/borghui-node"
}

// gbText formats a byte count in gigabytes (GiB) for a person: "12.3 GB".
func gbText(n int64) string {
	return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
}

// SetNetworkMode changes the mode the Network page shows ("home" when a
// home node starts or stops while BorgHUI runs) and tells open pages.
// NetworkConfig.Mode is read only under the network lock, which this takes.
func (c *Conduit) SetNetworkMode(mode string) {
	c.net.mu.Lock()
	nc := c.cfg.Network
	if nc != nil {
		nc.Mode = mode
	}
	c.net.mu.Unlock()
	if nc != nil {
		// No state or text: open pages refresh, without a toast or reload.
		c.events.Publish(Event{Type: "network"})
	}
}
