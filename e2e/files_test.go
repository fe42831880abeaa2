package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
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
	dn, err := devnet.Start(ctx, devnet.Options{Binary: borghui(t), Nodes: 5, Cells: shard.CellName, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer dn.Stop()
	id, err := wallet.NewNodeKey() // any identity: it signs requests and derives file keys
	if err != nil {
		t.Fatal(err)
	}
	defer id.Destroy()
	recp := dn.Nodes()[0].Endpoints[shard.CellName].Recp

	// The shard servers learn each other from their hellos.
	deadline := time.Now().Add(60 * time.Second)
	for {
		ms, err := shard.Discover(ctx, id, recp)
		if err == nil && len(ms) == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the shard cells did not all know each other: %d members, %v", len(ms), err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	store, err := conduit.DialShards(ctx, id, []string{recp}, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	svc := &files.Service{Store: store, Keys: id}

	const c = files.DefaultChunkSize
	for _, size := range []int64{0, 1, c - 1, c, c + 1, 3*c + 5} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			plain := make([]byte, size)
			rand.Read(plain)
			st, err := svc.Upload(ctx, bytes.NewReader(plain), size, "file.bin", "application/octet-stream", nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, rd, err := svc.Open(ctx, st.ManifestID, st.Key)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(rd)
			if err != nil || !bytes.Equal(got, plain) {
				t.Fatalf("%d bytes back of %d: %v", len(got), size, err)
			}
		})
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
