package keystore

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// roChildEnv, when set, makes TestReadOnlyFolder run its checks on the
// folder named by the variable (in a child process running as nobody).
const roChildEnv = "BORGHUI_KEYSTORE_READONLY_ROOT"

const nobody = 65534

// TestReadOnlyFolder proves the behaviour on a data folder the process
// cannot write. chmod alone does not stop root (CI runs as root), so as
// root the test binary is re-executed as user nobody (uid/gid 65534) on a
// root-owned 0555 folder; as another user the folder is simply chmod 0555.
func TestReadOnlyFolder(t *testing.T) {
	if root := os.Getenv(roChildEnv); root != "" {
		checkReadOnly(t, root)
		return
	}
	root, err := os.MkdirTemp("", "keystore-ro-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		filepath.Walk(root, func(p string, _ os.FileInfo, _ error) error { return os.Chmod(p, 0o755) })
		os.RemoveAll(root)
	})
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	empty, full := filepath.Join(root, "empty"), filepath.Join(root, "full")
	for _, d := range []string{empty, full} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s := &Store{Dir: full, Params: TestParams}
	if err := s.Create(testPayload, testPass, testMeta); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		// nobody owns the keystore file (so it can read it), root owns the folders.
		if err := os.Chown(s.path(), nobody, nobody); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{empty, full} {
		if err := os.Chmod(d, 0o555); err != nil {
			t.Fatal(err)
		}
	}
	beforeEmpty, beforeFull := snapshot(t, empty), snapshot(t, full)

	if os.Geteuid() != 0 {
		checkReadOnly(t, root)
	} else {
		// Copy the test binary where nobody can execute it (the go build
		// cache folder is 0700), then run only this test as nobody.
		self, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		bin, err := os.ReadFile(self)
		if err != nil {
			t.Fatal(err)
		}
		exe := filepath.Join(root, "keystore.test")
		if err := os.WriteFile(exe, bin, 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(exe, "-test.run=^TestReadOnlyFolder$", "-test.v", "-test.count=1")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), roChildEnv+"="+root)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody, Groups: []uint32{}}}
		out, err := cmd.CombinedOutput()
		if err != nil || !bytes.Contains(out, []byte("--- PASS: TestReadOnlyFolder")) {
			t.Fatalf("child as nobody failed: %v\n%s", err, out)
		}
		t.Logf("child as uid %d passed:\n%s", nobody, out)
	}
	assertSnapshot(t, empty, beforeEmpty)
	assertSnapshot(t, full, beforeFull)
}

// checkReadOnly runs in a process that cannot write root/empty or root/full.
func checkReadOnly(t *testing.T, root string) {
	empty, full := filepath.Join(root, "empty"), filepath.Join(root, "full")
	if err := os.WriteFile(filepath.Join(full, "probe"), nil, 0o600); err == nil {
		t.Fatalf("uid %d can write %s: the test would prove nothing", os.Geteuid(), full)
	}
	beforeEmpty, beforeFull := snapshot(t, empty), snapshot(t, full)

	e := &Store{Dir: empty, Params: TestParams}
	if err := e.Create(testPayload, testPass, testMeta); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Create: %v, want ErrReadOnly", err)
	} else {
		checkUserMessage(t, err)
	}

	s := &Store{Dir: full, Params: TestParams}
	// A read-only stick still unlocks.
	if p, _, err := s.Open(testPass); err != nil || !bytes.Equal(p, testPayload) {
		t.Errorf("Open: %v", err)
	}
	if _, err := s.ReadMeta(); err != nil {
		t.Errorf("ReadMeta: %v", err)
	}
	if err := s.Create(newPayload, otherPass, newMeta); !errors.Is(err, ErrExists) {
		t.Errorf("Create over existing: %v", err)
	}
	if b, err := s.Replace(newPayload, otherPass, newMeta); !errors.Is(err, ErrReadOnly) || b != "" {
		t.Errorf("Replace: %q, %v, want ErrReadOnly", b, err)
	}
	if err := s.ChangePassphrase(testPass, otherPass); !errors.Is(err, ErrReadOnly) {
		t.Errorf("ChangePassphrase: %v, want ErrReadOnly", err)
	}
	assertSnapshot(t, empty, beforeEmpty)
	assertSnapshot(t, full, beforeFull)
}
