package treebench

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/borgios/borghui/peer"
	"github.com/borgios/borghui/peer/bulk"
	"github.com/borgios/borghui/peer/devnet"
	"github.com/borgios/borghui/peer/transport"
	"github.com/borgios/borghui/peer/tree"
	"github.com/borgios/borghui/signer"
)

// Options configures a measurement.
type Options struct {
	Binary     string  // the borghui executable
	Nodes      int     // node processes (default 32)
	Loss       float64 // injected loss of tree messages on the processes (default 0.01; negative = none)
	BulkSize   int64   // bytes for the bulk transfer (default 256 MiB)
	Broadcasts int     // probe broadcasts (default 20)
	Dir        string  // working folder (default a temporary one, removed after)
	Log        io.Writer
}

// Result is what `borghui bench tree --json` prints.
type Result struct {
	Nodes          int     `json:"nodes"`
	JoinP50ms      float64 `json:"joinP50ms"`
	JoinP90ms      float64 `json:"joinP90ms"`
	RTTP50ms       float64 `json:"rttP50ms"`
	RTTP99ms       float64 `json:"rttP99ms"`
	BroadcastP50ms float64 `json:"broadcastP50ms"`
	BroadcastP99ms float64 `json:"broadcastP99ms"`
	HealRootMs     float64 `json:"healRootMs"`
	HealMiddleMs   float64 `json:"healMiddleMs"`
	InjectedLoss   float64 `json:"injectedLoss"`
	FalseEvictions int     `json:"falseEvictions"`
	BulkBytes      int64   `json:"bulkBytes"`
	BulkMBps       float64 `json:"bulkMBps"`
	BulkFullMBps   float64 `json:"bulkFullMBps"`
	RawTLSMBps     float64 `json:"rawTLSMBps"`
	BulkRatio      float64 `json:"bulkRatio"`
}

// Cell is the tree measured: cronoTreeCell, whose fan-out of 3 makes a deep
// tree of few processes, so there are middle nodes to kill and broadcasts
// travel several hops.
const Cell = "cronoTreeCell"

// Run performs every measurement.
func Run(ctx context.Context, o Options) (Result, error) {
	if o.Nodes <= 0 {
		o.Nodes = 32
	}
	if o.Loss == 0 {
		o.Loss = 0.01
	}
	if o.Loss < 0 {
		o.Loss = 0
	}
	if o.BulkSize <= 0 {
		o.BulkSize = 256 << 20
	}
	if o.Broadcasts <= 0 {
		o.Broadcasts = 20
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.Dir == "" {
		d, err := os.MkdirTemp("", "borghui-bench-tree-")
		if err != nil {
			return Result{}, err
		}
		defer os.RemoveAll(d)
		o.Dir = d
	}
	res := Result{Nodes: o.Nodes, InjectedLoss: o.Loss}
	args := []string{}
	if o.Loss > 0 {
		args = append(args, "--loss", fmt.Sprint(o.Loss))
	}
	fmt.Fprintf(o.Log, "starting %d node processes\n", o.Nodes)
	dn, err := devnet.Start(ctx, devnet.Options{Binary: o.Binary, Nodes: o.Nodes, Cells: Cell, Dir: filepath.Join(o.Dir, "nodes"), Args: args})
	if err != nil {
		return res, err
	}
	defer dn.Stop()

	// Our own node joins the same tree.
	key, err := signer.GenerateMemKey(rand.Reader)
	if err != nil {
		return res, err
	}
	dna, _ := peer.LookupDNA(Cell)
	dna, _ = dna.WithOffset(50000 - dna.NetPort) // ports of our own, clear of the processes'
	seed := dn.Nodes()[0].Endpoints[Cell].Net
	self, err := peer.Start(ctx, peer.Config{Key: key, Cells: []peer.DNA{dna}, IP: "127.0.0.1", Join: map[string][]string{Cell: {seed}}})
	if err != nil {
		return res, err
	}
	defer self.Close()
	me := self.Cell(Cell)
	if err := WaitTree(ctx, dn, me, 30*time.Second); err != nil {
		return res, fmt.Errorf("treebench: forming the tree: %w", err)
	}

	// Joins, as each process measured its own.
	var joins []float64
	for _, n := range dn.Nodes()[1:] {
		st, err := ReadStatus(n.Endpoints[Cell].Mon)
		if err != nil {
			return res, err
		}
		joins = append(joins, st.JoinMs)
	}
	res.JoinP50ms, res.JoinP90ms = pct(joins, 50), pct(joins, 90)
	fmt.Fprintf(o.Log, "join p50 %.1f ms\n", res.JoinP50ms)

	if res.RTTP50ms, res.RTTP99ms, err = measureRTT(ctx, me, dn); err != nil {
		return res, err
	}
	fmt.Fprintf(o.Log, "rtt p50 %.3f ms\n", res.RTTP50ms)
	if res.BroadcastP50ms, res.BroadcastP99ms, err = measureBroadcast(ctx, me, dn, o.Broadcasts); err != nil {
		return res, err
	}
	fmt.Fprintf(o.Log, "broadcast p99 %.1f ms\n", res.BroadcastP99ms)

	if res.BulkMBps, res.BulkFullMBps, err = measureBulk(ctx, me, dn, o.BulkSize, o.Dir); err != nil {
		return res, err
	}
	res.BulkBytes = o.BulkSize
	if res.RawTLSMBps, err = transport.MeasureRawTLS(ctx, o.BulkSize); err != nil {
		return res, err
	}
	res.BulkRatio = res.BulkMBps / res.RawTLSMBps
	fmt.Fprintf(o.Log, "bulk %.0f MB/s (%.0f with hashing), raw TLS %.0f MB/s\n", res.BulkMBps, res.BulkFullMBps, res.RawTLSMBps)

	// Heal: the root, then a node with children.
	before := evictions(dn, me)
	if res.HealRootMs, err = killAndHeal(ctx, dn, me, func(s peer.Status) bool { return s.Pos == 1 }); err != nil {
		return res, fmt.Errorf("treebench: healing the root: %w", err)
	}
	if res.HealMiddleMs, err = killAndHeal(ctx, dn, me, func(s peer.Status) bool { return s.Pos > 1 && len(s.Children) > 0 }); err != nil {
		return res, fmt.Errorf("treebench: healing a middle node: %w", err)
	}
	res.FalseEvictions = max(0, evictions(dn, me)-before-2)
	fmt.Fprintf(o.Log, "heal root %.0f ms, middle %.0f ms\n", res.HealRootMs, res.HealMiddleMs)
	return res, nil
}

// ReadStatus reads one cell's monitor (GET /status).
func ReadStatus(mon string) (peer.Status, error) {
	var s peer.Status
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + mon + "/status")
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	return s, json.NewDecoder(resp.Body).Decode(&s)
}

// Snapshot reads every live process's status and ours.
func Snapshot(dn *devnet.Net, me *peer.Cell) ([]peer.Status, error) {
	out := []peer.Status{me.Status()}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var firstErr error
	for _, n := range dn.Nodes() {
		if !n.Alive() {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := ReadStatus(n.Endpoints[Cell].Mon)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			out = append(out, s)
		}()
	}
	wg.Wait()
	return out, firstErr
}

// Consistent reports whether statuses describe one complete tree in level
// order whose members are exactly these nodes.
func Consistent(sts []peer.Status, k int) bool {
	if len(sts) == 0 {
		return false
	}
	byPos := map[int]peer.Status{}
	for _, s := range sts {
		if s.Tree != sts[0].Tree || s.Root != sts[0].Root || s.Pos < 1 || s.Pos > len(sts) {
			return false
		}
		if _, dup := byPos[s.Pos]; dup {
			return false
		}
		byPos[s.Pos] = s
	}
	for pos, s := range byPos {
		if pos == 1 {
			if s.ID != s.Root || s.Parent != "" {
				return false
			}
			continue
		}
		parent := byPos[tree.ParentPos(pos, k)]
		if s.Parent != parent.ID || !slices.Contains(parent.Children, s.ID) {
			return false
		}
	}
	return true
}

// WaitTree waits until the live processes and our cell form one complete
// tree.
func WaitTree(ctx context.Context, dn *devnet.Net, me *peer.Cell, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		sts, err := Snapshot(dn, me)
		if err == nil && Consistent(sts, me.DNA().MaxChildren) {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("no single complete tree in time")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func killAndHeal(ctx context.Context, dn *devnet.Net, me *peer.Cell, pick func(peer.Status) bool) (float64, error) {
	var victim *devnet.Node
	for _, n := range dn.Nodes() {
		if !n.Alive() {
			continue
		}
		if s, err := ReadStatus(n.Endpoints[Cell].Mon); err == nil && pick(s) {
			victim = n
			break
		}
	}
	if victim == nil {
		return 0, errors.New("no node to kill matches")
	}
	start := time.Now()
	victim.Kill()
	if err := WaitTree(ctx, dn, me, 20*time.Second); err != nil {
		return 0, err
	}
	return ms(time.Since(start)), nil
}

func evictions(dn *devnet.Net, me *peer.Cell) int {
	sts, _ := Snapshot(dn, me)
	total := 0
	for _, s := range sts {
		total += int(s.Tree2.Evicted)
	}
	return total
}

func measureRTT(ctx context.Context, me *peer.Cell, dn *devnet.Net) (p50, p99 float64, err error) {
	var samples []float64
	body := []byte("ping")
	for round := 0; round < 10; round++ {
		for _, n := range dn.Nodes() {
			ep := n.Endpoints[Cell]
			p := transport.Peer{ID: transport.NodeID(ep.ID), Addr: ep.Net}
			start := time.Now()
			rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			_, err := me.Transport().Request(rctx, p, peer.TypeEcho, body)
			cancel()
			if err != nil {
				return 0, 0, fmt.Errorf("treebench: echo: %w", err)
			}
			if round > 0 { // the first round opens the connections
				samples = append(samples, ms(time.Since(start)))
			}
		}
	}
	return pct(samples, 50), pct(samples, 99), nil
}

func measureBroadcast(ctx context.Context, me *peer.Cell, dn *devnet.Net, rounds int) (p50, p99 float64, err error) {
	type ack struct {
		tag string
		at  time.Time
	}
	acks := make(chan ack, 1<<16)
	me.OnProbeAck(func(_ tree.NodeID, tag string) { acks <- ack{tag, time.Now()} })
	want := len(dn.Nodes())
	var lat []float64
	for r := 0; r < rounds; r++ {
		tag := fmt.Sprintf("b%d", r)
		start := time.Now()
		if _, err := me.Broadcast(me.ProbePayload(tag)); err != nil {
			return 0, 0, err
		}
		got := 0
		timeout := time.After(5 * time.Second)
		for got < want {
			select {
			case a := <-acks:
				if a.tag == tag {
					lat = append(lat, ms(a.at.Sub(start)))
					got++
				}
			case <-timeout:
				return 0, 0, fmt.Errorf("treebench: broadcast %d reached %d of %d processes", r, got, want)
			case <-ctx.Done():
				return 0, 0, ctx.Err()
			}
		}
	}
	return pct(lat, 50), pct(lat, 99), nil
}

// measureBulk sends size random bytes to one process twice: once with the
// manifest (per-chunk hashes) made beforehand, as a sender that already
// hashed its chunks does (transfer), and once from scratch (full: hashing,
// transfer, the receiver's fsync and rename, the Done).
func measureBulk(ctx context.Context, me *peer.Cell, dn *devnet.Net, size int64, dir string) (transfer, full float64, err error) {
	src, err := os.CreateTemp(dir, "bulk-src-")
	if err != nil {
		return 0, 0, err
	}
	defer os.Remove(src.Name())
	defer src.Close()
	if _, err := io.CopyN(src, rand.Reader, size); err != nil {
		return 0, 0, err
	}
	target := dn.Nodes()[len(dn.Nodes())-1].Endpoints[Cell]
	p := transport.Peer{ID: transport.NodeID(target.ID), Addr: target.Net}
	dial := func(ctx context.Context) (net.Conn, error) { return me.Transport().DialStream(ctx, p, peer.BulkStream) }

	offer, err := bulk.NewOffer(ctx, "bench-transfer", src, size, 0)
	if err != nil {
		return 0, 0, err
	}
	start := time.Now()
	if _, err := bulk.SendOffer(ctx, dial, offer, src, bulk.Options{}); err != nil {
		return 0, 0, fmt.Errorf("treebench: bulk: %w", err)
	}
	transfer = float64(size) / 1e6 / time.Since(start).Seconds()
	start = time.Now()
	if _, err := bulk.Send(ctx, dial, "bench-full", src, size, bulk.Options{}); err != nil {
		return 0, 0, fmt.Errorf("treebench: bulk: %w", err)
	}
	full = float64(size) / 1e6 / time.Since(start).Seconds()
	return transfer, full, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// pct returns the p-th percentile (nearest rank).
func pct(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.5) - 1
	return s[max(0, min(i, len(s)-1))]
}
