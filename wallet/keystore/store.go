package keystore

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
)

// FileName is the keystore's name inside the data folder. Lower-case only:
// FAT and exFAT compare names case-insensitively.
const FileName = "identity.keystore"

// Store is the keystore file in one data folder (BorgData/ on the stick).
// Methods are safe for concurrent use within one process; one process per
// stick is assumed (usbboot runs a single instance).
type Store struct {
	Dir    string // the data folder; must exist, is never created here
	Params Params // Argon2id cost for new files; zero means DefaultParams
}

func (s *Store) params() Params {
	if s.Params == (Params{}) {
		return DefaultParams
	}
	return s.Params
}

func (s *Store) path() string { return filepath.Join(s.Dir, FileName) }

func (s *Store) checkDir() error {
	if s.Dir == "" {
		return invalid("empty data folder path")
	}
	return nil
}

// locate runs recovery (see doc.go) and returns the current file's path.
func (s *Store) locate() (string, bool, error) {
	if err := s.checkDir(); err != nil {
		return "", false, err
	}
	fsMu.Lock()
	defer fsMu.Unlock()
	return recoverLocked(s.Dir)
}

// Exists reports whether the data folder holds a keystore file (of any
// content: damaged and foreign files count). A missing folder is
// ErrNoDataFolder, not false.
func (s *Store) Exists() (bool, error) {
	_, ok, err := s.locate()
	return ok, err
}

// readCurrent recovers, then reads the current file's bytes.
func (s *Store) readCurrent() ([]byte, string, error) {
	if err := s.checkDir(); err != nil {
		return nil, "", err
	}
	fsMu.Lock()
	defer fsMu.Unlock()
	p, ok, err := recoverLocked(s.Dir)
	if err != nil {
		return nil, "", err
	}
	if !ok {
		return nil, "", fmt.Errorf("%w (%s)", ErrNotFound, s.Dir)
	}
	b, err := readCapped(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, "", fmt.Errorf("%w (%s)", ErrNotFound, s.Dir)
		}
		return nil, "", fmt.Errorf("keystore: read: %w", err)
	}
	return b, p, nil
}

// ReadMeta returns the public header without the passphrase, after the full
// integrity check (signature, checksum over every byte, version, every
// field and the KDF cost limits). It detects accidental damage; deliberate
// edits with a recomputed checksum are caught only by Open.
func (s *Store) ReadMeta() (Meta, error) {
	b, p, err := s.readCurrent()
	if err != nil {
		return Meta{}, err
	}
	f, err := parse(b, fileLimits)
	if err != nil {
		return Meta{}, fmt.Errorf("%w (%s)", err, p)
	}
	return f.meta, nil
}

// Open checks, decrypts and returns the payload and header. The caller
// owns payload and must wipe it (clear) when done. Errors: ErrNotFound,
// ErrNoDataFolder, ErrWrongPassphrase, ErrCorrupt, ErrForeign,
// ErrUnsupportedVersion, or a wrapped OS error.
func (s *Store) Open(passphrase []byte) (payload []byte, meta Meta, err error) {
	b, p, err := s.readCurrent()
	if err != nil {
		return nil, Meta{}, err
	}
	payload, meta, err = openBytes(b, passphrase, fileLimits)
	if err != nil {
		return nil, Meta{}, fmt.Errorf("%w (%s)", err, p)
	}
	return payload, meta, nil
}

// OpenFile is Open for a keystore at an explicit path (e.g. a backup),
// without recovery.
func OpenFile(path string, passphrase []byte) (payload []byte, meta Meta, err error) {
	b, err := readCapped(path)
	if err != nil {
		return nil, Meta{}, readErr(err)
	}
	payload, meta, err = openBytes(b, passphrase, fileLimits)
	if err != nil {
		return nil, Meta{}, fmt.Errorf("%w (%s)", err, path)
	}
	return payload, meta, nil
}

// ReadMetaFile is ReadMeta for a keystore at an explicit path.
func ReadMetaFile(path string) (Meta, error) {
	b, err := readCapped(path)
	if err != nil {
		return Meta{}, readErr(err)
	}
	f, err := parse(b, fileLimits)
	if err != nil {
		return Meta{}, fmt.Errorf("%w (%s)", err, path)
	}
	return f.meta, nil
}

func readErr(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return fmt.Errorf("keystore: read: %w", err)
}

// Create writes a new keystore. It refuses with ErrExists when any file is
// already there. A zero meta.Created becomes the current time; Created is
// stored in UTC with nanoseconds.
func (s *Store) Create(payload, passphrase []byte, meta Meta) error {
	if err := s.checkWrite(payload, passphrase, meta); err != nil {
		return err
	}
	opMu.Lock()
	defer opMu.Unlock()
	p, ok, err := s.locate()
	if err != nil {
		return err
	}
	if ok {
		return fmt.Errorf("%w (%s)", ErrExists, p)
	}
	return s.write(payload, passphrase, meta.normalize())
}

// Replace is the explicit, confirmed overwrite (e.g. a restore from the 24
// words). If a file exists (of any content, even damaged or foreign) it is
// first copied to Dir/backups/identity-<UTC time>.keystore and the copy is
// verified; then the new keystore is written atomically. backupPath is ""
// when there was nothing to back up; it is also returned with an error if
// the backup was made but the write then failed (the old file is unchanged).
func (s *Store) Replace(payload, passphrase []byte, meta Meta) (backupPath string, err error) {
	if err := s.checkWrite(payload, passphrase, meta); err != nil {
		return "", err
	}
	opMu.Lock()
	defer opMu.Unlock()
	p, ok, err := s.locate()
	if err != nil {
		return "", err
	}
	if ok {
		if backupPath, err = makeBackup(s.Dir, p); err != nil {
			return "", err
		}
	}
	return backupPath, s.write(payload, passphrase, meta.normalize())
}

// ChangePassphrase re-encrypts the same payload and header under newPass
// with a fresh salt and nonce (and the Store's Params), after keeping a
// verified backup like Replace. The backup still opens with the old
// passphrase: delete it if the old passphrase was exposed.
func (s *Store) ChangePassphrase(oldPass, newPass []byte) error {
	if len(newPass) == 0 {
		return invalid("empty new passphrase")
	}
	if err := s.params().Validate(); err != nil {
		return err
	}
	opMu.Lock()
	defer opMu.Unlock()
	b, p, err := s.readCurrent()
	if err != nil {
		return err
	}
	payload, meta, err := openBytes(b, oldPass, fileLimits)
	if err != nil {
		return fmt.Errorf("%w (%s)", err, p)
	}
	defer clear(payload)
	if _, err := makeBackup(s.Dir, p); err != nil {
		return err
	}
	return s.write(payload, newPass, meta)
}

func (s *Store) checkWrite(payload, passphrase []byte, meta Meta) error {
	if err := s.checkDir(); err != nil {
		return err
	}
	if len(passphrase) == 0 {
		return invalid("empty passphrase")
	}
	if err := payloadOK(payload); err != nil {
		return err
	}
	if err := meta.validate(); err != nil {
		return invalid(err.Error())
	}
	return s.params().Validate()
}

// write seals, writes a verified temp file and commits it over the target.
// The caller holds opMu.
func (s *Store) write(payload, passphrase []byte, meta Meta) error {
	data, err := seal(payload, passphrase, meta, s.params())
	if err != nil {
		return err
	}
	tmp, err := writeTemp(s.Dir, data, func(back []byte) error {
		if subtle.ConstantTimeCompare(back, data) != 1 {
			return fmt.Errorf("%w: read-back differs from what was written", ErrVerifyFailed)
		}
		got, m, err := openBytes(back, passphrase, fileLimits)
		defer clear(got)
		switch {
		case err != nil:
			return fmt.Errorf("%w: %v", ErrVerifyFailed, err)
		case subtle.ConstantTimeCompare(got, payload) != 1 || !m.equal(meta):
			return fmt.Errorf("%w: decrypted content differs", ErrVerifyFailed)
		}
		return nil
	})
	if err != nil {
		return err
	}
	fsMu.Lock()
	defer fsMu.Unlock()
	return commitLocked(tmp, s.path())
}
