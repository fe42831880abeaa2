package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/borgios/borghui/cells/shard"
	"github.com/borgios/borghui/conduit"
	"github.com/borgios/borghui/conduit/files"
	"github.com/borgios/borghui/peer/devnet"
	"github.com/borgios/borghui/wallet"
)

// TestFilesRoundTripsOnDevnet stores files of the edge-case sizes on five
// real node processes (R=3) through the Files service and reads them back:
// every chunk encrypted, addressed by its hash, verified on the way back.
func TestFilesRoundTripsOnDevnet(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	fn := startFilesNet(t, ctx)
	dn, svc := fn.dn, fn.svc
	ec := &files.Service{Store: fn.store, Keys: fn.id, Erasure: &files.ErasureConfig{Data: 3, Parity: 2}}

	const c = files.DefaultChunkSize
	for _, layout := range []struct {
		name string
		svc  *files.Service
	}{{"copies", svc}, {"erasure-3+2", ec}} {
		for _, size := range []int64{0, 1, c - 1, c, c + 1, 3*c + 5} {
			t.Run(fmt.Sprintf("%s/%d", layout.name, size), func(t *testing.T) {
				plain := make([]byte, size)
				rand.Read(plain)
				st, err := layout.svc.Upload(ctx, bytes.NewReader(plain), size, "file.bin", "application/octet-stream", nil, nil)
				if err != nil {
					t.Fatal(err)
				}
				_, rd, err := layout.svc.Open(ctx, st.ManifestID, st.Key)
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(rd)
				if err != nil || !bytes.Equal(got, plain) {
					t.Fatalf("%d bytes back of %d: %v", len(got), size, err)
				}
			})
		}
	}

	// Every file any node stored holds no trace of the plaintext or its name.
	marker := []byte("PLAINTEXT-MARKER-b07c")
	plain := bytes.Repeat(marker, 200000) // about 4 MiB
	if _, err := svc.Upload(ctx, bytes.NewReader(plain), int64(len(plain)), "PLAINTEXT-MARKER-b07c.txt", "text/plain", nil, nil); err != nil {
		t.Fatal(err)
	}
	scanned := 0
	for _, n := range dn.Nodes() {
		err := filepath.WalkDir(filepath.Join(n.Data, "shard"), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			scanned++
			if bytes.Contains(data, marker[:12]) {
				t.Errorf("%s holds plaintext", p)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if scanned < 3*4 {
		t.Fatalf("only %d stored files scanned: the scan proves nothing", scanned)
	}
	t.Logf("scanned %d stored files on 5 nodes: no plaintext", scanned)
}

// TestErasureSurvivesTwoDeadNodes stores a file 3+2 erasure-coded on five
// real processes (each group's five shards on five distinct nodes, one
// copy each: 67% overhead instead of 200%), kills two of the nodes, and
// reads the file back whole, rebuilding the chunks the dead nodes held.
func TestErasureSurvivesTwoDeadNodes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	fn := startFilesNet(t, ctx)
	ec := &files.Service{Store: fn.store, Keys: fn.id, Erasure: &files.ErasureConfig{Data: 3, Parity: 2}}
	const c = files.DefaultChunkSize
	plain := make([]byte, 6*c+77) // 7 chunks: groups of 3, 3 and 1 (+ 2 parity each)
	rand.Read(plain)
	st, err := ec.Upload(ctx, bytes.NewReader(plain), int64(len(plain)), "ec.bin", "", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	// One copy of each shard (5 + 5 + 3), three of the manifest.
	held := 0
	for _, n := range fn.dn.Nodes() {
		held += countBlobs(t, n.Data)
	}
	if want := 5 + 5 + 3 + 3; held != want {
		t.Fatalf("the nodes hold %d blobs, want %d", held, want)
	}
	// Kill the holders of the first two chunks (distinct nodes: same group).
	var victims []int
	for _, ref := range st.Manifest.Chunks[:2] {
		name := hex.EncodeToString(ref.ID[:])
		for i, n := range fn.dn.Nodes() {
			if holdsBlob(t, n.Data, name) {
				victims = append(victims, i)
			}
		}
	}
	if len(victims) != 2 || victims[0] == victims[1] {
		t.Fatalf("the first two chunks are held by nodes %v, want two distinct ones", victims)
	}
	for _, i := range victims {
		fn.dn.Nodes()[i].Kill()
	}
	_, rd, err := ec.Open(ctx, st.ManifestID, st.Key)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rd)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("read with two of five nodes dead: %d bytes, %v", len(got), err)
	}
	if rd.Rebuilt() < 2 {
		t.Fatalf("rebuilt %d chunks, but the holders of two are dead", rd.Rebuilt())
	}
	t.Logf("rebuilt %d of %d chunks from parity", rd.Rebuilt(), len(st.Manifest.Chunks))
}

// holdsBlob reports whether a node's shard store has a blob file name.
func holdsBlob(t *testing.T, data, name string) bool {
	t.Helper()
	found := false
	err := filepath.WalkDir(filepath.Join(data, "shard"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == name {
			found = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// countBlobs counts the blob files under a node's shard store.
func countBlobs(t *testing.T, data string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(filepath.Join(data, "shard"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(p, string(filepath.Separator)+"blobs"+string(filepath.Separator)) {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestFilesSurviveHolderFaults stores a file on five real processes (R=3),
// then damages the network two ways: a blob corrupted on one holder's disk,
// and a holder killed. The file still reads back whole and verified.
func TestFilesSurviveHolderFaults(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	fn := startFilesNet(t, ctx)
	dn, id, recp, svc := fn.dn, fn.id, fn.recp, fn.svc
	plain := make([]byte, 6*files.DefaultChunkSize+99)
	rand.Read(plain)
	st, err := svc.Upload(ctx, bytes.NewReader(plain), int64(len(plain)), "precious.bin", "", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	readBack := func(what string) {
		t.Helper()
		_, rd, err := svc.Open(ctx, st.ManifestID, st.Key)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		got, err := io.ReadAll(rd)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("%s: %d of %d bytes back: %v", what, len(got), len(plain), err)
		}
	}

	// 1. Corrupt the first chunk on the holder a read asks first (the top
	// of the shard's rendezvous order): the read must notice, fetch it
	// elsewhere, and the network must end up with R good copies again.
	members, err := shard.Discover(ctx, id, recp)
	if err != nil {
		t.Fatal(err)
	}
	chunk := shard.ID(st.Manifest.Chunks[0].ID)
	first := shard.RankMembers(chunk, members)[0]
	var victim *devnet.Node
	for _, n := range dn.Nodes() {
		if n.Endpoints[shard.CellName].ID == first.ID {
			victim = n
		}
	}
	blob := filepath.Join(victim.Data, "shard", "blobs", chunk.String()[:2], chunk.String()[2:4], chunk.String())
	b, err := os.ReadFile(blob)
	if err != nil {
		t.Fatalf("the first-ranked holder has no copy: %v", err)
	}
	b[100] ^= 0xff
	if err := os.WriteFile(blob, b, 0o600); err != nil {
		t.Fatal(err)
	}
	readBack("with the first-asked copy corrupted")
	goodCopies := func() (good, bad int) {
		for _, n := range dn.Nodes() {
			p := filepath.Join(n.Data, "shard", "blobs", chunk.String()[:2], chunk.String()[2:4], chunk.String())
			if b, err := os.ReadFile(p); err == nil {
				if shard.Sum(b) == chunk {
					good++
				} else {
					bad++
				}
			}
		}
		return good, bad
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		good, bad := goodCopies()
		if good >= 3 && bad == 0 {
			t.Logf("corrupt copy detected on read; %d good copies again", good)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the read: %d good and %d corrupt copies, want 3 and 0", good, bad)
		}
	}

	// Another identity cannot delete the owner's chunk anywhere.
	mallory, err := wallet.NewNodeKey()
	if err != nil {
		t.Fatal(err)
	}
	defer mallory.Destroy()
	pool := shard.NewPool(mallory)
	defer pool.Close()
	if err := shard.NewNetwork(pool.Dial, members, 3).Delete(ctx, chunk); err == nil {
		t.Fatal("another identity deleted the owner's chunk")
	}
	if good, _ := goodCopies(); good < 3 {
		t.Fatalf("after another identity's delete: %d good copies, want 3", good)
	}
	readBack("after another identity tried to delete")

	// 2. Kill a holder outright (the first-asked one again).
	victim.Kill()
	readBack("with a holder dead")
}

// filesNet is a devnet of five shard processes and the Files service of one
// identity on it (R=3).
type filesNet struct {
	dn    *devnet.Net
	id    *wallet.Identity
	recp  string
	store *conduit.ShardStore
	svc   *files.Service
}

func startFilesNet(t *testing.T, ctx context.Context) *filesNet {
	t.Helper()
	dn, err := devnet.Start(ctx, devnet.Options{Binary: borghui(t), Nodes: 5, Cells: shard.CellName, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dn.Stop)
	id, err := wallet.NewNodeKey() // any identity: it signs requests and derives file keys
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(id.Destroy)
	recp := dn.Nodes()[0].Endpoints[shard.CellName].Recp
	// The shard servers learn each other from their hellos.
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		ms, err := shard.Discover(ctx, id, recp)
		if err == nil && len(ms) == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the shard cells did not all know each other: %d members, %v", len(ms), err)
		}
	}
	store, err := conduit.DialShards(ctx, id, []string{recp}, 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	return &filesNet{dn: dn, id: id, recp: recp, store: store, svc: &files.Service{Store: store, Keys: id}}
}
