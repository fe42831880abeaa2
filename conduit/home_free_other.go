//go:build !linux && !darwin && !windows

package conduit

import "errors"

// diskFree is not measured on this system, so home mode cannot check a
// quota against the disk and is refused.
func diskFree(string) (int64, error) {
	return 0, errors.New("conduit: free space is not measured on this system")
}
