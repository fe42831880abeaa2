package ftree

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/borgios/borghui/peer"
	"github.com/borgios/borghui/peer/transport"
)

// testIP returns a loopback address no other test of this run uses.
func testIP() string {
	return fmt.Sprintf("127.%d.%d.%d", 100+rand.IntN(150), rand.IntN(250), 10+rand.IntN(200))
}

// startNode runs one ftree node with a Server mounted, on real TLS.
func startNode(t *testing.T) *peer.Cell {
	t.Helper()
	return startNodeWith(t, ServerConfig{})
}

func startNodeWith(t *testing.T, cfg ServerConfig) *peer.Cell {
	t.Helper()
	key := newKey(t)
	var n *peer.Node
	var err error
	for range 5 { // another test may hold the address
		n, err = peer.Start(context.Background(), peer.Config{Key: key, Cells: []peer.DNA{peer.FtreeCell}, IP: testIP()})
		if err == nil {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	cfg.Dir = t.TempDir()
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		n.Close()
		srv.Close()
	})
	cell := n.Cell(peer.FtreeCell.Name)
	if err := srv.Mount(cell); err != nil {
		t.Fatal(err)
	}
	return cell
}

// dial returns a Client of cell whose requests k signs.
func dial(t *testing.T, cell *peer.Cell, k *MemECDHKey) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tc, err := transport.Dial(ctx, cell.ReceptorAddr(), transport.ClientConfig{Key: k, Expect: transport.NodeID(cell.ID())})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tc.Close() })
	return NewClient(TransportCaller{C: tc})
}

func newKey(t testing.TB) *MemECDHKey {
	t.Helper()
	k, err := GenerateMemECDHKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func pub(t testing.TB, k *MemECDHKey) PubKey {
	t.Helper()
	p, err := PubKeyOf(k.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func hashOf(s string) Hash {
	var h Hash
	copy(h[:], s)
	h[31] = 1
	return h
}

func next(t testing.TB, k *MemECDHKey, cur *RootRecord, manifest string) *RootRecord {
	t.Helper()
	r, err := NextRoot(k, cur, hashOf(manifest), uint64(len(manifest)), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func testCap(name string) *Capability {
	key := make([]byte, KeyLen)
	for i := range key {
		key[i] = byte(i + 7)
	}
	return &Capability{Manifest: hashOf("manifest " + name), Key: key, Size: 12345, Name: name}
}
