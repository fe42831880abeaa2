package conduit

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/borgios/borghui/cells/ftree"
	"github.com/borgios/borghui/peer"
	"github.com/borgios/borghui/wallet"
)

// startFtree runs one in-process ftree node (real TLS on its own loopback
// address) and returns its receptor address.
func startFtree(t *testing.T) string {
	t.Helper()
	key, err := wallet.NewNodeKey()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(key.Destroy)
	var n *peer.Node
	for range 5 { // another test may hold the address
		ip := fmt.Sprintf("127.%d.%d.%d", 100+rand.IntN(150), rand.IntN(250), 10+rand.IntN(200))
		if n, err = peer.Start(context.Background(), peer.Config{Key: key, Cells: []peer.DNA{peer.FtreeCell}, IP: ip}); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ftree.NewServer(ftree.ServerConfig{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close(); srv.Close() })
	cell := n.Cell(ftree.CellName)
	if err := srv.Mount(cell); err != nil {
		t.Fatal(err)
	}
	return cell.ReceptorAddr()
}

// TestFtreeRootsCatchUp: a cell that missed versions (it was not among the
// cells written to) is brought forward by replaying them from another
// cell's history before the new version is written to it, and a competing
// writer gets the conflict.
func TestFtreeRootsCatchUp(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cells := []string{startFtree(t), startFtree(t), startFtree(t)}
	owner, err := wallet.NewNodeKey()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(owner.Destroy)
	dial := func(addrs ...string) *FtreeRoots {
		r, err := DialFtree(ctx, owner, addrs)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(r.Close)
		return r
	}
	all, two := dial(cells...), dial(cells[:2]...)
	var cur *ftree.RootRecord
	write := func(r *FtreeRoots, v uint64) {
		t.Helper()
		next, err := ftree.NextRoot(owner, cur, ftree.Hash{byte(v)}, v, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := r.PutRoot(ctx, next); err != nil {
			t.Fatalf("version %d: %v", v, err)
		}
		cur = next
	}
	write(all, 1) // every cell holds v1
	write(two, 2) // the third misses v2 and v3
	write(two, 3)
	if got, err := dial(cells[2]).Root(ctx); err != nil || got.Version != 1 {
		t.Fatalf("the third cell holds %+v, %v; want version 1", got, err)
	}
	write(all, 4) // the third is replayed v2, v3, then takes v4
	third := dial(cells[2])
	got, err := third.Root(ctx)
	if err != nil || got.Version != 4 || got.Hash() != cur.Hash() {
		t.Fatalf("after catching up the third cell holds %+v, %v", got, err)
	}
	hist, err := third.clients[0].History(ctx, third.owner)
	if err != nil || len(hist) != 4 {
		t.Fatalf("the third cell's history: %d records, %v", len(hist), err)
	}
	if newest, err := all.Root(ctx); err != nil || newest.Hash() != cur.Hash() {
		t.Fatalf("Root over all cells: %+v, %v", newest, err)
	}

	// A writer still at v3 competing with v4 gets the conflict.
	stale, err := ftree.NextRoot(owner, hist[1], ftree.Hash{99}, 99, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := all.PutRoot(ctx, stale); !errors.Is(err, ftree.ErrConflict) {
		t.Fatalf("a competing v4: %v, want a conflict", err)
	}
}
