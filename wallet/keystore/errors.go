package keystore

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"
)

// Sentinel errors. Test with errors.Is: every error returned by this package
// wraps at most one of these (plus, for OS failures, the OS error itself).
// Error texts carry paths and technical detail for the log; they never carry
// a passphrase or payload byte. Use UserMessage for text shown to a person.
var (
	// ErrNotFound: the data folder exists but holds no keystore.
	ErrNotFound = errors.New("keystore: no identity keystore in the data folder")
	// ErrExists: Create found a keystore (of any kind, even damaged or foreign);
	// overwriting needs the explicit Replace.
	ErrExists = errors.New("keystore: an identity keystore already exists")
	// ErrWrongPassphrase: the file is intact but the passphrase check value
	// does not match. A deliberately edited salt or KDF parameter (with a
	// recomputed checksum) also lands here: without the key, the two cannot
	// be told apart.
	ErrWrongPassphrase = errors.New("keystore: wrong passphrase")
	// ErrCorrupt: the file starts like a BorgHUI keystore but is truncated,
	// has flipped bytes, a bad checksum, impossible fields, absurd KDF
	// parameters, or (after a correct passphrase) fails authentication.
	ErrCorrupt = errors.New("keystore: keystore file is damaged")
	// ErrForeign: the file is not a BorgHUI keystore at all.
	ErrForeign = errors.New("keystore: not a borghui keystore file")
	// ErrUnsupportedVersion: an intact BorgHUI keystore written in a newer
	// format version than this build reads.
	ErrUnsupportedVersion = errors.New("keystore: keystore format is newer than this build supports")
	// ErrNoDataFolder: Store.Dir does not exist (or is not a folder). The
	// package never creates it; that is usbboot's job.
	ErrNoDataFolder = errors.New("keystore: data folder is missing")
	// ErrReadOnly: the data folder cannot be written (write-protected stick,
	// read-only mount, no permission).
	ErrReadOnly = errors.New("keystore: data folder is read-only")
	// ErrDiskFull: no space (or quota) left for the new file or backup.
	ErrDiskFull = errors.New("keystore: not enough space in the data folder")
	// ErrVerifyFailed: a file just written (keystore temp file or backup) did
	// not read back identical and decryptable; nothing was replaced.
	ErrVerifyFailed = errors.New("keystore: written file did not verify")
	// ErrInvalid: a caller error (empty Dir, empty passphrase, empty or
	// oversized payload, malformed Meta, out-of-range Params).
	ErrInvalid = errors.New("keystore: invalid argument")
)

// UserMessage returns a short, actionable sentence for a person about err,
// or "" for nil. It is built only from fixed texts, so it never contains a
// path, a passphrase or any other detail of err; log err itself separately.
func UserMessage(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrWrongPassphrase):
		return "That passphrase does not open this identity. Check it and try again."
	case errors.Is(err, ErrUnsupportedVersion):
		return "This identity was saved by a newer BorgHUI. Open it with the newer BorgHUI version."
	case errors.Is(err, ErrForeign):
		return "The identity file on this stick is not a BorgHUI identity. Restore from your 24 words."
	case errors.Is(err, ErrCorrupt):
		return "The identity file on this stick is damaged. Restore from your 24 words."
	case errors.Is(err, ErrNotFound):
		return "There is no identity on this stick yet. Create one or restore from your 24 words."
	case errors.Is(err, ErrExists):
		return "An identity already exists on this stick. Unlock it, or choose to replace it."
	case errors.Is(err, ErrNoDataFolder):
		return "The BorgData folder is missing. Check that the stick is plugged in and try again."
	case errors.Is(err, ErrReadOnly):
		return "The data folder is read-only. Turn off the stick's write protection or use a writable stick, then try again."
	case errors.Is(err, ErrDiskFull):
		return "The stick is full. Free some space on it and try again."
	case errors.Is(err, ErrVerifyFailed):
		return "Saving to the stick failed a check; nothing was changed. The stick may be failing: try again or use another stick."
	case errors.Is(err, ErrInvalid):
		return "BorgHUI could not save this identity because of an internal error. Please report it."
	default:
		return "The identity file could not be read or written. Check the stick and try again."
	}
}

// corrupt returns ErrCorrupt with a technical detail for the log.
func corrupt(detail string) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, detail)
}

// invalid returns ErrInvalid with a technical detail for the log.
func invalid(detail string) error {
	return fmt.Errorf("%w: %s", ErrInvalid, detail)
}

// writeErr classifies an OS error from a write path (create, write, sync,
// rename, mkdir) into one of the sentinels, keeping the OS error wrapped.
func writeErr(err error) error {
	switch {
	case isDiskFull(err):
		return fmt.Errorf("%w: %w", ErrDiskFull, err)
	case isReadOnly(err):
		return fmt.Errorf("%w: %w", ErrReadOnly, err)
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
		return fmt.Errorf("%w: %w", ErrNoDataFolder, err)
	default:
		return fmt.Errorf("keystore: %w", err)
	}
}

// folderErr classifies an error from reading the data folder itself.
func folderErr(err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("%w: %w", ErrNoDataFolder, err)
	}
	return fmt.Errorf("keystore: data folder: %w", err)
}

func isDiskFull(err error) bool {
	if errors.Is(err, syscall.ENOSPC) {
		return true
	}
	for _, e := range osDiskFull {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func isReadOnly(err error) bool {
	if errors.Is(err, syscall.EROFS) || errors.Is(err, fs.ErrPermission) {
		return true
	}
	for _, e := range osReadOnly {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
