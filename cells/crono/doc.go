// Package crono is the network-time cell (cronoTreeCell): the clock every
// envelope timestamp, freshness window and card validity of BorgIOS is
// read from. Its members agree on one time among themselves, and clients
// (the conduit) learn it from several of them, with NTP's four-timestamp
// exchange over the ordinary signed transport.
//
// The legacy client asked a node for "rootTime" with an unauthenticated
// request and replaced the process's global clock with the answer. Here
// every answer is a signed response verified against the node's key, one
// cell cannot move a client that asks three, the correction is bounded,
// and the host clock is never set: network time is the host clock plus an
// offset kept in process (Server.Now, Clock.Now).
//
// Three faces, as every cell: the protocol (protocol.go: types, limits,
// strict decoders, the sample arithmetic), the Server (server.go: mounts
// on a peer.Cell, answers, syncs with the members) and the client
// (client.go: Client for one cell, Clock for the conduit).
//
// # Protocol
//
// Every message is a signer envelope (cell "cronoTreeCell") on the peer
// transport; every response is signed by the answering node and verified
// by the caller. Bodies are flat JSON objects of integer Unix nanoseconds,
// decoded strictly: at most MaxBody (256) bytes, exactly the members
// named (case-sensitive, each once, no others), each an integer in
// 1..MaxTime (2^62, the year 2116; no fraction, no exponent, no sign),
// nothing after the object.
//
//	type            from→to      body       answer            errors
//	crono.time      client→cell  {"t1":n}   {"t1","t2","t3"}  malformed, closed
//	crono.peertime  node→node    {"t1":n}   {"t1","t2","t3"}  malformed, closed
//	crono.hello     node→node    roster Hello {id,addr,recp} (one-way; also broadcast as "crono.hello " + JSON)
//
// t1 is the asker's send time on its host clock; the answer echoes it
// (an answer for another t1 is refused), with t2 the answerer's receive
// and t3 its send time, t3 ≥ t2. For crono.time, t2 and t3 are the cell's
// network time (clients want network time); for crono.peertime its host
// clock (nodes agree on their host clocks, never on each other's
// corrections, so there is no feedback loop and the network cannot drift
// away on its own). Errors are transport error responses with a Code
// constant; the client maps them back to ErrMalformed and ErrClosed.
// crono.peertime answers any authenticated node: the host clock reading
// is no secret, and a member that has not yet heard of the asker still
// answers, so a newcomer is sampled in its first round.
//
// # The exchange
//
// The asker reads t4 when the verified answer is back:
//
//	offset θ = ((t2−t1) + (t3−t4)) / 2     delay δ = (t4−t1) − (t3−t2)
//
// θ is the answerer's clock minus the asker's. Whatever the split of the
// round trip between the two directions, the true offset lies within
// θ ± δ/2: the error bound of a sample is half its delay (the envelope
// signing and verifying sit on both paths, so on a quiet link the actual
// error is far smaller). A sample is refused as impossible (ErrMalformed)
// when a timestamp is out of range, t3 < t2 or δ < 0, and ignored as
// useless when δ > MaxDelay (1 s, ErrSlow) or |θ| > MaxOffset (1 h,
// ErrAbsurd; logged by a server).
//
// Several samples of one peer (DefaultExchanges, 4, per sync) are
// combined by Estimate: the intersection of their intervals θ ± δ/2,
// which must hold the true offset, as a sample whose Offset is its middle
// and whose Delay is its width (so the bound is again Delay/2). Its lower
// end is set by the quickest answer path seen and its upper end by the
// quickest request path, each minimum taken on its own, so it is tighter
// than the lowest-delay sample whenever the delays vary. An empty
// intersection (a clock stepped, or an answer lied) falls back on the
// lowest-delay sample.
//
// # Agreement among nodes
//
// Members are known from the roster (package roster, hello type
// "crono.hello"). Every node samples every other member's host clock
// (Config.Exchanges exchanges each): at once on mounting, a random
// quarter period after it first hears of a member, and every 0.9–1.1
// Config.SyncEvery (2 s) after, the jitter keeping the members' rounds
// apart. Members are sampled one at a time (one more lane per 16 members,
// at most 8): an exchange queued behind another's signing measures the
// queue, and lopsidedly. A node keeps each member's samples from its own
// last 4 rounds and combines them by Estimate, each interval first
// widened by the drift its age allows (100 ppm a side); if they no longer
// intersect (a clock stepped) only the member's newest round is kept. A
// member with no sample in those 4 rounds (unreachable, or gone from the
// roster) is no longer counted. The node's network offset is then
//
//	offset = median({0} ∪ {θ_m : m a sampled member})
//
// relative to its own host clock (0 stands for itself; an even count
// takes the mean of the middle two). Each θ_m is host_m − host_self, so
// every node computes host_self + median(host_k − host_self) = the median
// of the same set of host clocks: the nodes agree to within their
// measurement errors (≤ δ/2 per sample, a fraction of a millisecond on a
// LAN). A minority of wrong clocks cannot drag the network: the median
// stays within the range of the honest clocks, and a clock more than an
// hour off is not counted at all. Server.Now = host clock + offset;
// Server.Status reports the offset, the members sampled, absurd and
// failed, the spread of the host clocks, the error bound, each member's
// estimate (with how many samples and rounds it rests on) and the last
// sync, for the monitor.
//
// # The client's clock
//
// Clock (for the conduit) syncs with the crono cells behind its callers:
// one cell at a time (lanes as above), DefaultExchanges crono.time
// exchanges each, combined by Estimate. The offsets of the cells that
// answered are combined by their median. It is accepted only if more than
// half of them lie within MaxDisagree (1 s) of that median; otherwise
// Sync fails with ErrDisagree and keeps the previous offset (as it does
// with ErrNoAnswer when no cell answers). Each cell's estimate is within
// its Delay/2 of that cell's network time, so the median is within the
// largest such bound of the median cell's network time, itself within the
// cells' (sub-millisecond on a LAN) disagreement of the network;
// ClockStatus.Bound reports the largest bound of the agreeing cells. Clock.Now = host clock + offset, usable as
// transport.ClientConfig.Clock for envelope timestamps and freshness.
//
// # What the host clock is used for
//
// Only as a running counter: t1 and t4 of the exchanges, a server's
// crono.peertime answers, and the base to which the offset is added.
// Nothing here sets, steps or slews it. A node's peer transport should be
// given Server.Now (peer.Config.Clock) once the server runs, so its
// envelopes and freshness checks use network time.
//
// # Limits
//
//   - Each node samples every member each period: n² small exchanges per
//     period in a tree of n; the crono tree is meant to be small.
//   - Network time is the median of the members' host clocks, not UTC:
//     it is as good as the majority of those clocks (run them under NTP).
//   - A node whose own clock is more than MaxOffset from all the others
//     cannot follow them (it finds every sample absurd); it keeps its own
//     time and logs an error; Status.Absurd shows it.
//   - A stepped host clock moves Now with it until the next round, which
//     finds the old samples no longer intersecting and starts over from
//     the newest. A member that leaves still counts for up to 4 rounds. Now is not monotonic: it may step by the measurement
//     error at each round.
//   - The exchange travels in the ordinary envelope, whose timestamp must
//     be within the freshness window (±60 s) of the receiver's network
//     time: a client whose host clock is further off cannot sync through
//     it, and needs a coarse first correction by other means.
//   - With one cell a Clock believes that cell; give it three or more.
package crono
