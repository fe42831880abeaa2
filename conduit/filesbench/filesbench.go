package filesbench

import (
	"bytes"
	"context"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"time"

	"github.com/borgios/borghui/cells/shard"
	"github.com/borgios/borghui/conduit"
	"github.com/borgios/borghui/conduit/files"
	"github.com/borgios/borghui/internal/rusage"
	"github.com/borgios/borghui/peer/devnet"
	"github.com/borgios/borghui/peer/transport"
	"github.com/borgios/borghui/wallet"
)

// Options configures a measurement.
type Options struct {
	Binary   string
	Nodes    int    // default 5
	Replicas int    // default 3
	Size     int64  // default 512 MiB
	Window   int    // chunks in flight (default 8)
	Dir      string // parent folder of the nodes' data ("" = os.TempDir())
	// Data and Parity, when Data > 0, erasure-code the file (one copy of
	// each shard) instead of keeping Replicas copies.
	Data, Parity int
	Log          io.Writer
}

// Result is what `borghui bench files --json` prints.
type Result struct {
	Nodes         int     `json:"nodes"`
	Replicas      int     `json:"replicas"`
	Erasure       string  `json:"erasure,omitempty"`
	SizeBytes     int64   `json:"sizeBytes"`
	UploadMBps    float64 `json:"uploadMBps"`
	DownloadMBps  float64 `json:"downloadMBps"`
	RawTLSMBps    float64 `json:"rawTLSMBps"`
	UploadRatio   float64 `json:"uploadRatio"`
	DownloadRatio float64 `json:"downloadRatio"`
	PeakRSSMB     float64 `json:"peakRSSMB"`
}

// Run performs the measurement.
func Run(ctx context.Context, o Options) (Result, error) {
	if o.Nodes <= 0 {
		o.Nodes = 5
	}
	if o.Replicas <= 0 {
		o.Replicas = 3
	}
	if o.Size <= 0 {
		o.Size = 512 << 20
	}
	if o.Window <= 0 {
		o.Window = 8
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	res := Result{Nodes: o.Nodes, Replicas: o.Replicas, SizeBytes: o.Size}
	dir, err := os.MkdirTemp(o.Dir, "borghui-bench-files-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	fmt.Fprintf(o.Log, "starting %d shard nodes\n", o.Nodes)
	dn, err := devnet.Start(ctx, devnet.Options{Binary: o.Binary, Nodes: o.Nodes, Cells: shard.CellName, Dir: dir})
	if err != nil {
		return res, err
	}
	defer dn.Stop()
	id, err := wallet.NewNodeKey()
	if err != nil {
		return res, err
	}
	defer id.Destroy()
	recp := dn.Nodes()[0].Endpoints[shard.CellName].Recp
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		ms, err := shard.Discover(ctx, id, recp)
		if err == nil && len(ms) == o.Nodes {
			break
		}
		if time.Now().After(deadline) {
			return res, fmt.Errorf("filesbench: the shard cells did not find each other (%d of %d): %v", len(ms), o.Nodes, err)
		}
	}
	store, err := conduit.DialShards(ctx, id, []string{recp}, o.Replicas)
	if err != nil {
		return res, err
	}
	defer store.Close()
	svc := &files.Service{Store: store, Keys: id, Window: o.Window}
	if o.Data > 0 {
		svc.Erasure = &files.ErasureConfig{Data: o.Data, Parity: o.Parity}
		res.Erasure = fmt.Sprintf("%d+%d", o.Data, o.Parity)
	}

	// Upload pseudo-random bytes (no disk in the way): an 8 MiB pattern
	// repeated (chunks are sealed under random nonces, so equal plaintext
	// still makes distinct shards), with a CRC-32C of what is sent to check
	// the download by (cheap, so the figures measure the Files path).
	pattern := make([]byte, 8<<20)
	rand.NewChaCha8([32]byte{1, 2, 3}).Read(pattern)
	src := &repeatReader{b: pattern}
	sent := crc32.New(crc32.MakeTable(crc32.Castagnoli))
	start := time.Now()
	st, err := svc.Upload(ctx, io.TeeReader(io.LimitReader(src, o.Size), sent), o.Size, "bench.bin", "", nil, nil)
	if err != nil {
		return res, fmt.Errorf("filesbench: upload: %w", err)
	}
	res.UploadMBps = float64(o.Size) / 1e6 / time.Since(start).Seconds()
	fmt.Fprintf(o.Log, "upload %.0f MB/s\n", res.UploadMBps)

	start = time.Now()
	_, rd, err := svc.Open(ctx, st.ManifestID, st.Key)
	if err != nil {
		return res, fmt.Errorf("filesbench: open: %w", err)
	}
	got := crc32.New(crc32.MakeTable(crc32.Castagnoli))
	if _, err := io.Copy(got, rd); err != nil {
		return res, fmt.Errorf("filesbench: download: %w", err)
	}
	res.DownloadMBps = float64(o.Size) / 1e6 / time.Since(start).Seconds()
	rd.Close()
	if !bytes.Equal(got.Sum(nil), sent.Sum(nil)) {
		return res, fmt.Errorf("filesbench: the downloaded bytes differ from the uploaded ones")
	}
	fmt.Fprintf(o.Log, "download %.0f MB/s (verified)\n", res.DownloadMBps)

	if res.RawTLSMBps, err = transport.MeasureRawTLS(ctx, min(o.Size, 512<<20)); err != nil {
		return res, err
	}
	res.UploadRatio = res.UploadMBps / res.RawTLSMBps
	res.DownloadRatio = res.DownloadMBps / res.RawTLSMBps
	res.PeakRSSMB = rusage.PeakRSSMB()
	return res, nil
}

// repeatReader reads b over and over.
type repeatReader struct {
	b   []byte
	off int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := copy(p, r.b[r.off:])
	r.off = (r.off + n) % len(r.b)
	return n, nil
}
