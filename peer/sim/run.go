package sim

import (
	"errors"
	"runtime"
	"time"

	"github.com/borgios/borghui/peer/tree"
)

// Run simulates one scenario and reports what it measured: build the tree by
// joins (a storm or a ramp), wait for quiescence, disturb it (loss, churn,
// a partition and its heal, root and last node dying together), wait for
// quiescence again, then broadcast once from the root and once from the
// last node. The run is a pure function of opts except for WallSeconds and
// PeakHeapMB.
func Run(opts Options) (Result, error) {
	o := opts.withDefaults()
	switch {
	case o.Nodes > tree.MaxTreeSize:
		return Result{}, errors.New("sim: too many nodes")
	case o.Loss < 0 || o.Loss >= 1:
		return Result{}, errors.New("sim: loss must be in [0, 1)")
	case o.Churn < 0 || o.Churn > 1:
		return Result{}, errors.New("sim: churn must be in [0, 1]")
	}
	runtime.GC() // so that PeakHeapMB is this run's
	wall := time.Now()
	w := newWorld(o)
	res := Result{Nodes: o.Nodes}

	// Build.
	w.counting = true
	lastJoin := w.scheduleJoins()
	w.runUntil(lastJoin)
	built, ok := w.converge(o.MaxConverge, true)
	w.counting = false
	res.BuildVirtualMs = ms(built)
	res.ConvergeVirtualMs = ms(built - lastJoin)
	res.Converged = ok
	res.MessagesPerJoin = float64(w.joinMsgs) / float64(max(1, o.Nodes-1))

	// Disturb.
	if o.Duration > 0 || o.KillRootAndLast {
		t0 := w.now
		end := t0 + int64(o.Duration)
		if o.KillRootAndLast {
			w.killRootAndLast()
		}
		if o.Partition {
			w.split()
			w.at(end, func() { w.partitioned = false })
		}
		if o.Churn > 0 {
			end = max(end, w.scheduleChurn(t0, int64(o.Duration)))
		}
		w.runUntil(end)
		conv, ok := w.converge(o.MaxConverge, true)
		res.ConvergeVirtualMs = ms(conv - end)
		res.Converged = res.Converged && ok
	}

	// Broadcast.
	if !o.NoBroadcast {
		if r := w.biggestRoot(); r >= 0 {
			st := w.broadcastFrom(r)
			res.MaxBroadcastHops, res.BroadcastMessages, res.BroadcastDelivered = st.maxHops, st.sends, st.delivered
			mem := w.nodes[r].m.Members()
			if leaf := w.index(mem[len(mem)-1].ID); leaf >= 0 && leaf != r {
				st := w.broadcastFrom(leaf)
				res.MaxBroadcastHopsFromLeaf, res.BroadcastMessagesFromLeaf = st.maxHops, st.sends
			}
		}
	}

	res.Trees = len(w.roots)
	for i := range w.nodes {
		if w.nodes[i].up {
			w.addCounters(w.nodes[i].m)
		}
	}
	res.Evictions, res.Takeovers, res.Migrations = w.evicted, w.takeovers, w.migrations
	res.FalseEvictions, res.Crashes = w.falseEvictions, w.crashes
	res.DuplicateDeliveries = w.duplicates
	res.InvariantViolations = w.violations
	res.Violations = w.notes
	res.EventsProcessed, res.Messages = w.events, w.messages
	res.VirtualSeconds = float64(w.now) / 1e9
	if w.now > 0 {
		res.ProbeMessagesPerNodeSec = float64(w.probeMsgs) / float64(o.Nodes) / res.VirtualSeconds
	}
	w.sampleHeap()
	res.PeakHeapMB = float64(w.peakHeap) / (1 << 20)
	res.WallSeconds = time.Since(wall).Seconds()
	return res, nil
}

func ms(ns int64) float64 { return float64(ns) / 1e6 }

// scheduleJoins starts node 0 at once (it founds the tree) and every other
// node at a random instant of the storm window, or one per RampGap. A
// joiner's contacts are node 0 and random nodes that started before it.
// It returns the last start time.
func (w *world) scheduleJoins() int64 {
	w.start(0, nil)
	last := int64(0)
	for i := 1; i < len(w.nodes); i++ {
		var t int64
		if w.o.Storm {
			t = int64(time.Millisecond) + w.rnd.Int64N(int64(w.o.StormWindow))
		} else {
			t = int64(i) * int64(w.o.RampGap)
		}
		last = max(last, t)
		contacts := []tree.Member{w.nodes[0].mem}
		for c := 1; c < w.o.Contacts && i > 1; c++ {
			contacts = append(contacts, w.nodes[1+w.rnd.IntN(i-1)].mem)
		}
		w.at(t, func() { w.start(int32(i), contacts) })
	}
	return last
}

// scheduleChurn crashes Churn×N random nodes at random instants of
// [t0, t0+d); each restarts 1–5 s later with what a real node persists as
// contacts: its old root, its old parent and its machine's contacts. It
// returns the last restart time.
func (w *world) scheduleChurn(t0, d int64) int64 {
	n := int(w.o.Churn * float64(len(w.nodes)))
	last := t0
	for range n {
		i := int32(w.rnd.IntN(len(w.nodes)))
		t := t0 + w.rnd.Int64N(max(d, 1))
		back := t + int64(time.Second) + w.rnd.Int64N(int64(4*time.Second))
		last = max(last, back)
		w.at(t, func() {
			if !w.nodes[i].up {
				return
			}
			m := w.nodes[i].m
			v := m.View()
			contacts := append([]tree.Member{v.Root, v.Parent}, m.Contacts()...)
			w.addCounters(m)
			w.crash(i)
			w.at(back, func() {
				if !w.nodes[i].up {
					w.start(i, contacts)
				}
			})
		})
	}
	return last
}

// split partitions the nodes into two random halves.
func (w *world) split() {
	for i := range w.nodes {
		w.nodes[i].side = uint8(w.rnd.IntN(2))
	}
	w.partitioned, w.everCut = true, true
}

// killRootAndLast crashes the root of the biggest tree and its last node.
func (w *world) killRootAndLast() {
	r := w.biggestRoot()
	if r < 0 {
		return
	}
	mem := w.nodes[r].m.Members()
	last := w.index(mem[len(mem)-1].ID)
	for _, i := range []int32{r, last} {
		if i >= 0 && w.nodes[i].up {
			w.addCounters(w.nodes[i].m)
			w.crash(i)
		}
	}
}

func (w *world) biggestRoot() int32 {
	best, size := int32(-1), 0
	for _, rs := range w.roots {
		if n := len(w.nodes[rs[0]].m.Members()); n > size || (n == size && rs[0] < best) {
			best, size = rs[0], n
		}
	}
	return best
}

// converge runs until the full check passes (polled every 250 ms of virtual
// time, every second above 20 000 nodes) or limit passes; then the
// remaining problems count as violations.
func (w *world) converge(limit time.Duration, single bool) (int64, bool) {
	deadline := w.now + int64(limit)
	step := int64(250 * time.Millisecond)
	if len(w.nodes) > 20000 {
		step = int64(time.Second)
	}
	for {
		problems, notes := w.fullCheck(single)
		if problems == 0 {
			return w.now, true
		}
		if w.now >= deadline {
			w.violations += int64(problems)
			for _, n := range notes {
				if len(w.notes) < 20 {
					w.notes = append(w.notes, "at quiescence: "+n)
				}
			}
			return w.now, false
		}
		w.runUntil(w.now + step)
	}
}

// broadcastFrom starts a broadcast at node i and runs until every copy has
// arrived.
func (w *world) broadcastFrom(i int32) *bcastStat {
	acts, id := w.nodes[i].m.Broadcast(w.time(), []byte("hello"))
	st := &bcastStat{got: make([]uint64, (len(w.nodes)+63)/64)}
	if id != "" {
		w.bcast[id] = st
	}
	w.apply(i, acts)
	for w.bcastInflight > 0 {
		w.runUntil(w.now + int64(10*time.Millisecond))
	}
	return st
}

func (w *world) addCounters(m *tree.Machine) {
	c := m.Counters()
	w.evicted += int64(c.Evicted)
	w.takeovers += int64(c.Takeovers)
	w.migrations += int64(c.Migrations)
}

func (w *world) sampleHeap() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	w.peakHeap = max(w.peakHeap, ms.HeapAlloc)
}
