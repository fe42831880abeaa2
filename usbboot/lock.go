package usbboot

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/borgios/borghui/internal/dirs"
)

// ErrRunning: another borghui already runs from this stick.
var ErrRunning = errors.New("usbboot: BorgHUI is already running from this stick")

const (
	lockName     = "borghui.lock"
	instanceName = "instance.url"
	handoffDir   = "handoff"
)

// Instance is this run's hold on the stick: one borghui per data folder.
type Instance struct {
	l         Layout
	f         *os.File
	published atomic.Bool
	// unanchor ends the data folder's registration as a folder never to
	// be made again (see [dirs.Anchor]).
	unanchor func()
}

// Lock takes the stick's single-instance lock. When another run holds it,
// the error is ErrRunning (see Handoff). From here until Release the data
// folder is anchored: should it vanish (the stick pulled), no folder is
// made at its old path, which would be the host's disk.
func (l Layout) Lock() (*Instance, error) {
	f, err := os.OpenFile(filepath.Join(l.Data, lockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("usbboot: opening the lock: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		if errors.Is(err, errLocked) {
			return nil, ErrRunning
		}
		return nil, fmt.Errorf("usbboot: taking the lock: %w", err)
	}
	return &Instance{l: l, f: f, unanchor: dirs.Anchor(l.Data)}, nil
}

// Publish records this run's UI address, where a second double-click
// asks for a browser window (see Handoff).
func (in *Instance) Publish(baseURL string) error {
	// A run cut short (the stick pulled) leaves its address behind. It is
	// removed, not overwritten: some FAT drivers lose data when a file is
	// reopened and written past its end.
	p := filepath.Join(in.l.Data, instanceName)
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.WriteFile(p, []byte(baseURL+"\n"), 0o600); err != nil {
		return err
	}
	in.published.Store(true)
	return nil
}

// Release lets the stick go (and forgets the published address).
func (in *Instance) Release() {
	os.Remove(filepath.Join(in.l.Data, instanceName))
	unlockFile(in.f)
	in.f.Close()
	in.unanchor()
}

// CheckHandoff reports whether nonce names a handoff file a second run
// wrote into this stick's data folder, and consumes it. Only someone who
// can write to the stick can make one, which is what lets them have a
// new launch link.
func (in *Instance) CheckHandoff(nonce string) bool {
	if len(nonce) != 64 || strings.Trim(nonce, "0123456789abcdef") != "" {
		return false
	}
	p := filepath.Join(in.l.Data, handoffDir, nonce)
	if _, err := os.Stat(p); err != nil {
		return false
	}
	return os.Remove(p) == nil
}

// Handoff asks the run that holds the stick for a new launch link: it
// writes a one-time file into the data folder and names it to the running
// UI, which answers with a link when the file is there.
func (l Layout) Handoff() (string, error) {
	base, err := os.ReadFile(filepath.Join(l.Data, instanceName))
	if err != nil {
		return "", fmt.Errorf("usbboot: the running BorgHUI left no address: %w", err)
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	nonce := hex.EncodeToString(b[:])
	dir := filepath.Join(l.Data, handoffDir)
	if err := dirs.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	p := filepath.Join(dir, nonce)
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		return "", err
	}
	defer os.Remove(p)
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(strings.TrimSpace(string(base)) + "/handoff?nonce=" + nonce)
	if err != nil {
		return "", fmt.Errorf("usbboot: asking the running BorgHUI: %w", err)
	}
	defer resp.Body.Close()
	link, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil || resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("usbboot: the running BorgHUI refused the handoff (%s)", resp.Status)
	}
	return strings.TrimSpace(string(link)), nil
}
