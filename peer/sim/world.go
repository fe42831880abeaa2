package sim

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/borgios/borghui/peer/tree"
)

// Event kinds.
const (
	evMsg uint8 = iota + 1
	evTimer
	evUnreachable
	evFunc
)

// event is one entry of the virtual-time queue.
type event struct {
	at   int64 // virtual ns
	seq  uint64
	msg  *tree.Message
	tm   tree.Timer
	node int32 // receiver
	from int32 // sender (evMsg, evUnreachable)
	inc  uint32
	kind uint8
}

// eventQueue is a binary min-heap by (at, seq): equal times run in the
// order they were scheduled, so a run is a pure function of its seed.
type eventQueue []event

func (q eventQueue) less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}

func (q *eventQueue) push(e event) {
	*q = append(*q, e)
	h := *q
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(i, p) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func (q *eventQueue) pop() event {
	h := *q
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h[n] = event{}
	h = h[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		c := l
		if r := l + 1; r < n && h.less(r, l) {
			c = r
		}
		if !h.less(c, i) {
			break
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
	*q = h
	return top
}

// node is one simulated host.
type node struct {
	m        *tree.Machine
	mem      tree.Member
	up       bool
	started  bool
	inc      uint32
	upSince  int64
	side     uint8  // partition side
	rootTree string // the tree id while it is a live root (invariant 3)
	lastTree string // invariant 1: the tree and epoch last checked at this root
	lastEp   uint64
}

// world is the simulator: nodes, the event queue, the network and the checks.
type world struct {
	o     Options
	k     int
	rnd   *rand.Rand
	base  time.Time
	now   int64
	seq   uint64
	q     eventQueue
	nodes []node
	fns   map[uint64]func()

	inflight    []int32            // structural messages in flight to each node
	roots       map[string][]int32 // live roots by tree id
	partitioned bool
	validate    bool // tests: every sent message must pass Validate
	everCut     bool
	loss        float64

	// statistics
	events, messages, probeMsgs int64
	joinMsgs                    int64
	counting                    bool // count join messages (the build phase)
	violations                  int64
	notes                       []string
	bcast                       map[string]*bcastStat
	bcastInflight               int64
	duplicates                  int64
	falseEvictions              int64
	crashes                     int64
	evicted, takeovers          int64
	migrations                  int64
	peakHeap                    uint64
}

type bcastStat struct {
	sends     int64
	delivered int64
	maxHops   int
	got       []uint64 // bitset by node
}

func newWorld(o Options) *world {
	w := &world{
		o: o, k: min(max(o.Fanout, 2), tree.MaxFanout),
		rnd:   rand.New(rand.NewPCG(uint64(o.Seed), 0x5eed)),
		base:  time.Unix(1_700_000_000, 0),
		nodes: make([]node, o.Nodes), inflight: make([]int32, o.Nodes),
		roots: map[string][]int32{}, fns: map[uint64]func(){},
		bcast: map[string]*bcastStat{}, loss: o.Loss,
	}
	for i := range w.nodes {
		mem := tree.Member{ID: nodeID(i), Addr: fmt.Sprintf("10.%d.%d.%d:13350", i>>16&255, i>>8&255, i&255)}
		if i > 0 && w.rnd.Float64() < o.Relay {
			mem.Addr = "relay:" + string(nodeID(w.rnd.IntN(i)))
		}
		w.nodes[i].mem = mem
	}
	return w
}

func nodeID(i int) tree.NodeID { return tree.NodeID("n" + strconv.Itoa(i)) }

// index parses a simulator NodeID; -1 when it is not one of ours.
func (w *world) index(id tree.NodeID) int32 {
	if len(id) < 2 || id[0] != 'n' {
		return -1
	}
	i, err := strconv.Atoi(string(id[1:]))
	if err != nil || i < 0 || i >= len(w.nodes) {
		return -1
	}
	return int32(i)
}

func (w *world) time() time.Time { return w.base.Add(time.Duration(w.now)) }

func (w *world) push(e event) {
	w.seq++
	e.seq = w.seq
	w.q.push(e)
}

// at runs f at virtual time t.
func (w *world) at(t int64, f func()) {
	w.seq++
	w.fns[w.seq] = f
	w.q.push(event{at: t, seq: w.seq, kind: evFunc})
}

// runUntil processes every event up to virtual time t.
func (w *world) runUntil(t int64) {
	for len(w.q) > 0 && w.q[0].at <= t {
		ev := w.q.pop()
		w.now = ev.at
		w.events++
		if w.events&(1<<21-1) == 0 {
			w.sampleHeap()
		}
		w.dispatch(ev)
	}
	w.now = max(w.now, t)
}

func (w *world) dispatch(ev event) {
	switch ev.kind {
	case evFunc:
		f := w.fns[ev.seq]
		delete(w.fns, ev.seq)
		f()
		return
	case evMsg:
		if structural(ev.msg.Type) {
			w.inflight[ev.node]--
		}
		if ev.msg.Type == tree.TypeBcast {
			w.bcastInflight--
		}
		n := &w.nodes[ev.node]
		if !n.up || w.cut(ev.from, ev.node) {
			return
		}
		w.apply(ev.node, n.m.Handle(w.time(), w.nodes[ev.from].mem.ID, ev.msg))
	case evTimer:
		n := &w.nodes[ev.node]
		if !n.up || n.inc != ev.inc {
			return
		}
		w.apply(ev.node, n.m.Timer(w.time(), ev.tm))
	case evUnreachable:
		n := &w.nodes[ev.node]
		if !n.up || n.inc != ev.inc {
			return
		}
		w.apply(ev.node, n.m.Unreachable(w.time(), w.nodes[ev.from].mem.ID))
	}
	w.check(ev.node)
}

func structural(t string) bool {
	return t == tree.TypeAssign || t == tree.TypeUpdate || t == tree.TypeEvict || t == tree.TypeMigrate || t == tree.TypeHandoff
}

func probeType(t string) bool {
	return t == tree.TypePing || t == tree.TypePong || t == tree.TypePingReq
}

// cut: a partition separates a and b.
func (w *world) cut(a, b int32) bool {
	return w.partitioned && w.nodes[a].side != w.nodes[b].side
}

func (w *world) latency() int64 {
	return int64(200*time.Microsecond) + w.rnd.Int64N(int64(1800*time.Microsecond))
}

func (w *world) apply(i int32, acts []tree.Action) {
	for _, a := range acts {
		switch a := a.(type) {
		case tree.Send:
			w.send(i, a)
		case tree.After:
			w.push(event{at: w.now + int64(a.Delay), kind: evTimer, node: i, inc: w.nodes[i].inc, tm: a.Timer})
		case tree.Deliver:
			w.deliver(i, a)
		}
	}
}

func (w *world) send(from int32, s tree.Send) {
	to := w.index(s.To.ID)
	w.messages++
	t := s.Msg.Type
	switch {
	case probeType(t):
		w.probeMsgs++
	case t == tree.TypeBcast:
		if st := w.bcast[s.Msg.ID]; st != nil {
			st.sends++
		}
	case w.counting:
		w.joinMsgs++
	}
	if to < 0 {
		w.violate("node %s sent %s to unknown node %q", w.nodes[from].mem.ID, t, s.To.ID)
		return
	}
	if w.validate {
		if err := s.Msg.Validate(); err != nil {
			w.violate("node %s sent an invalid message: %v", w.nodes[from].mem.ID, err)
		}
	}
	if t == tree.TypeEvict {
		w.noteEviction(from, to)
	}
	if !w.nodes[to].up {
		// A refused connection: the sender's transport reports it.
		w.push(event{at: w.now + 2*w.latency(), kind: evUnreachable, node: from, from: to, inc: w.nodes[from].inc})
		return
	}
	if w.loss > 0 && w.rnd.Float64() < w.loss {
		return
	}
	if w.cut(from, to) {
		return
	}
	if structural(t) {
		w.inflight[to]++
	}
	if t == tree.TypeBcast {
		w.bcastInflight++
	}
	w.push(event{at: w.now + w.latency(), kind: evMsg, node: to, from: from, msg: s.Msg})
}

func (w *world) deliver(i int32, d tree.Deliver) {
	st := w.bcast[d.ID]
	if st == nil {
		return
	}
	word, bit := i/64, uint64(1)<<(i%64)
	if st.got[word]&bit != 0 {
		w.duplicates++
		w.violate("node %s delivered broadcast %s twice", w.nodes[i].mem.ID, d.ID)
		return
	}
	st.got[word] |= bit
	st.delivered++
	st.maxHops = max(st.maxHops, d.Hops)
}

// noteEviction counts an eviction notice to a node that was up for at least
// 20 s and following the evicting root's tree, in a run without partitions.
func (w *world) noteEviction(root, target int32) {
	n := &w.nodes[target]
	if w.everCut {
		return // after a partition every cross-side eviction is legitimate
	}
	if n.up && w.now-n.upSince >= int64(20*time.Second) &&
		n.m.TreeID() == w.nodes[root].m.TreeID() {
		w.falseEvictions++
	}
}

func (w *world) violate(format string, args ...any) {
	w.violations++
	if len(w.notes) < 20 {
		w.notes = append(w.notes, fmt.Sprintf("t=%.3fs ", float64(w.now)/1e9)+fmt.Sprintf(format, args...))
	}
}

// start boots node i (first time or after a crash) with contacts.
func (w *world) start(i int32, contacts []tree.Member) {
	n := &w.nodes[i]
	n.inc++
	n.up, n.started, n.upSince = true, true, w.now
	seed := uint64(w.o.Seed)<<20 ^ uint64(i)<<8 ^ uint64(n.inc)
	n.m = tree.New(tree.Config{Self: n.mem, Fanout: w.k, Rand: rand.New(rand.NewPCG(seed, uint64(i))), Timing: w.o.Timing})
	n.lastTree, n.lastEp = "", 0
	w.apply(i, n.m.Start(w.time(), contacts))
	w.check(i)
}

// leave makes node i leave gracefully (it stays up to finish its
// retransmissions; the checks ignore it from now on).
func (w *world) leave(i int32) {
	w.apply(i, w.nodes[i].m.Leave(w.time()))
	w.check(i)
}

// crash stops node i: its timers die with it, messages to it are refused.
func (w *world) crash(i int32) {
	n := &w.nodes[i]
	if !n.up {
		return
	}
	w.crashes++
	n.up = false
	n.inc++
	w.setRoot(i, "")
}
