package conduit

import (
	"context"
	"maps"
	"time"

	"github.com/borgios/borghui/cells/ledger"
	"github.com/borgios/borghui/cells/mail"
	"github.com/borgios/borghui/cells/shard"
	"github.com/borgios/borghui/failover"
	"github.com/borgios/borghui/peer/transport"
)

// DefaultPoll is how often an open session checks for new mail, delivery
// states and the balance.
const DefaultPoll = 3 * time.Second

// probeEvery: endpoints are probed (and the lists refreshed, the clock
// re-synced) every this many polls.
const probeEvery = 10

// live keeps an open session current until ctx ends: it delivers queued
// mail, polls for new mail, delivery states and the balance, probes the
// endpoints, and tells the open tabs what changed.
func (s *Session) live(ctx context.Context, c *Conduit, nc *NetworkConfig) {
	poll := nc.Poll
	if poll <= 0 {
		poll = DefaultPoll
	}
	runDone := make(chan struct{})
	go func() {
		defer close(runDone)
		s.Mail.Run(ctx)
	}()
	defer func() { <-runDone }()

	var w watch
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for i := 0; ; i++ {
		s.check(ctx, c, &w)
		if i%probeEvery == probeEvery-1 {
			s.probe(ctx, c)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// watch is what the last poll saw.
type watch struct {
	balance *ledger.BalanceResponse
	outbox  map[mail.MsgID]mail.State
}

// check polls once and publishes what changed.
func (s *Session) check(ctx context.Context, c *Conduit, w *watch) {
	if !s.published {
		if _, err := s.Mail.Publish(ctx); err == nil {
			s.published = true
		} else if ctx.Err() == nil {
			c.log.Warn("mail card not published; will retry", "err", err)
		}
	}
	if rep, err := s.Mail.Receive(ctx); err != nil {
		if ctx.Err() == nil {
			c.log.Info("mail not received this time", "err", err)
		}
	} else if len(rep.New) > 0 || len(rep.Receipts) > 0 {
		c.events.Publish(Event{Type: "mail", State: "new"})
	}
	out := map[mail.MsgID]mail.State{}
	for _, it := range s.Mail.Outbox().Items() {
		out[it.ID] = it.State
	}
	if w.outbox != nil && !maps.Equal(out, w.outbox) {
		c.events.Publish(Event{Type: "mail", State: "delivery"})
	}
	w.outbox = out
	if bal, err := s.Wallet.Balance(ctx); err == nil {
		if w.balance != nil && (bal.Balance != w.balance.Balance || bal.Seq != w.balance.Seq) {
			c.events.Publish(Event{Type: "wallet"})
		}
		w.balance = bal
	}
}

// probe measures every endpoint (a dial checks the node's signed card),
// merges the members the shard and mail cells know, and re-syncs the
// clock.
func (s *Session) probe(ctx context.Context, c *Conduit) {
	if l := s.lists[shard.CellName]; l != nil {
		if eps := l.Endpoints(); len(eps) > 0 {
			if err := s.shards.Refresh(ctx, s.key, eps[0].Addr); err != nil && ctx.Err() == nil {
				c.log.Info("shard members not refreshed", "err", err)
			}
		}
		for _, m := range s.shards.Members() {
			l.Merge([]failover.Endpoint{{Addr: m.Addr, ID: m.ID}})
		}
	}
	if l := s.lists[mail.CellName]; l != nil {
		for _, m := range s.mailNet.Members() {
			l.Merge([]failover.Endpoint{{Addr: m.Addr, ID: m.ID}})
		}
	}
	for _, l := range s.lists {
		for _, ep := range l.Endpoints() {
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			start := time.Now()
			tc, err := transport.Dial(pctx, ep.Addr, transport.ClientConfig{Key: s.key, Expect: transport.NodeID(ep.ID)})
			cancel()
			if ctx.Err() != nil {
				return
			}
			l.Observe(ep, time.Since(start), err)
			if err == nil {
				tc.Close()
			}
		}
	}
	if err := s.Clock.Sync(ctx); err != nil && ctx.Err() == nil && len(s.crono) > 0 {
		c.log.Info("network time not re-synced", "err", err)
	}
	c.events.Publish(Event{Type: "network", State: NetConnected})
}

// Health lists every cell's endpoints with their health, best first: the
// wallet's own list for the ledger, the probed lists for the others.
func (s *Session) Health() map[string][]failover.Health {
	out := map[string][]failover.Health{}
	for cell, l := range s.lists {
		out[cell] = l.Health()
	}
	if s.Wallet != nil {
		out[ledger.CellName] = s.Wallet.Health()
	}
	return out
}

// Card looks up an address's mail card on its home cells (verified).
func (s *Session) Card(ctx context.Context, muid string) (*mail.CardInfo, error) {
	return s.mailNet.Card(ctx, muid)
}

// SearchCards finds mail cards by exact MUID or nickname prefix.
func (s *Session) SearchCards(ctx context.Context, query string, limit int) ([]*mail.Card, error) {
	return s.mailNet.Search(ctx, query, limit)
}
