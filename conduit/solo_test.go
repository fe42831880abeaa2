package conduit

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/borgios/borghui/conduit/drive"
	"github.com/borgios/borghui/internal/seglog"
	"github.com/borgios/borghui/peer"
	"github.com/borgios/borghui/wallet"
)

// randomIP is a loopback address other tests are unlikely to use.
func randomIP() string {
	return fmt.Sprintf("127.%d.%d.%d", 100+mrand.IntN(150), mrand.IntN(250), 10+mrand.IntN(200))
}

// startOneNode runs an in-process node of every cell at ip (real TLS, the
// cells' usual ports) with its data in a folder of its own.
func startOneNode(t *testing.T, ip string) error {
	t.Helper()
	key, err := wallet.NewNodeKey()
	if err != nil {
		t.Fatal(err)
	}
	dnas, err := peer.CellsAt(0)
	if err != nil {
		t.Fatal(err)
	}
	clock := NewNetClock(time.Now)
	n, err := peer.Start(context.Background(), peer.Config{Key: key, Cells: dnas, IP: ip, Clock: clock.Now, DataDir: t.TempDir()})
	if err != nil {
		key.Destroy()
		return err
	}
	stop, err := MountCellServers(n, CellsConfig{Dir: t.TempDir(), Clock: clock, Key: key})
	if err != nil {
		n.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { stop(); n.Close(); key.Destroy() })
	return nil
}

// waitFor polls cond every 50 ms until it holds, or fails the test.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(within); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", within, what)
		}
	}
}

// TestSoloMovesToNetwork: with the network out of reach the conduit runs
// on the solo network; files stored there move to the network once it
// answers — folders mirrored, bytes intact, the solo network stopped —
// and the session moves with them. A second move copies nothing, and a
// move cut short after a file was stored adopts that file rather than
// storing it twice.
func TestSoloMovesToNetwork(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	soloIP := randomIP()
	for range 5 {
		if startOneNode(t, soloIP) == nil {
			break
		}
		soloIP = randomIP()
	}
	soloEps, err := EndpointsAt(soloIP)
	if err != nil {
		t.Fatal(err)
	}
	netIP := randomIP() // nothing listens there yet
	var soloStopped atomic.Bool
	dir := t.TempDir()
	nc := &NetworkConfig{Mode: "guest", Dir: dir, Poll: 50 * time.Millisecond, Replicas: 1,
		Endpoints: func(context.Context) (Endpoints, error) { return EndpointsAt(netIP) },
		Solo:      func(context.Context) (Endpoints, error) { return soloEps, nil },
		SoloStop:  func() { soloStopped.Store(true) },
	}
	if err := os.Mkdir(filepath.Join(dir, "keystore"), 0o700); err != nil {
		t.Fatal(err)
	}
	c := New(Config{KeystoreDir: filepath.Join(dir, "keystore"), TestKDF: true, Network: nc})
	t.Cleanup(c.Close)
	pass := []byte("a passphrase for the test")
	if err := c.RestoreWords([]byte(settingsWords), nil, pass, pass, false); err != nil {
		t.Fatal(err)
	}
	var solo *Session
	waitFor(t, time.Minute, "no session on the solo network", func() bool {
		s, err := c.Session()
		solo = s
		return err == nil && c.NetworkStatus().Mode == "solo"
	})

	docs, err := solo.Drive.Mkdir(ctx, "", "Docs")
	if err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 700<<10+3)
	rand.Read(big)
	small := []byte("stored while offline\n")
	a, _, err := solo.Upload(ctx, docs.ID, "a.bin", "application/octet-stream", bytes.NewReader(big), int64(len(big)), 1763700000123, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := solo.Upload(ctx, "", "b.txt", "text/plain", bytes.NewReader(small), int64(len(small)), 0, nil); err != nil {
		t.Fatal(err)
	}
	if !soloPending(dir) {
		t.Fatal("the solo network was used but no move is pending")
	}

	// The network comes up.
	if err := startOneNode(t, netIP); err != nil {
		t.Fatal(err)
	}
	c.TryNetwork()
	waitFor(t, time.Minute, "the solo data did not move", func() bool {
		st := c.NetworkStatus()
		return st.Moved != nil && !st.Moving && st.Mode == "guest"
	})
	st := c.NetworkStatus()
	if m := st.Moved; m.Files != 2 || m.Folders != 1 || m.Bytes != int64(len(big)+len(small)) || m.Done.IsZero() {
		t.Fatalf("moved %+v, want 2 files, 1 folder, %d bytes", m, len(big)+len(small))
	}
	t.Log(st.Moved.Summary())
	if !soloStopped.Load() {
		t.Fatal("the solo network was not stopped after the move")
	}
	if soloPending(dir) {
		t.Fatal("a move is still pending after a complete one")
	}
	network, err := c.Session()
	if err != nil || network == solo {
		t.Fatalf("the session did not move to the network: %v", err)
	}
	read := func(s *Session, path ...string) []byte {
		t.Helper()
		parent := drive.EntryID("")
		var e drive.Entry
		for _, name := range path {
			kids, err := s.Drive.List(parent)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, k := range kids {
				if k.Name == name {
					e, parent, found = k, k.ID, true
				}
			}
			if !found {
				t.Fatalf("%v: %q missing (have %v)", path, name, kids)
			}
		}
		_, r, err := s.Drive.Open(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if got := read(network, "Docs", "a.bin"); !bytes.Equal(got, big) {
		t.Fatalf("Docs/a.bin on the network: %d bytes that differ from the %d stored", len(got), len(big))
	}
	if got := read(network, "b.txt"); !bytes.Equal(got, small) {
		t.Fatalf("b.txt on the network: %q", got)
	}

	// Again, from a fresh solo session: nothing new to copy.
	from, err := c.connectOnce(ctx, nc, soloSource)
	if err != nil {
		t.Fatal(err)
	}
	defer from.Close()
	if m, err := c.moveOnce(ctx, nc, from, network); err != nil || m.Files != 0 || m.Folders != 0 {
		t.Fatalf("a second move: %+v %v, want nothing copied", m, err)
	}

	// A move cut short after a.bin was stored but before that was logged:
	// the log says it started, and the network has a file of that name and
	// size where it was going.
	l, recs, err := seglog.Open(filepath.Join(dir, MoveLogFile))
	if err != nil {
		t.Fatal(err)
	}
	var keep [][]byte
	for _, b := range recs {
		var ml moveLine
		if json.Unmarshal(b, &ml) == nil && ml.Op == "done" && ml.Src == a.ID {
			b, _ = json.Marshal(moveLine{Op: "start", Src: a.ID, Name: "a.bin"})
		}
		if ml.Op != "complete" {
			keep = append(keep, b)
		}
	}
	solo1, _ := json.Marshal(moveLine{Op: "solo"})
	if err := l.Compact(append(keep, solo1)); err != nil {
		t.Fatal(err)
	}
	l.Close()
	if !soloPending(dir) {
		t.Fatal("the doctored log shows no pending move")
	}
	if m, err := c.moveOnce(ctx, nc, from, network); err != nil || m.Files != 0 {
		t.Fatalf("the resumed move: %+v %v, want the stored a.bin adopted, not copied again", m, err)
	}
	kids, _ := network.Drive.List(network.Drive.Search("Docs")[0].ID)
	if len(kids) != 1 {
		t.Fatalf("Docs on the network holds %d entries, want 1: %v", len(kids), kids)
	}
}

func TestFreeName(t *testing.T) {
	kids := func(names ...string) []drive.Entry {
		var out []drive.Entry
		for _, n := range names {
			out = append(out, drive.Entry{Name: n})
		}
		return out
	}
	for _, tc := range []struct {
		kids []drive.Entry
		name string
		want string
	}{
		{kids("report.pdf"), "report.pdf", "report (solo).pdf"},
		{kids("report.pdf", "report (solo).pdf"), "report.pdf", "report (solo 2).pdf"},
		{kids("Docs"), "Docs", "Docs (solo)"},
		{kids(".profile"), ".profile", ".profile (solo)"},
		{kids("archive.tar.gz"), "archive.tar.gz", "archive.tar (solo).gz"},
		{kids("notes. old"), "notes. old", "notes. old (solo)"},
	} {
		if got := freeName(tc.kids, tc.name); got != tc.want {
			t.Errorf("freeName(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}
