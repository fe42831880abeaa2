// Package tree is the PeerTree as a deterministic state machine: events in
// (Start, Handle, Timer, Unreachable, Broadcast, Leave), actions out (Send,
// After, Deliver). No I/O, no goroutines, no clock (every call brings its
// `now`), no global randomness (Config.Rand only). The same inputs give the
// same outputs; the simulator (peer/sim) and the real node (peer) drive the
// same code.
//
// # Shape
//
// A complete k-ary tree in level order: positions 1…size, parent(p) =
// ⌊(p−2)/k⌋+1, children of p = k(p−1)+2 … kp+1 (ParentPos, FirstChild,
// ChildCount, Depth). Joiners take the next positions; a removed position is
// taken by the last node (the size shrinks by one).
//
// # Authority, epochs, Assigns
//
// The root holds the authoritative membership (position → Member, plus an
// ID → position index) and an epoch that grows by one with every structural
// change (a batch of joins, a removal, an address change). For a change it
// sends every affected node — joiners, the moved last node, old and new
// parents, the children of a moved or removed position — one tree.assign
// with that node's complete local view {tree, epoch, pos, size, root,
// parent, children, root group}. Assigns are reliable (acknowledged,
// retried with backoff; a newer one to the same node supersedes the older)
// and O(1) per join: a batch of b joiners costs b Assigns plus about b/k
// parent Assigns plus a few replication messages.
//
// A node accepts an Assign only from the root of its tree with an epoch not
// older than its own, from a root-group member that took over (see below),
// or, while joining, from a root it asked. It checks the view against its
// own fanout: exactly the children the position and size imply, the parent
// the position implies, the root group, no node twice. Anything else is
// rejected, counted (Counters.Rejected by reason) and answered with a
// tree.error; nothing changes. There is no message that restarts a node or
// a tree: unknown types (tree.rootDeath, rootDropThisNode, …) are rejected.
//
// # Root group, commit, takeover, forks
//
// The root group is the members at positions 2…1+min(k,3). The root
// replicates its membership to each of them, stop-and-wait: snapshot chunks
// (MaxChunk members) until the member is synced, then the deltas it lacks.
// A change's Assigns are held until every synced group member acknowledged
// the change (the commit point), so whatever any node saw is in every
// synced replica, and the epoch any node holds is at most the replicas'.
//
// Group members probe the root every round. When the failure detector says
// the root is dead, the synced member at position p takes over after
// (p−2)×TakeoverStagger unless a lower one's Assign arrives first (a root
// that answers from another tree — restarted, or migrating after a lost
// merge — gets one extra stagger, so its tree.migrate arrives first). The
// successor moves into position 1 and the last node moves into the
// position the successor left. This differs from "the last node becomes
// the root": the new root must already hold the membership, and only the
// group does; the rule "the last node fills the hole" holds, the hole is
// just the successor's old slot. The successor then probes the moved last
// node at once, so a last node that died with the root is dropped within
// one probe (the next last node fills the slot). The root of a tree that
// was left gracefully (Leave) hands over with tree.handoff instead.
//
// A takeover forks the tree id: ForkID(old tree, replica epoch, new root) =
// "f" + 31 hex digits of SHA-256. Two successors on two sides of a partition
// therefore never share a tree id (one live root per tree id), and a member
// can verify a takeover Assign: Prev is its tree, Tree is the ForkID of Prev,
// PrevEpoch and the sender, and the sender is in its root group. The fork's
// epochs continue above the old tree's (fork epoch = replica epoch + 1). The
// new root sends every member its Assign (the old root may have died with
// Assigns it never delivered), O(N) once per takeover.
//
// Tree id, root and root group travel down the tree as tree.update (parent
// → child, reliable) whenever they change (a fork, a root-group change); a
// child accepts them only from its parent, and a new tree id only if it is
// a fork of its own tree taken after its own position data (PrevEpoch ≥ its
// epoch), else it asks that tree's root for its Assign. Pings and pongs
// carry the sender's info epoch, so a parent re-sends a child the update it
// missed.
//
// # Failure detection (SWIM)
//
// Every ProbeInterval a node pings one tree neighbour (round robin over
// parent and children; group members also the root every round). No pong
// within ProbeTimeout → tree.pingreq to IndirectProbes helpers (neighbours,
// contacts) that ping it for us. Still nothing within SuspectTimeout → dead:
// the root removes it; a member reports it to the root (tree.report), and
// the root confirms with its own direct and indirect probe (through the
// target's own neighbours) before it removes anybody. One lost packet never
// evicts a node: it takes the direct probe, every indirect path and the
// root's confirmation failing. A pong carries the responder's tree, epoch,
// info epoch and position and whether it counts us as a neighbour; a
// neighbour answering from another tree is gone for us; one answering at
// the wrong position or not counting us twice in a row makes us ask the
// root for our Assign (tree.join from a member), and four probes later it
// is treated as lost. The transport's Unreachable starts a probe at once.
// A reliable message never acknowledged (RetryLimit) makes the root check
// the target; a target found alive is sent its Assign again.
//
// # Joining, orphans, restarts
//
// Start with contacts sends tree.join to them one at a time (a root queues
// the joiner and acks; a member answers tree.redirect naming its root); a
// joiner no root has taken after JoinRounds rounds founds a one-node tree.
// The root places the whole queue (at most MaxBatch) every JoinBatch. A
// join from an ID already in the membership re-sends that member its Assign
// (the same position: a restarted node never appears twice); a new address
// is recorded as a change. A node whose parent is gone waits OrphanTimeout
// for an Assign (or for the parent to count it again), asks the root for
// its Assign, and 2×JoinRetry later re-joins (root first, then contacts). A
// node that re-joins and lands in another tree sends its old children a
// tree.migrate, so a subtree cut off from its root follows it.
//
// # Merging split trees
//
// A root asks two contacts outside its membership tree.whois every
// MergeInterval; a member asks one random contact every 8×MergeInterval and
// passes a foreign tree to its root as a hint; a root's confirmation probe
// learns the root a stray member follows (pong.Root). Told of another tree
// the root asks that root itself. The larger size wins; on a tie the older
// (smaller) epoch; then the lower root ID. The loser sends tree.merge, the
// winner re-checks with its live numbers and answers tree.info with Accept
// (and will not migrate to the loser for 2×MergeInterval); the loser sends
// tree.migrate down its tree (each node accepts it only from its parent for
// its tree, forwards it, then joins the winner as an ordinary batched
// joiner). Members move; nobody restarts.
//
// # Broadcast
//
// Broadcast sends a tree.bcast to the parent and the children; each node
// delivers it once (Deliver, with Hops = edges travelled) and forwards it
// to its other tree neighbours, so a consistent tree carries N−1 copies and
// the origin's tree distance bounds the hops. The id is 32 hex digits of
// SHA-256("borgios/tree/bcast" ‖ origin ‖ incarnation ‖ sequence), the
// incarnation a random number drawn at New (a restarted node never reuses
// ids). Receivers remember ids (SeenMax for SeenTTL) and drop copies. A
// broadcast is accepted from a tree neighbour or a node naming our tree.
// Hops are not acknowledged: over the real transport each hop rides a
// reliable connection; with packet loss (the simulator) a lost copy cuts
// off a subtree.
//
// # Messages
//
// Message is one struct tagged by Type (the envelope's request type); the
// fields each type must and may carry are fixed (rules in validate.go):
//
//	tree.join      joiner → any     seq, target (itself)                         root queues & acks; member → tree.redirect
//	tree.redirect  member → joiner  seq, root [tree epoch size]
//	tree.assign    root → node      seq tree epoch pos size root parent [children group prev prevEpoch]   reliable
//	tree.update    parent → child   seq tree epoch root [group prev prevEpoch]  reliable
//	tree.evict     root → node      seq tree epoch [prev prevEpoch]              reliable
//	tree.migrate   parent → child   seq tree target other                       reliable
//	tree.handoff   root → group     seq tree epoch                              reliable
//	tree.repl      root → group     seq tree epoch [commit] + members offset last | deltas   reliable
//	tree.report    member → root    seq tree target                             reliable
//	tree.leave     member → root    seq tree                                    reliable
//	tree.ping      any → any        seq [tree epoch info]
//	tree.pingreq   any → helper     seq target
//	tree.pong      answer           seq [tree epoch info pos neighbour root]
//	tree.ack       answer           seq
//	tree.error     answer           seq code (a Reason…)
//	tree.whois     any → any        seq                                         → tree.info
//	tree.info      answer / hint    seq [tree epoch size root accept]
//	tree.merge     root → root      seq tree epoch size root                    → tree.info
//	tree.bcast     neighbour        id origin hops [tree] + payload
//
// Encode writes one line of JSON and, for a broadcast, a line feed and the
// raw payload (never base64). Decode is strict and size-limited: unknown
// types, unknown, duplicate or differently-cased keys, trailing data, fields
// a type may not carry, texts outside [A-Za-z0-9._:-] or over their length,
// numbers out of range, lists over their limits (children and group
// MaxFanout, snapshot chunk MaxChunk, MaxDeltas deltas with MaxSlots slots)
// are errors wrapping ErrMalformed, ErrUnknownType or ErrTooLarge. A
// Member's Addr is opaque (host:port or relay:<NodeID>). Messages are
// read-only once sent: a machine may send one *Message to several nodes.
//
// # Timing defaults
//
// ProbeInterval 1s, ProbeTimeout 250ms, SuspectTimeout 750ms,
// IndirectProbes 3, RetryBase 300ms doubling to RetryMax 3s, RetryLimit 8
// transmissions, JoinBatch 100ms, MaxBatch 1024 (≤ MaxSlots), JoinRetry 1s,
// JoinWait 5s, JoinRounds 3, OrphanTimeout 10s, TakeoverStagger 2s,
// MergeInterval 5s, SeenTTL 10m, SeenMax 65536. The root group is
// min(k, 3) members; Fanout must be the same on every node of a tree.
//
// # What the machine guarantees
//
// It never panics and never "exits"; a bad or stale message changes nothing
// and is counted; every message it sends passes Validate (fuzzed); a root's
// membership is always positions 1…size filled with unique members; a
// member's view is always a consistent local view for its position.
package tree
