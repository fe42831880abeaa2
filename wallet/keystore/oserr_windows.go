package keystore

import "syscall"

// Windows error codes that the generic syscall.ENOSPC / EROFS do not match.
var (
	osDiskFull = []error{
		syscall.Errno(112), // ERROR_DISK_FULL
		syscall.Errno(39),  // ERROR_HANDLE_DISK_FULL
	}
	osReadOnly = []error{
		syscall.Errno(19), // ERROR_WRITE_PROTECT
	}
)
