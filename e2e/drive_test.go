package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/borgios/borghui/cells/ftree"
	"github.com/borgios/borghui/cells/shard"
	"github.com/borgios/borghui/conduit"
	"github.com/borgios/borghui/conduit/drive"
	"github.com/borgios/borghui/conduit/files"
	"github.com/borgios/borghui/peer/devnet"
	"github.com/borgios/borghui/wallet"
)

// TestDriveOnDevnet runs "My files" on five real processes with shard and
// ftree cells: folders, upload, rename, move, search, delete (the file's
// shards leave the nodes), and a second conduit of the same person sees
// the same tree through the root record on the ftree cells.
func TestDriveOnDevnet(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dn, err := devnet.Start(ctx, devnet.Options{Binary: borghui(t), Nodes: 5, Cells: shard.CellName + "," + ftree.CellName, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dn.Stop)
	id, err := wallet.NewNodeKey()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(id.Destroy)
	recp := dn.Nodes()[0].Endpoints[shard.CellName].Recp
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		if ms, err := shard.Discover(ctx, id, recp); err == nil && len(ms) == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the shard cells did not find each other")
		}
	}
	var ftreeRecps []string
	for _, n := range dn.Nodes()[:3] {
		ftreeRecps = append(ftreeRecps, n.Endpoints[ftree.CellName].Recp)
	}
	open := func() (*drive.Drive, *conduit.ShardStore) {
		store, err := conduit.DialShards(ctx, id, []string{recp}, 3)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(store.Close)
		roots, err := conduit.DialFtree(ctx, id, ftreeRecps)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(roots.Close)
		d := drive.New(drive.Config{Files: &files.Service{Store: store, Keys: id}, Roots: roots, Release: store, Owner: id})
		if err := d.Load(ctx); err != nil {
			t.Fatal(err)
		}
		return d, store
	}
	d, _ := open()

	photos, err := d.Mkdir(ctx, "", "Photos")
	if err != nil {
		t.Fatal(err)
	}
	trips, err := d.Mkdir(ctx, photos.ID, "Trips")
	if err != nil {
		t.Fatal(err)
	}
	plain := make([]byte, 2*files.DefaultChunkSize+99)
	rand.Read(plain)
	var last drive.Progress
	f, err := d.Upload(ctx, "", "beach.jpg", "image/jpeg", bytes.NewReader(plain), int64(len(plain)), nil, func(p drive.Progress) { last = p })
	if err != nil {
		t.Fatal(err)
	}
	if last.Done != int64(len(plain)) || last.Total != int64(len(plain)) {
		t.Fatalf("last progress %+v", last)
	}
	if _, err := d.Mkdir(ctx, "", "Photos"); !errors.Is(err, drive.ErrExists) {
		t.Fatalf("a second Photos: %v", err)
	}
	if err := d.Rename(ctx, f.ID, "sunset.jpg"); err != nil {
		t.Fatal(err)
	}
	if err := d.Move(ctx, f.ID, trips.ID); err != nil {
		t.Fatal(err)
	}
	if err := d.Move(ctx, photos.ID, trips.ID); !errors.Is(err, drive.ErrMoveInside) {
		t.Fatalf("moving a folder into its own child: %v", err)
	}
	hits := d.Search("SUNSET")
	if len(hits) != 1 || hits[0].Path != "/Photos/Trips/sunset.jpg" {
		t.Fatalf("search: %+v", hits)
	}

	// The same person on a second conduit sees the same tree and file.
	d2, _ := open()
	hits = d2.Search("sunset")
	if len(hits) != 1 || hits[0].Path != "/Photos/Trips/sunset.jpg" {
		t.Fatalf("second conduit search: %+v", hits)
	}
	_, rd, err := d2.Open(ctx, hits[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rd)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("read through the second conduit: %d bytes, %v", len(got), err)
	}

	// Deleting the folder releases the file's shards on the nodes.
	m, _, err := d2.Open(ctx, hits[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	gone := []files.ID{files.ID(hits[0].Manifest), files.ID(m.Chunks[0].ID), files.ID(m.Chunks[2].ID)}
	if err := d2.Delete(ctx, photos.ID); err != nil {
		t.Fatal(err)
	}
	if err := d.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if all := d.Search(""); len(all) != 0 {
		t.Fatalf("after deleting Photos the first conduit still sees %+v", all)
	}
	_, store := open()
	for _, sid := range gone {
		if _, err := store.Fetch(ctx, sid); !errors.Is(err, shard.ErrNoHolder) {
			t.Fatalf("shard %x of the deleted file: %v, want no holder", sid[:4], err)
		}
	}
}
