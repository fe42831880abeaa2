//go:build !windows

package keystore

import "syscall"

// Extra OS errors classified as "disk full" / "read-only" besides
// syscall.ENOSPC, syscall.EROFS and fs.ErrPermission.
var (
	osDiskFull = []error{syscall.EDQUOT}
	osReadOnly []error
)
