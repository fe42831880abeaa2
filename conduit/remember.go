package conduit

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"

	"github.com/borgios/borghui/wallet"
)

// RememberList records, on the stick, on which computers the person chose
// "remember my passphrase on this computer". The conduit asks a host's
// keyring only where this list says so: merely asking can start a keyring
// daemon, which is a trace of its own.
type RememberList struct {
	// Path is the settings file on the stick.
	Path string
	// Host is this computer's fingerprint (see usbboot.HostFingerprint).
	Host string

	mu sync.Mutex
}

type rememberFile struct {
	// Remembered maps a host fingerprint to the MUIDs remembered there.
	Remembered map[string][]string `json:"remembered"`
}

func (r *RememberList) load() (rememberFile, error) {
	f := rememberFile{Remembered: map[string][]string{}}
	data, err := os.ReadFile(r.Path)
	if errors.Is(err, os.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return f, fmt.Errorf("conduit: reading settings: %w", err)
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return rememberFile{Remembered: map[string][]string{}}, fmt.Errorf("conduit: settings file is damaged: %w", err)
	}
	if f.Remembered == nil {
		f.Remembered = map[string][]string{}
	}
	return f, nil
}

func (r *RememberList) store(f rememberFile) error {
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return replaceFile(r.Path, "settings-*.tmp", "settings", data)
}

// Has reports whether muid is remembered on this host.
func (r *RememberList) Has(muid string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	f, err := r.load()
	return err == nil && slices.Contains(f.Remembered[r.Host], muid)
}

func (r *RememberList) set(muid string, on bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	f, err := r.load()
	if err != nil {
		return err
	}
	list := slices.DeleteFunc(f.Remembered[r.Host], func(m string) bool { return m == muid })
	if on {
		list = append(list, muid)
	}
	if len(list) == 0 {
		delete(f.Remembered, r.Host)
	} else {
		f.Remembered[r.Host] = list
	}
	return r.store(f)
}

// Remembered reports whether the unlocked identity's passphrase is
// remembered on this computer.
func (c *Conduit) Remembered() bool {
	info, err := c.Identity()
	return err == nil && c.cfg.Remember != nil && c.cfg.Remember.Has(info.MUID)
}

// Remember stores the passphrase in this computer's keyring (the opt-in that
// leaves a trace on the host). The passphrase must open the keystore.
func (c *Conduit) Remember(passphrase []byte) error {
	if c.cfg.Remember == nil {
		return wallet.ErrNoKeyring
	}
	info, err := c.Identity()
	if err != nil {
		return err
	}
	payload, _, err := c.store.Open(passphrase)
	if err != nil {
		return fromKeystore(err)
	}
	clear(payload)
	if err := wallet.Remember(info.MUID, passphrase); err != nil {
		return err
	}
	if err := c.cfg.Remember.set(info.MUID, true); err != nil {
		_ = wallet.Forget(info.MUID)
		return err
	}
	c.log.Info("passphrase remembered on this computer at the person's request")
	return nil
}

// Forget removes the passphrase from this computer's keyring.
func (c *Conduit) Forget() error {
	if c.cfg.Remember == nil {
		return nil
	}
	info, err := c.LockedIdentity()
	if err != nil {
		return err
	}
	if err := wallet.Forget(info.MUID); err != nil {
		return err
	}
	return c.cfg.Remember.set(info.MUID, false)
}

// UnlockRemembered unlocks with the passphrase remembered on this computer,
// if the person chose that here. It reports whether it unlocked.
func (c *Conduit) UnlockRemembered() (bool, error) {
	if c.cfg.Remember == nil {
		return false, nil
	}
	info, err := c.LockedIdentity()
	if err != nil || !c.cfg.Remember.Has(info.MUID) {
		return false, nil
	}
	pass, err := wallet.Recall(info.MUID)
	if err != nil {
		return false, err
	}
	defer clear(pass)
	if err := c.Unlock(pass); err != nil {
		return false, err
	}
	return true, nil
}
