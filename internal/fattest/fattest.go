// Package fattest gives tests a real FAT filesystem to use as a USB
// stick: an image made by mkfs.vfat (Debian's dosfstools) and mounted
// with fusefat, since the kernels this runs on have no vfat module.
// Detach (fusermount -u -z) pulls the stick out from under a running
// process; Mount puts it back.
//
// Without the tools a test is skipped, unless BORGHUI_REQUIRE_FAT=1 (as
// in CI) makes that a failure.
package fattest

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Stick is one FAT image and the folder it is mounted on.
type Stick struct {
	Image string // the image file
	Dir   string // the mount point: the stick's root while mounted

	t    testing.TB
	fuse *exec.Cmd
	done chan struct{}
}

// New makes a FAT32 image of size bytes and mounts it. It is detached
// when the test ends.
func New(t testing.TB, size int64) *Stick {
	t.Helper()
	for _, tool := range []string{"mkfs.vfat", "fusefat", "fusermount"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("BORGHUI_REQUIRE_FAT") == "1" {
				t.Fatalf("%s is required for the FAT tests: apt-get install dosfstools fusefat fuse3", tool)
			}
			t.Skipf("no %s (apt-get install dosfstools fusefat fuse3); skipping the FAT test", tool)
		}
	}
	dir := t.TempDir()
	s := &Stick{Image: filepath.Join(dir, "stick.img"), Dir: filepath.Join(dir, "stick"), t: t}
	if err := os.Mkdir(s.Dir, 0o700); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(s.Image)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if out, err := exec.Command("mkfs.vfat", "-F", "32", "-s", "8", "-n", "BORGSTICK", s.Image).CombinedOutput(); err != nil {
		t.Fatalf("mkfs.vfat: %v\n%s", err, out)
	}
	s.Mount()
	t.Cleanup(func() {
		if s.fuse != nil {
			s.Detach()
			s.WaitGone(10 * time.Second)
		}
	})
	return s
}

// Mount mounts the image on Dir (again) and waits until it is there.
func (s *Stick) Mount() {
	s.t.Helper()
	s.fuse = exec.Command("fusefat", "-f", "-o", "rw+", s.Image, s.Dir)
	if err := s.fuse.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(s.fuse, s.done)
	for deadline := time.Now().Add(10 * time.Second); !Mounted(s.Dir); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			_ = s.fuse.Process.Kill()
			s.t.Fatal("fusefat did not mount the image in 10 s")
		}
	}
}

// Detach pulls the stick out: the mount point is detached at once (lazily,
// as files may be open on it); fusefat finishes the writes already made
// and exits when the last file is closed.
func (s *Stick) Detach() {
	s.t.Helper()
	if out, err := exec.Command("fusermount", "-u", "-z", s.Dir).CombinedOutput(); err != nil {
		s.t.Fatalf("fusermount -u -z: %v\n%s", err, out)
	}
}

// WaitGone waits up to d for fusefat to exit after Detach, so the image
// is complete and may be mounted again; past d it is killed and the test
// fails.
func (s *Stick) WaitGone(d time.Duration) {
	s.t.Helper()
	select {
	case <-s.done:
	case <-time.After(d):
		_ = s.fuse.Process.Kill()
		<-s.done
		s.t.Errorf("fusefat still ran %v after the stick was detached (a file left open?)", d)
	}
	s.fuse = nil
}

// Mounted reports whether dir is a mount point now.
func Mounted(dir string) bool {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) > 4 && fields[4] == dir {
			return true
		}
	}
	return false
}
