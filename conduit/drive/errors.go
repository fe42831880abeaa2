package drive

import "errors"

// Sentinel errors. Errors of this package wrap one of them (test with
// errors.Is) and add what was being done; the sentinel's own text is short
// enough to show to the person as is.
var (
	// ErrNotFound: no entry with that ID, or its folder is gone.
	ErrNotFound = errors.New("no such file or folder")
	// ErrExists: the folder already holds an entry (file or folder) with
	// that exact name.
	ErrExists = errors.New("an entry with that name is already in this folder")
	// ErrBadName: empty, longer than 255 bytes, not UTF-8, "." or "..", or
	// holding "/", NUL or another control character.
	ErrBadName = errors.New("that name is not allowed")
	// ErrBadType: a MIME type longer than 255 bytes, not UTF-8 or holding a
	// control character.
	ErrBadType = errors.New("that file type is not allowed")
	// ErrNotFolder: the entry is a file where a folder is needed.
	ErrNotFolder = errors.New("that is not a folder")
	// ErrIsFolder: the entry is a folder where a file is needed.
	ErrIsFolder = errors.New("that is a folder")
	// ErrRoot: the top folder cannot be renamed, moved or deleted.
	ErrRoot = errors.New("the top folder cannot be changed")
	// ErrMoveInside: a folder cannot move into itself or one of its
	// subfolders.
	ErrMoveInside = errors.New("a folder cannot move into itself")
	// ErrConflict: the folder tree kept changing elsewhere (another device
	// of the same person) and the change could not be saved; nothing was
	// changed, try again.
	ErrConflict = errors.New("the folder tree kept changing elsewhere; try again")
	// ErrCorrupt: the stored folder index or its root record does not open
	// with this identity, or is not well formed. Nothing is written over it.
	ErrCorrupt = errors.New("the folder index is damaged or not yours")
	// ErrFull: the sealed index would exceed MaxIndex.
	ErrFull = errors.New("too many files and folders")
	// ErrNotLoaded: List, Get or Open before a successful Load.
	ErrNotLoaded = errors.New("the folder tree is not loaded yet")
)
