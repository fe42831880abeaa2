// Package sim runs many tree.Machine instances — the same code as the real
// node — with virtual time and an in-memory network, and checks the tree's
// invariants after every event. Run(Options) is the API; Main is the
// `borghui sim` command.
//
// # Model
//
// One event queue (a binary heap ordered by virtual time, then by the order
// events were scheduled), so a run is a pure function of its Options (only
// WallSeconds and PeakHeapMB vary). Events: message delivery, machine
// timers, "unreachable" reports, scenario steps. Every message takes a
// uniform random 0.2–2 ms; with Loss each message is dropped with that
// probability; during a partition messages between the two sides are
// dropped (also those already in flight); a message to a crashed node is
// refused and its sender's Unreachable is called after twice a latency. A
// crash stops a node (its timers die with it); a restart is a fresh Machine
// with the same ID, started with what the runtime persists as contacts: its
// old root, its old parent and its machine's Contacts(). Node IDs are "n<i>"; 5% of the nodes have a relay:<NodeID>
// address.
//
// # A run
//
//  1. Build: node 0 founds the tree; every other node starts at a random
//     instant of a 1 s window (Storm) or one per millisecond, with node 0
//     and two random earlier nodes as contacts.
//  2. Wait for quiescence (below).
//  3. Disturbance for Duration (default 10 s when any is set): Loss stays on
//     for the whole run; Churn×N random nodes crash at random instants of
//     the phase and restart 1–5 s later; Partition splits the nodes into
//     two random halves for the phase, then heals; KillRootAndLast crashes
//     the root and the last node at the same instant.
//  4. Wait for quiescence again.
//  5. Broadcast once from the root of the biggest tree, and once from its
//     last node, running until every copy has arrived.
//
// # Invariants, after every event (only what the event touched)
//
//  1. Membership: at a root whose epoch moved, every position its recent
//     deltas set holds a valid member indexed at that position, removed
//     members are no longer indexed, the index has exactly size entries and
//     the root is at position 1 (a full pass when the root's tree id
//     changed or its recent deltas do not reach back).
//  2. Parent/child agreement, for the node the event ran on: with its
//     parent and each child, both in the same tree, each names the other
//     at the positions level order gives. A disagreement is a violation
//     unless it is excused: (a) the two follow different trees (a split's
//     residue: a fork that has not reached one side, a root that did not
//     hear of a partition's far side — failure detection and the merge
//     resolve it, invariant 3 and the check at quiescence cover it); (b)
//     either side is stale: down or not started, joining or left, its root
//     down, cut off from it, or now the root of another tree, or no longer
//     holding it; or a partition separates the two; (c) a structural
//     message (assign, update, evict, migrate, handoff) to either is in the
//     network; (d) a machine that sends them structural messages — the live
//     root of either's tree, either's parent, either — is waiting for the
//     acknowledgement of one to either, or (a root) holds one until its root
//     group has the change (tree.Machine.Awaiting).
//  3. At most one live root per tree id.
//  4. No node delivers the same broadcast id twice.
//
// # Quiescence (the full check)
//
// Every live node (not left) is in exactly one tree, at the position its
// root's membership gives it, with the parent, children, root and root
// group that membership implies; every member of every root is alive; and
// there is exactly one tree. It is polled every 250 ms of virtual time
// (every second above 20 000 nodes); if it has not passed after MaxConverge
// (default 180 s) the remaining problems count as violations.
//
// # Result
//
//	nodes                      Options.Nodes
//	maxBroadcastHops           the largest Deliver.Hops of the broadcast from the root (its depth)
//	maxBroadcastHopsFromLeaf   the same for the broadcast from the root's last node
//	broadcastMessages          tree.bcast messages sent for the root's broadcast (N−1 in a consistent tree)
//	broadcastMessagesFromLeaf  the same for the last node's
//	broadcastDelivered         nodes that delivered the root's broadcast
//	duplicateDeliveries        deliveries of a broadcast id a node had delivered before (all broadcasts)
//	invariantViolations        incremental violations plus problems left at quiescence
//	messagesPerJoin            messages of every type but ping, pingreq, pong and bcast (so joins,
//	                           redirects, assigns, acks, replication, updates, retransmissions) sent
//	                           from the start until the built tree is quiescent, divided by N−1
//	buildVirtualMs             virtual time from the first start until the built tree is quiescent
//	convergeVirtualMs          virtual time from the end of the last disturbance (the heal, the last
//	                           restart, the end of the loss phase; for a build-only run the last
//	                           join's start) until the full check passed (250 ms / 1 s polling)
//	converged                  every wait for quiescence succeeded
//	wallSeconds                real time of the whole run
//	trees                      live roots at the end
//	falseEvictions             eviction notices to nodes up for ≥ 20 s and following the evicting
//	                           root's tree, in runs without a partition (with a partition every
//	                           cross-side eviction is legitimate)
//	evictions, takeovers, migrations   the machines' counters (crashed machines included)
//	crashes                    crashes injected
//	eventsProcessed, messages  queue events handled, messages sent (all types)
//	probeMessagesPerNodeSec    ping + pingreq + pong per node per virtual second
//	virtualSeconds             virtual time at the end
//	peakHeapMB                 the largest Go heap seen, live data and garbage not yet collected
//	                           (collected once when the run starts, sampled every 2^21 events and at the end)
//	violations                 the first 20 violation descriptions
package sim
