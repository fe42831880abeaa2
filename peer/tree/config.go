package tree

import (
	"hash/fnv"
	"math/rand/v2"
	"time"
)

// Config configures a Machine.
type Config struct {
	Self   Member     // this node; Self.ID must be a valid NodeID
	Fanout int        // k, children per node; clamped to 2…MaxFanout; the same on every node of a tree
	Rand   *rand.Rand // the machine's only source of randomness; nil = seeded from Self.ID
	Timing Timing     // zero fields take the defaults below
}

// Timing holds every delay and count of the protocol. A zero field means
// the default given in its comment.
type Timing struct {
	ProbeInterval   time.Duration // 1s: one probe round (one neighbour; the root too for root-group members)
	ProbeTimeout    time.Duration // 250ms: no pong → indirect probes
	SuspectTimeout  time.Duration // 750ms: no pong after indirect probes → dead
	IndirectProbes  int           // 3: helpers asked to probe a silent node
	RetryBase       time.Duration // 300ms: first retransmission of an unacknowledged reliable message
	RetryMax        time.Duration // 3s: backoff cap
	RetryLimit      int           // 8: transmissions before the target counts as unreachable
	JoinBatch       time.Duration // 100ms: root places queued joiners every JoinBatch
	MaxBatch        int           // 1024: joiners placed per batch (at most MaxSlots)
	JoinRetry       time.Duration // 1s: joiner waits this long for any answer before the next contact
	JoinWait        time.Duration // 5s: joiner queued at a root waits this long for its Assign before asking again
	JoinRounds      int           // 3: rounds over all contacts without a root answering → found a one-node tree
	OrphanTimeout   time.Duration // 10s: parent gone and no Assign → ask the root again, then re-join
	TakeoverStagger time.Duration // 2s: root-group member at position p waits (p−2)×stagger before taking over
	MergeInterval   time.Duration // 5s: root asks contacts outside its tree which tree they are in
	SeenTTL         time.Duration // 10m: broadcast ids remembered
	SeenMax         int           // 65536: broadcast ids remembered at most
}

// RootGroupSize is the size of the root group for fanout k: min(k, 3). The
// group is the members at positions 2…1+RootGroupSize(k).
func RootGroupSize(k int) int { return min(k, 3) }

func (t Timing) withDefaults() Timing {
	d := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	n := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	d(&t.ProbeInterval, time.Second)
	d(&t.ProbeTimeout, 250*time.Millisecond)
	d(&t.SuspectTimeout, 750*time.Millisecond)
	n(&t.IndirectProbes, 3)
	d(&t.RetryBase, 300*time.Millisecond)
	d(&t.RetryMax, 3*time.Second)
	n(&t.RetryLimit, 8)
	d(&t.JoinBatch, 100*time.Millisecond)
	n(&t.MaxBatch, 1024)
	t.MaxBatch = min(t.MaxBatch, MaxSlots)
	d(&t.JoinRetry, time.Second)
	d(&t.JoinWait, 5*time.Second)
	n(&t.JoinRounds, 3)
	d(&t.OrphanTimeout, 10*time.Second)
	d(&t.TakeoverStagger, 2*time.Second)
	d(&t.MergeInterval, 5*time.Second)
	d(&t.SeenTTL, 10*time.Minute)
	n(&t.SeenMax, 65536)
	return t
}

func seedFrom(id NodeID) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return h.Sum64()
}
