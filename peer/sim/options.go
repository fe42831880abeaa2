package sim

import (
	"time"

	"github.com/borgios/borghui/peer/tree"
)

// Options describe one simulated run. Zero values take the defaults in the
// comments.
type Options struct {
	Nodes     int           // nodes in the run (default 1000)
	Fanout    int           // k (default 10)
	Storm     bool          // all joins within StormWindow; otherwise one join every RampGap
	Churn     float64       // fraction of the nodes that crash during the disturbance phase, each restarting 1–5 s later
	Partition bool          // split the nodes into two random halves for the disturbance phase, then heal
	Loss      float64       // probability that any message is lost, for the whole run
	Seed      int64         // seeds every random choice of the run
	Duration  time.Duration // disturbance phase (default 10s when Churn, Partition or Loss is set, else 0)

	KillRootAndLast bool // after the build, crash the root and the last node at the same instant (no restart)
	NoBroadcast     bool // skip the closing broadcasts

	StormWindow time.Duration // default 1s
	RampGap     time.Duration // default 1ms
	Contacts    int           // contacts a joiner starts with: the first node plus random earlier ones (default 3)
	Relay       float64       // fraction of nodes with a relay:<NodeID> address (default 0.05)
	MaxConverge time.Duration // give up waiting for quiescence after this much virtual time (default 180s)
	Timing      tree.Timing   // the machines' timing (zero = tree defaults)
}

// Result is what a run measured; see doc.go for exactly how.
type Result struct {
	Nodes                     int      `json:"nodes"`
	MaxBroadcastHops          int      `json:"maxBroadcastHops"`
	MaxBroadcastHopsFromLeaf  int      `json:"maxBroadcastHopsFromLeaf"`
	BroadcastMessages         int64    `json:"broadcastMessages"`
	BroadcastMessagesFromLeaf int64    `json:"broadcastMessagesFromLeaf"`
	BroadcastDelivered        int64    `json:"broadcastDelivered"`
	DuplicateDeliveries       int64    `json:"duplicateDeliveries"`
	InvariantViolations       int64    `json:"invariantViolations"`
	MessagesPerJoin           float64  `json:"messagesPerJoin"`
	BuildVirtualMs            float64  `json:"buildVirtualMs"`
	ConvergeVirtualMs         float64  `json:"convergeVirtualMs"`
	Converged                 bool     `json:"converged"`
	WallSeconds               float64  `json:"wallSeconds"`
	Trees                     int      `json:"trees"`
	FalseEvictions            int64    `json:"falseEvictions"`
	Evictions                 int64    `json:"evictions"`
	Takeovers                 int64    `json:"takeovers"`
	Migrations                int64    `json:"migrations"`
	Crashes                   int64    `json:"crashes"`
	EventsProcessed           int64    `json:"eventsProcessed"`
	Messages                  int64    `json:"messages"`
	ProbeMessagesPerNodeSec   float64  `json:"probeMessagesPerNodeSec"`
	VirtualSeconds            float64  `json:"virtualSeconds"`
	PeakHeapMB                float64  `json:"peakHeapMB"`
	Violations                []string `json:"violations,omitempty"`
}

func (o Options) withDefaults() Options {
	if o.Nodes <= 0 {
		o.Nodes = 1000
	}
	if o.Fanout <= 0 {
		o.Fanout = 10
	}
	if o.Duration <= 0 && (o.Churn > 0 || o.Partition || o.Loss > 0) {
		o.Duration = 10 * time.Second
	}
	if o.StormWindow <= 0 {
		o.StormWindow = time.Second
	}
	if o.RampGap <= 0 {
		o.RampGap = time.Millisecond
	}
	if o.Contacts <= 0 {
		o.Contacts = 3
	}
	if o.Relay == 0 {
		o.Relay = 0.05
	}
	if o.MaxConverge <= 0 {
		o.MaxConverge = 180 * time.Second
	}
	return o
}
