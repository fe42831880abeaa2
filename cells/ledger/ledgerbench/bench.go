// Package ledgerbench measures a running ledger network (peerPaysCell
// nodes) from the outside, through the nodes' receptors only: it funds N
// accounts from the network wallet, runs K concurrent submitters of random
// transfers among them against random nodes, waits until every transfer
// is applied, and checks the supply and that every node holds the same
// state. It starts no node: `borghui bench ledger` (or a test) starts the
// processes and passes their receptor addresses.
package ledgerbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/borgios/borghui/cells/ledger"
	"github.com/borgios/borghui/peer/transport"
	"github.com/borgios/borghui/signer"
)

// BenchOptions configures RunBench. Zero fields take defaults.
type BenchOptions struct {
	// Addrs are the receptor addresses of the ledger nodes (required).
	Addrs []string
	// NetworkKey is the network wallet's key, which funds the accounts
	// (required; the nodes' Config.NetworkKey is its public key).
	NetworkKey signer.Key
	// Accounts is N, the accounts funded and transferring (default 50).
	Accounts int
	// Transfers is the number of random transfers (default 1000).
	Transfers int
	// Concurrency is K, the concurrent submitters (default 32).
	Concurrency int
	// Fund is what each account gets (default 1000 shells); transfers move
	// at most 0.001 shells each and pay no fee.
	Fund ledger.Amount
	// Timeout bounds the funding and the settling of the transfers, each
	// (default 2 minutes).
	Timeout time.Duration
	// Log receives progress lines (nil: none).
	Log io.Writer
	// Midway, when set, is called once when half the random transfers
	// are submitted, to take a node down (the tree's root, say); it
	// returns that node's receptor address, which the bench stops using.
	Midway func() string
}

// BenchResult is what RunBench measured.
type BenchResult struct {
	Nodes     int `json:"nodes"`
	Accounts  int `json:"accounts"`
	Transfers int `json:"transfers"`
	// Rejected counts transfers a node refused (none expected).
	Rejected int `json:"rejected"`
	// Resubmitted counts submissions repeated because a transfer was not
	// applied in time (a node lost it with a failed root).
	Resubmitted int `json:"resubmitted"`
	// Seconds is from the first submission until every transfer was applied.
	Seconds         float64 `json:"seconds"`
	TransfersPerSec float64 `json:"transfersPerSec"`
	// SupplyConserved: every node reports the genesis supply and the
	// bench's accounts hold exactly what they were funded with.
	SupplyConserved bool `json:"supplyConserved"`
	// ReplicasIdentical: every node answered the same height, block hash
	// and state hash (ledger.state).
	ReplicasIdentical bool   `json:"replicasIdentical"`
	Height            uint64 `json:"height"`
	StateHash         string `json:"stateHash"`
	// TakenDown is the receptor address Midway took down ("" if none).
	TakenDown string `json:"takenDown,omitempty"`
}

type node struct {
	addr string
	c    *ledger.Client
	tc   *transport.Client
}

type bench struct {
	o           BenchOptions
	mu          sync.RWMutex // guards nodes: Midway drops one
	nodes       []node
	log         func(string, ...any)
	resubmitted int // only the polling goroutine touches it
	conns       []*transport.Client
}

// RunBench runs the benchmark against the nodes at o.Addrs.
func RunBench(ctx context.Context, o BenchOptions) (BenchResult, error) {
	if len(o.Addrs) == 0 || o.NetworkKey == nil {
		return BenchResult{}, errors.New("ledgerbench: node addresses and the network key are required")
	}
	if o.Accounts <= 1 {
		o.Accounts = 50
	}
	if o.Transfers <= 0 {
		o.Transfers = 1000
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 32
	}
	if o.Fund == 0 {
		o.Fund = ledger.Shells(1000)
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Minute
	}
	b := &bench{o: o, log: func(string, ...any) {}}
	if o.Log != nil {
		b.log = func(f string, a ...any) { fmt.Fprintf(o.Log, "ledgerbench: "+f+"\n", a...) }
	}
	clientKey, err := signer.GenerateMemKey(nil)
	if err != nil {
		return BenchResult{}, err
	}
	for _, a := range o.Addrs {
		tc, err := transport.Dial(ctx, a, transport.ClientConfig{Key: clientKey})
		if err != nil {
			b.close()
			return BenchResult{}, fmt.Errorf("ledgerbench: %s: %w", a, err)
		}
		b.nodes = append(b.nodes, node{addr: a, c: ledger.NewClient(ledger.ReceptorCaller{C: tc}), tc: tc})
		b.conns = append(b.conns, tc)
	}
	defer b.close()
	return b.run(ctx)
}

func (b *bench) close() {
	for _, c := range b.conns {
		c.Close()
	}
}

func (b *bench) random() *ledger.Client {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.nodes[rand.IntN(len(b.nodes))].c
}

// live returns the nodes in use.
func (b *bench) live() []node {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return slices.Clone(b.nodes)
}

// drop stops using the node at addr.
func (b *bench) drop(addr string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.nodes) > 1 {
		b.nodes = slices.DeleteFunc(b.nodes, func(n node) bool { return n.addr == addr })
	}
}

// submit hands t to random nodes until one answers; a refusal counts.
func (b *bench) submit(ctx context.Context, t *ledger.Transfer) (*ledger.StatusResponse, error) {
	var last error
	for try := 0; try < 2*len(b.live())+2; try++ {
		st, err := b.random().Submit(ctx, t)
		if err == nil {
			return st, nil
		}
		last = err
		if ctx.Err() != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil, last
}

// seqs returns the applied seq of each account as the first node sees it.
func (b *bench) seqs(ctx context.Context, c *ledger.Client, muids []string) ([]uint64, error) {
	out := make([]uint64, len(muids))
	for i, m := range muids {
		r, err := c.Balance(ctx, m)
		if err != nil {
			return nil, err
		}
		out[i] = r.Seq
	}
	return out, nil
}

func (b *bench) run(ctx context.Context) (BenchResult, error) {
	o := b.o
	res := BenchResult{Nodes: len(b.nodes), Accounts: o.Accounts, Transfers: o.Transfers}
	network, err := ledger.MUIDOf(o.NetworkKey.PublicKey())
	if err != nil {
		return res, err
	}
	nb, err := b.nodes[0].c.Balance(ctx, network)
	if err != nil {
		return res, fmt.Errorf("ledgerbench: network wallet: %w", err)
	}
	if nb.Balance < o.Fund*ledger.Amount(o.Accounts) {
		return res, fmt.Errorf("ledgerbench: the network wallet holds %s, the accounts need %s", nb.Balance, o.Fund*ledger.Amount(o.Accounts))
	}
	keys := make([]signer.Key, o.Accounts)
	muids := make([]string, o.Accounts)
	for i := range keys {
		if keys[i], err = signer.GenerateMemKey(nil); err != nil {
			return res, err
		}
		muids[i], _ = ledger.MUIDOf(keys[i].PublicKey())
	}

	// Fund the accounts.
	b.log("funding %d accounts with %s shells from the network wallet (seq %d…)", o.Accounts, o.Fund, nb.Seq+1)
	var funding []*ledger.Transfer
	for i, m := range muids {
		t, err := ledger.NewTransfer(o.NetworkKey, m, uint64(o.Fund), 0, nb.Seq+uint64(i)+1, time.Now(), "bench fund")
		if err != nil {
			return res, err
		}
		funding = append(funding, t)
	}
	if err := b.submitAll(ctx, funding, min(o.Concurrency, 8)); err != nil {
		return res, err
	}
	want := nb.Seq + uint64(o.Accounts)
	if err := b.until(ctx, "the funding", func() (bool, error) {
		for _, n := range b.live() {
			r, err := n.c.Balance(ctx, network)
			if err != nil || r.Seq < want {
				return false, nil
			}
		}
		return true, nil
	}, funding); err != nil {
		return res, err
	}

	// Random transfers among the accounts.
	b.log("%d random transfers, %d at a time, on %d nodes", o.Transfers, o.Concurrency, len(b.nodes))
	rng := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	next := make([]uint64, o.Accounts)
	ts := make([]*ledger.Transfer, o.Transfers)
	now := time.Now()
	for k := range ts {
		i, j := rng.IntN(o.Accounts), rng.IntN(o.Accounts-1)
		if j >= i {
			j++
		}
		next[i]++
		amount := uint64(1 + rng.IntN(ledger.NanoPerShell/1000))
		t, err := ledger.NewTransfer(keys[i], muids[j], amount, 0, next[i], now.Add(time.Duration(k)), "bench")
		if err != nil {
			return res, err
		}
		ts[k] = t
	}
	start := time.Now()
	var rejected atomic.Int64
	if o.Midway == nil {
		if err := b.submitAllCount(ctx, ts, o.Concurrency, &rejected); err != nil {
			return res, err
		}
	} else {
		half := len(ts) / 2
		if err := b.submitAllCount(ctx, ts[:half], o.Concurrency, &rejected); err != nil {
			return res, err
		}
		down := o.Midway()
		res.TakenDown = down
		b.log("node %s taken down midway", down)
		b.drop(down)
		if err := b.submitAllCount(ctx, ts[half:], o.Concurrency, &rejected); err != nil {
			return res, err
		}
	}
	c0 := b.live()[0].c
	if err := b.until(ctx, "the transfers", func() (bool, error) {
		got, err := b.seqs(ctx, c0, muids)
		if err != nil {
			return false, nil
		}
		for i := range got {
			if got[i] < next[i] {
				return false, nil
			}
		}
		return true, nil
	}, ts); err != nil {
		return res, err
	}
	elapsed := time.Since(start)
	res.Rejected = int(rejected.Load())
	res.Seconds = elapsed.Seconds()
	res.TransfersPerSec = float64(o.Transfers) / elapsed.Seconds()
	b.log("applied in %.2f s: %.0f transfers/s", res.Seconds, res.TransfersPerSec)

	// Replicas and supply.
	var states []*ledger.StateResponse
	_ = b.until(ctx, "the replicas to agree", func() (bool, error) {
		states = states[:0]
		for _, n := range b.live() {
			s, err := n.c.State(ctx)
			if err != nil {
				return false, nil
			}
			states = append(states, s)
		}
		for _, s := range states[1:] {
			if *s != *states[0] {
				return false, nil
			}
		}
		return true, nil
	}, nil)
	res.ReplicasIdentical = len(states) == len(b.live())
	supplyOK := len(states) == len(b.live())
	for _, s := range states {
		if s != nil && *s != *states[0] {
			res.ReplicasIdentical = false
		}
		if s == nil || s.Supply != ledger.GenesisSupply {
			supplyOK = false
		}
	}
	if len(states) > 0 {
		res.Height, res.StateHash = states[0].Height, states[0].State.String()
	}
	var sum ledger.Amount
	for _, m := range muids {
		r, err := c0.Balance(ctx, m)
		if err != nil {
			supplyOK = false
			break
		}
		sum += r.Balance
	}
	res.SupplyConserved = supplyOK && sum == o.Fund*ledger.Amount(o.Accounts)
	res.Resubmitted = b.resubmitted
	return res, nil
}

// submitAll submits ts with k workers.
func (b *bench) submitAll(ctx context.Context, ts []*ledger.Transfer, k int) error {
	var rej atomic.Int64
	if err := b.submitAllCount(ctx, ts, k, &rej); err != nil {
		return err
	}
	if n := rej.Load(); n > 0 {
		return fmt.Errorf("ledgerbench: %d funding transfers refused", n)
	}
	return nil
}

func (b *bench) submitAllCount(ctx context.Context, ts []*ledger.Transfer, k int, rejected *atomic.Int64) error {
	var idx atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for range k {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(idx.Add(1)) - 1
				if i >= len(ts) || ctx.Err() != nil {
					return
				}
				st, err := b.submit(ctx, ts[i])
				if err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
				if st.Status == ledger.StatusRejected {
					rejected.Add(1)
					b.log("transfer %s refused: %s", st.ID, st.Reason)
				}
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return fmt.Errorf("ledgerbench: submitting: %w", first)
	}
	return ctx.Err()
}

// until polls done every 100 ms for the timeout; every 5 s it submits
// again the transfers of resend a node does not know any more (lost with
// a failed root before any block held them).
func (b *bench) until(ctx context.Context, what string, done func() (bool, error), resend []*ledger.Transfer) error {
	deadline := time.Now().Add(b.o.Timeout)
	lastResend := time.Now()
	for {
		ok, err := done()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("ledgerbench: timed out after %v waiting for %s", b.o.Timeout, what)
		}
		if len(resend) > 0 && time.Since(lastResend) > 5*time.Second {
			lastResend = time.Now()
			b.resend(ctx, resend)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (b *bench) resend(ctx context.Context, ts []*ledger.Transfer) {
	for _, t := range ts {
		st, err := b.random().Status(ctx, t.ID())
		if err != nil || st.Status != ledger.StatusUnknown {
			continue
		}
		if _, err := b.submit(ctx, t); err == nil {
			b.resubmitted++
		}
	}
}
