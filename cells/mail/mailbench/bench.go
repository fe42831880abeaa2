// Package mailbench measures mail latency against running mail cells:
// from the moment a sender starts sending a letter to the moment its
// recipient has fetched, opened and stored it. It is what `borghui bench
// mail` runs; the cells are started by the caller.
//
// Two throw-away identities (in memory) are made for the run: the
// recipient publishes a card with prekeys and collects continuously
// (Account.Receive every Poll); senders send Messages letters of Size
// bytes, Concurrency at a time. Each letter's latency is send start →
// first Receive that returns it (so it includes the prekey take, sealing,
// delivery with replication to R cells, listing, fetching, opening,
// storing on disk and acknowledging).
package mailbench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/borgios/borghui/cells/mail"
)

// Options configures a run. Zero fields take defaults.
type Options struct {
	// Receptors are receptor addresses (host:port) of mail cells; the
	// members are discovered from the first that answers (required).
	Receptors []string
	// Messages is how many letters to send (default 20).
	Messages int
	// Size is the body size in bytes (default 1024, at most
	// mail.MaxMessage - 4096).
	Size int
	// Concurrency is how many letters are sent at once (default 1).
	Concurrency int
	// Poll is the recipient's collection interval (default 20 ms).
	Poll time.Duration
	// Timeout bounds the whole run (default 2 minutes).
	Timeout time.Duration
	// Dir holds the two accounts' files; default a temp folder removed
	// after the run.
	Dir string
}

// Result is what a run measured. Latencies are in milliseconds.
type Result struct {
	Members  int `json:"members"`  // mail cells known
	Replicas int `json:"replicas"` // R
	Messages int `json:"messages"` // letters delivered (fetched by the recipient)
	Failed   int `json:"failed"`   // letters not sent or not delivered in time
	// ForwardSecret is how many letters were sealed to a one-time prekey.
	ForwardSecret int `json:"forwardSecret"`
	// Send → delivered (recipient fetched and stored).
	DeliverP50ms float64 `json:"deliverP50ms"`
	DeliverP90ms float64 `json:"deliverP90ms"`
	DeliverP99ms float64 `json:"deliverP99ms"`
	DeliverMaxMs float64 `json:"deliverMaxMs"`
	// Send call alone (take prekey, seal, journal, deliver to R cells).
	SendP50ms float64       `json:"sendP50ms"`
	SendP99ms float64       `json:"sendP99ms"`
	Elapsed   time.Duration `json:"elapsedNs"`
	PerSecond float64       `json:"perSecond"` // delivered letters per second
}

// String formats the result on one line.
func (r Result) String() string {
	return fmt.Sprintf("mail: %d delivered (%d failed, %d forward-secret) on %d cells (R=%d) in %v: deliver p50 %.1f ms p90 %.1f ms p99 %.1f ms max %.1f ms; send p50 %.1f ms p99 %.1f ms; %.1f letters/s",
		r.Messages, r.Failed, r.ForwardSecret, r.Members, r.Replicas, r.Elapsed.Round(time.Millisecond),
		r.DeliverP50ms, r.DeliverP90ms, r.DeliverP99ms, r.DeliverMaxMs, r.SendP50ms, r.SendP99ms, r.PerSecond)
}

// Run measures send → delivered latency against the cells at
// o.Receptors.
func Run(ctx context.Context, o Options) (Result, error) {
	var res Result
	if len(o.Receptors) == 0 {
		return res, errors.New("mailbench: no receptor address")
	}
	if o.Messages <= 0 {
		o.Messages = 20
	}
	if o.Size <= 0 {
		o.Size = 1024
	}
	o.Size = min(o.Size, mail.MaxMessage-4096)
	if o.Concurrency <= 0 {
		o.Concurrency = 1
	}
	if o.Poll <= 0 {
		o.Poll = 20 * time.Millisecond
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	if o.Dir == "" {
		dir, err := os.MkdirTemp("", "mailbench-")
		if err != nil {
			return res, err
		}
		defer os.RemoveAll(dir)
		o.Dir = dir
	}

	sender, err := mail.NewMemIdentity()
	if err != nil {
		return res, err
	}
	recipient, err := mail.NewMemIdentity()
	if err != nil {
		return res, err
	}
	var members []mail.Member
	var last error
	for _, addr := range o.Receptors {
		members, res.Replicas, err = mail.Discover(ctx, sender, addr)
		if err == nil && len(members) > 0 {
			break
		}
		last = err
	}
	if len(members) == 0 {
		return res, fmt.Errorf("mailbench: no mail cell answered: %w", last)
	}
	res.Members = len(members)

	open := func(id mail.Identity, name string) (*mail.Account, *mail.Pool, error) {
		pool := mail.NewPool(id)
		a, err := mail.OpenAccount(mail.AccountConfig{
			Identity: id, Dir: filepath.Join(o.Dir, name), Net: mail.NewMulti(pool.Dial, members, res.Replicas),
			Nick: "bench-" + name, Prekeys: mail.MaxPrekeys, RefillBelow: mail.MaxPrekeys / 2,
		})
		if err != nil {
			pool.Close()
			return nil, nil, err
		}
		return a, pool, nil
	}
	from, fromPool, err := open(sender, "sender")
	if err != nil {
		return res, err
	}
	defer fromPool.Close()
	defer from.Close()
	to, toPool, err := open(recipient, "recipient")
	if err != nil {
		return res, err
	}
	defer toPool.Close()
	defer to.Close()
	if _, err := to.Publish(ctx); err != nil {
		return res, fmt.Errorf("mailbench: publishing the recipient's card: %w", err)
	}

	var mu sync.Mutex
	started := make([]time.Time, o.Messages)
	seen := make([]time.Duration, o.Messages)
	sendDur := make([]time.Duration, 0, o.Messages)
	failed := 0
	fs := 0
	delivered := 0
	allSeen := make(chan struct{})
	var finish sync.Once

	// The recipient collects until every letter arrived (or time is up).
	collectCtx, stopCollect := context.WithCancel(ctx)
	defer stopCollect()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(o.Poll)
		defer tick.Stop()
		for {
			rep, _ := to.Receive(collectCtx)
			now := time.Now()
			if rep != nil {
				mu.Lock()
				for _, s := range rep.New {
					i, err := strconv.Atoi(strings.TrimPrefix(s.Message.Subject, "bench "))
					if err != nil || i < 0 || i >= o.Messages || seen[i] != 0 || started[i].IsZero() {
						continue
					}
					seen[i] = now.Sub(started[i])
					delivered++
					if delivered+failed >= o.Messages {
						finish.Do(func() { close(allSeen) })
					}
				}
				mu.Unlock()
			}
			select {
			case <-collectCtx.Done():
				return
			case <-tick.C:
			}
		}
	}()

	body := strings.Repeat("BorgIOS mail bench. ", o.Size/20+1)[:o.Size]
	begin := time.Now()
	jobs := make(chan int)
	var senders sync.WaitGroup
	for range o.Concurrency {
		senders.Add(1)
		go func() {
			defer senders.Done()
			for i := range jobs {
				t0 := time.Now()
				mu.Lock()
				started[i] = t0
				mu.Unlock()
				r, err := from.Send(ctx, mail.Draft{To: to.MUID(), Subject: "bench " + strconv.Itoa(i), Body: body})
				d := time.Since(t0)
				mu.Lock()
				if err != nil || r.State == mail.StateFailed {
					failed++
					if delivered+failed >= o.Messages {
						finish.Do(func() { close(allSeen) })
					}
				} else {
					sendDur = append(sendDur, d)
					if r.ForwardSecret {
						fs++
					}
				}
				mu.Unlock()
			}
		}()
	}
	for i := range o.Messages {
		select {
		case jobs <- i:
		case <-ctx.Done():
		}
	}
	close(jobs)
	senders.Wait()
	select {
	case <-allSeen:
	case <-ctx.Done():
	}
	res.Elapsed = time.Since(begin)
	stopCollect()
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	var lat []time.Duration
	for _, d := range seen {
		if d > 0 {
			lat = append(lat, d)
		}
	}
	res.Messages, res.Failed, res.ForwardSecret = len(lat), o.Messages-len(lat), fs
	res.DeliverP50ms, res.DeliverP90ms = pct(lat, 0.50), pct(lat, 0.90)
	res.DeliverP99ms, res.DeliverMaxMs = pct(lat, 0.99), pct(lat, 1)
	res.SendP50ms, res.SendP99ms = pct(sendDur, 0.50), pct(sendDur, 0.99)
	if s := res.Elapsed.Seconds(); s > 0 {
		res.PerSecond = float64(res.Messages) / s
	}
	if res.Messages == 0 {
		return res, fmt.Errorf("mailbench: no letter was delivered (%d failed)", failed)
	}
	return res, nil
}

// pct returns the q-quantile of ds in milliseconds (nearest rank).
func pct(ds []time.Duration, q float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	i = max(0, min(i, len(s)-1))
	return float64(s[i]) / float64(time.Millisecond)
}
