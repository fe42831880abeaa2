package shard

import (
	"bufio"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"testing"
)

const crashEnv = "SHARD_CRASH_CHILD_DIR"

// TestMain lets the test binary play the child of TestKill9: it stores
// blobs as fast as it can, printing each id once Put has acknowledged it.
func TestMain(m *testing.M) {
	if dir := os.Getenv(crashEnv); dir != "" {
		s, err := OpenStore(StoreConfig{Dir: dir})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		for {
			blob := make([]byte, 64<<10)
			rand.Read(blob)
			id := Sum(blob)
			if _, err := s.Put(id, []string{alice}, blob); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
			fmt.Fprintln(os.Stdout, id) // unbuffered: the parent sees only acknowledged ids
		}
	}
	os.Exit(m.Run())
}

// TestKill9 kills a process with SIGKILL in the middle of a stream of
// puts and checks that every shard it acknowledged is there, intact, after
// reopening.
func TestKill9(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked []ID
	sc := bufio.NewScanner(out)
	for len(acked) < 40 && sc.Scan() {
		id, err := ParseID(sc.Text())
		if err != nil {
			t.Fatalf("child said %q", sc.Text())
		}
		acked = append(acked, id)
	}
	cmd.Process.Kill() // SIGKILL mid-put
	cmd.Wait()
	if len(acked) < 40 {
		t.Fatalf("child acknowledged only %d shards", len(acked))
	}
	s := openTestStore(t, dir, 0)
	for _, id := range acked {
		if !s.Verify(id) {
			t.Fatalf("acknowledged shard %s lost", id)
		}
	}
	st := s.Stats()
	if st.DroppedMeta != 0 || st.Shards < len(acked) {
		t.Fatalf("after the kill: %+v", st)
	}
	t.Logf("%d acknowledged shards survived; %d more stored, %d orphan(s) queued", len(acked), st.Shards-len(acked), st.Orphans)
}
