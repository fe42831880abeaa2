//go:build !linux

package keystore

import "testing"

// TestReadOnlyFolder needs Linux (it re-executes the test binary as user
// nobody when running as root); see readonly_linux_test.go.
func TestReadOnlyFolder(t *testing.T) {
	t.Skip("read-only folder test runs on linux only")
}
