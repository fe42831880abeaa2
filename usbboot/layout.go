package usbboot

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// DataFolderName is the name of the data folder beside the binary.
const DataFolderName = "BorgData"

// Layout names every path the conduit uses on the stick.
type Layout struct {
	// Root is the stick root: the folder the binary lives in.
	Root string
	// Data is the data folder; everything the conduit writes goes below it.
	Data string
}

// Locate finds the stick layout. dataFlag, when not empty, names the data
// folder explicitly (relative paths are taken from the working directory);
// otherwise it is BorgData/ beside the running binary. The data folder is
// created if missing; its parent must exist.
func Locate(dataFlag string) (Layout, error) {
	exe, err := os.Executable()
	if err != nil {
		return Layout{}, fmt.Errorf("usbboot: finding the binary: %w", err)
	}
	if resolved, err := filepath.EvalSymlinks(exe); err == nil {
		exe = resolved
	}
	l := Layout{Root: filepath.Dir(exe)}
	if dataFlag != "" {
		l.Data, err = filepath.Abs(dataFlag)
		if err != nil {
			return Layout{}, fmt.Errorf("usbboot: data folder %q: %w", dataFlag, err)
		}
	} else {
		l.Data = filepath.Join(l.Root, DataFolderName)
	}
	if err := l.ensure(); err != nil {
		return Layout{}, err
	}
	return l, nil
}

func (l Layout) ensure() error {
	parent := filepath.Dir(l.Data)
	if st, err := os.Stat(parent); err != nil || !st.IsDir() {
		return fmt.Errorf("usbboot: the folder %s does not exist, so the data folder cannot be made there", parent)
	}
	if err := os.Mkdir(l.Data, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("usbboot: making the data folder: %w", err)
	}
	if st, err := os.Stat(l.Data); err != nil || !st.IsDir() {
		return fmt.Errorf("usbboot: %s is not a folder", l.Data)
	}
	return nil
}

// Keystore is the folder that holds the identity keystore and its backups.
func (l Layout) Keystore() string { return l.Data }

// Logs is the folder for the conduit's log files.
func (l Layout) Logs() string { return filepath.Join(l.Data, "logs") }

// Journals is where unfinished transfers keep their progress journals, so
// they resume after a crash or a pulled stick.
func (l Layout) Journals() string { return filepath.Join(l.Data, "journals") }

// Settings is the file of small, non-secret per-stick settings.
func (l Layout) Settings() string { return filepath.Join(l.Data, "settings.json") }

// HostFingerprint identifies this computer without naming it: a hash of the
// host name and, where there is one, the machine id. It keys per-computer
// choices kept on the stick (such as "remember my passphrase here").
func HostFingerprint() string {
	h := sha256.New()
	h.Write([]byte("borghui-host/v1\n"))
	name, _ := os.Hostname()
	h.Write([]byte(name))
	for _, p := range []string{"/etc/machine-id", "/var/lib/dbus/machine-id"} {
		if id, err := os.ReadFile(p); err == nil {
			h.Write(id)
			break
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
