package peer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/borgios/borghui/peer/transport"
	"github.com/borgios/borghui/peer/tree"
)

// treeTypes are the message types the tree machine speaks; the transport
// routes each to the cell's event loop.
var treeTypes = []string{
	tree.TypeJoin, tree.TypeRedirect, tree.TypeAssign, tree.TypeUpdate, tree.TypeEvict,
	tree.TypeMigrate, tree.TypeHandoff, tree.TypeRepl, tree.TypeReport, tree.TypeLeave,
	tree.TypePing, tree.TypePingReq, tree.TypePong, tree.TypeAck, tree.TypeError,
	tree.TypeWhois, tree.TypeInfo, tree.TypeMerge, tree.TypeBcast,
}

// Timing of real nodes: quicker than the machine's defaults, so a join takes
// tens of milliseconds and a dead node is gone well within two seconds,
// while one lost packet is still absorbed by the indirect probes.
var realTiming = tree.Timing{
	ProbeInterval:   300 * time.Millisecond,
	ProbeTimeout:    150 * time.Millisecond,
	SuspectTimeout:  450 * time.Millisecond,
	RetryBase:       150 * time.Millisecond,
	JoinBatch:       10 * time.Millisecond,
	JoinRetry:       500 * time.Millisecond,
	TakeoverStagger: 500 * time.Millisecond,
	MergeInterval:   2 * time.Second,
}

// Cell is one tree of one node: the machine, its transport and its monitor.
type Cell struct {
	dna  DNA
	node *Node
	log  *slog.Logger
	tr   *transport.Transport
	m    *tree.Machine
	mon  *monitor

	events  chan event
	quit    chan struct{}
	done    chan struct{}
	stop    sync.Once
	senders sync.WaitGroup // one per peer; started by the loop only

	mu         sync.Mutex
	view       tree.View
	counters   tree.Counters
	deliveries map[string]int // broadcast id → times delivered (exactly once expected)
	started    time.Time
	joinedIn   time.Duration // Start to first position
	savedAt    time.Time     // contacts last written
	savedEpoch uint64
	onDeliver  []func(tree.Deliver)
	onProbeAck func(from tree.NodeID, tag string)

	dropped atomic.Uint64 // messages dropped by fault injection
	sendq   sync.Map      // tree.NodeID → chan outgoing
	rnd     *rand.Rand    // fault injection only
	rndMu   sync.Mutex
}

type event struct {
	from    tree.NodeID
	msg     *tree.Message
	timer   *tree.Timer
	lost    tree.NodeID
	bcast   []byte
	idc     chan string
	leave   chan struct{}
	inspect func()
}

type outgoing struct {
	to  tree.Member
	msg *tree.Message
}

func startCell(ctx context.Context, n *Node, dna DNA) (*Cell, error) {
	c := &Cell{
		dna:        dna,
		node:       n,
		log:        n.cfg.Log.With("cell", dna.Name),
		events:     make(chan event, 4096),
		quit:       make(chan struct{}),
		done:       make(chan struct{}),
		deliveries: make(map[string]int),
		rnd:        rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7)),
	}
	listen, recp := hostPort(n.cfg.IP, dna.NetPort), hostPort(n.cfg.IP, dna.RecpPort)
	if n.cfg.NoListen {
		listen, recp = "", ""
	}
	tr, err := transport.New(transport.Config{
		Key:           n.cfg.Key,
		Cell:          dna.Name,
		Cells:         []string{dna.Name},
		ListenAddr:    listen,
		ReceptorAddr:  recp,
		Clock:         n.cfg.Clock,
		Log:           c.log,
		OnUnreachable: func(id transport.NodeID) { c.post(event{lost: tree.NodeID(id)}) },
	})
	if err != nil {
		return nil, err
	}
	c.tr = tr
	for _, typ := range treeTypes {
		if err := tr.HandleMessage(typ, c.inbound); err != nil {
			tr.Close()
			return nil, err
		}
	}
	if err := c.registerBuiltins(); err != nil {
		tr.Close()
		return nil, err
	}
	self := tree.Member{ID: tree.NodeID(tr.ID()), Addr: tr.Addr()}
	if n.cfg.NoListen {
		relay := n.cfg.Relay[dna.Name]
		if relay == "" {
			tr.Close()
			return nil, errors.New("a node without a listener needs a relay for every cell")
		}
		rp, err := c.relayPeer(ctx, relay)
		if err != nil {
			tr.Close()
			return nil, err
		}
		self.Addr = "relay:" + string(rp.ID)
	}
	c.m = tree.New(tree.Config{Self: self, Fanout: dna.MaxChildren, Timing: realTiming})
	if c.mon, err = startMonitor(c, n.cfg); err != nil {
		tr.Close()
		return nil, err
	}
	joins := n.cfg.Join[dna.Name]
	if len(joins) == 0 && n.cfg.DataDir != "" {
		saved, err := loadContacts(n.cfg.DataDir, dna.Name)
		if err != nil {
			c.log.Warn("contacts not read", "err", err)
		}
		joins = saved // a restart finds its tree again
	}
	var contacts []tree.Member
	for _, addr := range joins {
		contacts = append(contacts, tree.Member{Addr: addr})
	}
	contacts, err = c.resolveContacts(ctx, contacts)
	if err != nil {
		c.log.Warn("no contact answered; founding a tree", "err", err)
	}
	c.started = time.Now()
	go c.loop(contacts)
	return c, nil
}

// resolveContacts learns the node IDs behind contact addresses by asking
// each for its card (a TLS handshake proves the key). Contacts that do not
// answer are dropped; if none answers the cell founds its own tree.
func (c *Cell) resolveContacts(ctx context.Context, in []tree.Member) ([]tree.Member, error) {
	var out []tree.Member
	var last error
	for _, m := range in {
		id, err := c.cardOf(ctx, m.Addr)
		if err != nil {
			last = err
			continue
		}
		out = append(out, tree.Member{ID: id, Addr: m.Addr})
	}
	if len(in) > 0 && len(out) == 0 {
		return nil, last
	}
	return out, nil
}

func (c *Cell) cardOf(ctx context.Context, addr string) (tree.NodeID, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	id, err := c.tr.Identify(ctx, addr)
	if err != nil {
		return "", fmt.Errorf("identifying %s: %w", addr, err)
	}
	return tree.NodeID(id), nil
}

func (c *Cell) relayPeer(ctx context.Context, addr string) (transport.Peer, error) {
	id, err := c.cardOf(ctx, addr)
	if err != nil {
		return transport.Peer{}, err
	}
	p := transport.Peer{ID: transport.NodeID(id), Addr: addr}
	return p, c.tr.SetRelay(ctx, p)
}

func (c *Cell) post(e event) {
	select {
	case c.events <- e:
	case <-c.quit:
	}
}

func (c *Cell) inbound(_ context.Context, req *transport.Request) ([]byte, error) {
	msg, err := tree.Decode(req.Body)
	if err != nil {
		return nil, err
	}
	if msg.Type != req.Env.Type {
		return nil, fmt.Errorf("peer: envelope type %q carries a %q message", req.Env.Type, msg.Type)
	}
	c.post(event{from: tree.NodeID(req.From), msg: msg})
	return nil, nil
}

// loop is the only goroutine that touches the machine.
func (c *Cell) loop(contacts []tree.Member) {
	defer close(c.done)
	c.apply(c.m.Start(time.Now(), contacts))
	for {
		select {
		case <-c.quit:
			return
		case e := <-c.events:
			now := time.Now()
			switch {
			case e.msg != nil:
				c.apply(c.m.Handle(now, e.from, e.msg))
			case e.timer != nil:
				c.apply(c.m.Timer(now, *e.timer))
			case e.lost != "":
				c.apply(c.m.Unreachable(now, e.lost))
			case e.idc != nil:
				acts, id := c.m.Broadcast(now, e.bcast)
				c.apply(acts)
				e.idc <- id
			case e.leave != nil:
				c.apply(c.m.Leave(now))
				close(e.leave)
			case e.inspect != nil:
				e.inspect()
			}
			c.snapshot()
		}
	}
}

func (c *Cell) snapshot() {
	v, cnt := c.m.View(), c.m.Counters()
	c.mu.Lock()
	if c.joinedIn == 0 && v.Pos > 0 {
		c.joinedIn = time.Since(c.started)
	}
	c.view, c.counters = v, cnt
	save := v.Pos > 0 && v.Epoch != c.savedEpoch && time.Since(c.savedAt) > contactsEvery
	if save {
		c.savedAt, c.savedEpoch = time.Now(), v.Epoch
	}
	c.mu.Unlock()
	if save {
		go func() {
			if err := c.saveContacts(v); err != nil {
				c.log.Warn("contacts not saved", "err", err)
			}
		}()
	}
}

func (c *Cell) apply(acts []tree.Action) {
	for _, a := range acts {
		switch a := a.(type) {
		case tree.Send:
			c.send(a.To, a.Msg)
		case tree.After:
			t := a.Timer
			time.AfterFunc(a.Delay, func() { c.post(event{timer: &t}) })
		case tree.Deliver:
			c.deliver(a)
		}
	}
}

// send queues msg for its peer; one goroutine per peer keeps order and
// never blocks the loop.
func (c *Cell) send(to tree.Member, msg *tree.Message) {
	if loss := c.node.cfg.Loss; loss > 0 && msg.Type != tree.TypeBcast {
		c.rndMu.Lock()
		drop := c.rnd.Float64() < loss
		c.rndMu.Unlock()
		if drop {
			c.dropped.Add(1)
			return
		}
	}
	q, loaded := c.sendq.LoadOrStore(to.ID, make(chan outgoing, 1024))
	ch := q.(chan outgoing)
	if !loaded {
		c.senders.Go(func() { c.sender(ch) })
	}
	select {
	case ch <- outgoing{to: to, msg: msg}:
	default:
		c.log.Warn("send queue full; message dropped", "to", string(to.ID)[:16], "type", msg.Type)
	}
}

func (c *Cell) sender(ch chan outgoing) {
	for {
		select {
		case <-c.quit:
			return
		case o := <-ch:
			body, err := o.msg.Encode()
			if err != nil {
				c.log.Error("encoding a tree message", "type", o.msg.Type, "err", err)
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			err = c.tr.Send(ctx, transport.Peer{ID: transport.NodeID(o.to.ID), Addr: o.to.Addr}, o.msg.Type, body)
			cancel()
			if err != nil && !errors.Is(err, transport.ErrClosed) {
				c.post(event{lost: o.to.ID})
			}
		}
	}
}

func (c *Cell) deliver(d tree.Deliver) {
	c.mu.Lock()
	c.deliveries[d.ID]++
	hooks := slices.Clone(c.onDeliver)
	c.mu.Unlock()
	for _, h := range hooks {
		h(d)
	}
	c.answerProbe(d)
}

// Name is the cell type's name.
func (c *Cell) Name() string { return c.dna.Name }

// DNA is the cell's DNA (port offset applied).
func (c *Cell) DNA() DNA { return c.dna }

// ID is the node's ID.
func (c *Cell) ID() tree.NodeID { return tree.NodeID(c.tr.ID()) }

// Addr is the cell's node-to-node address.
func (c *Cell) Addr() string { return c.tr.Addr() }

// ReceptorAddr is the address clients use.
func (c *Cell) ReceptorAddr() string { return c.tr.ReceptorAddr() }

// MonitorAddr is the read-only monitor's address.
func (c *Cell) MonitorAddr() string { return c.mon.addr }

// Transport is the cell's transport, for cell code that needs streams.
func (c *Cell) Transport() *transport.Transport { return c.tr }

// View returns the cell's current tree view.
func (c *Cell) View() tree.View {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.view
}

// Broadcast sends payload to every member of the tree, once each, and
// returns the broadcast's id.
func (c *Cell) Broadcast(payload []byte) (string, error) {
	idc := make(chan string, 1)
	select {
	case c.events <- event{bcast: payload, idc: idc}:
	case <-c.quit:
		return "", transport.ErrClosed
	}
	select {
	case id := <-idc:
		return id, nil
	case <-c.quit:
		return "", transport.ErrClosed
	}
}

// OnDeliver registers a function called for every broadcast this cell
// delivers (from the cell's event loop: keep it short).
func (c *Cell) OnDeliver(f func(tree.Deliver)) {
	c.mu.Lock()
	c.onDeliver = append(c.onDeliver, f)
	c.mu.Unlock()
}

// HandleReceptor registers a client request handler of this cell type.
func (c *Cell) HandleReceptor(typ string, h transport.Handler) error {
	return c.tr.HandleReceptor(c.dna.Name, typ, h)
}

func (c *Cell) close() {
	left := make(chan struct{})
	select {
	case c.events <- event{leave: left}:
		select {
		case <-left:
		case <-time.After(time.Second):
		}
		time.Sleep(50 * time.Millisecond) // let the leave go out
	default:
	}
	c.halt()
}

// halt stops the loop, the monitor, the transport and the senders; safe
// to call again. Once it returns nothing of the cell signs with the node's
// key, so the caller may wipe it.
func (c *Cell) halt() {
	c.stop.Do(func() {
		close(c.quit)
		<-c.done
		c.mon.close()
		c.tr.Close()
		c.senders.Wait()
	})
}

// crash stops the cell at once, saying goodbye to nobody: for tests that
// need a node to vanish the way a killed process does.
func (c *Cell) crash() {
	c.tr.Close()
	c.halt()
}
