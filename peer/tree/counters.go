package tree

// Rejection reasons: the Code of a tree.error and the keys of
// Counters.Rejected.
const (
	ReasonMalformed   = "malformed"    // fails Validate, or inconsistent for this machine (e.g. more children than k)
	ReasonUnknownType = "unknown-type" // no such message type (there is no "restart", "rootDeath", …)
	ReasonSelf        = "self"         // claims to come from this node
	ReasonNotRoot     = "not-root"     // a root-only order from someone who is not our root
	ReasonNotParent   = "not-parent"   // a cascade from someone who is not our parent
	ReasonStaleEpoch  = "stale-epoch"  // older than what we hold
	ReasonWrongTree   = "wrong-tree"   // for another tree
	ReasonUnknownFork = "unknown-fork" // a takeover we cannot verify yet (transient)
	ReasonNotMember   = "not-member"   // we are not in a tree (or the subject is not a member)
	ReasonNotGroup    = "not-group"    // replication to a node outside the root group
	ReasonGap         = "gap"          // replication out of order; the root restarts the stream
	ReasonAlive       = "alive"        // a report that the root itself is dead
	ReasonRole        = "role"         // not something this role handles
	ReasonLeft        = "left"         // this machine has left
	ReasonNotNeighbor = "not-neighbour"
)

var reasons = []string{
	ReasonMalformed, ReasonUnknownType, ReasonSelf, ReasonNotRoot, ReasonNotParent,
	ReasonStaleEpoch, ReasonWrongTree, ReasonUnknownFork, ReasonNotMember, ReasonNotGroup,
	ReasonGap, ReasonAlive, ReasonRole, ReasonLeft, ReasonNotNeighbor,
}

var reasonIndex = func() map[string]int {
	m := make(map[string]int, len(reasons))
	for i, r := range reasons {
		m[r] = i
	}
	return m
}()

var types = []string{
	TypeJoin, TypeRedirect, TypeAssign, TypeUpdate, TypeEvict, TypeMigrate, TypeHandoff,
	TypeRepl, TypeReport, TypeLeave, TypePing, TypePingReq, TypePong, TypeAck, TypeError,
	TypeWhois, TypeInfo, TypeMerge, TypeBcast,
}

var typeIndex = func() map[string]int {
	m := make(map[string]int, len(types))
	for i, t := range types {
		m[t] = i
	}
	return m
}()

// Counters are a machine's running totals.
type Counters struct {
	Accepted   map[string]uint64 // handled messages by type
	Rejected   map[string]uint64 // rejected messages by reason (nothing changed)
	Sent       uint64            // Send actions
	Retries    uint64            // retransmissions of reliable messages
	GiveUps    uint64            // reliable messages never acknowledged
	Unmatched  uint64            // acks/errors/pongs for nothing we sent (late duplicates)
	Duplicates uint64            // broadcast copies received again and dropped
	Delivered  uint64            // Deliver actions
	Placed     uint64            // joiners placed (as root)
	Evicted    uint64            // members removed (as root)
	Takeovers  uint64            // times this node became root by takeover or handoff
	Founded    uint64            // one-node trees founded
	Migrations uint64            // times this node's tree lost a merge while it was root
}

type counters struct {
	accepted   [19]uint64
	rejected   [15]uint64
	sent       uint64
	retries    uint64
	giveUps    uint64
	unmatched  uint64
	duplicates uint64
	delivered  uint64
	placed     uint64
	evicted    uint64
	takeovers  uint64
	founded    uint64
	migrations uint64
}

func (c *counters) export() Counters {
	out := Counters{
		Accepted: map[string]uint64{}, Rejected: map[string]uint64{},
		Sent: c.sent, Retries: c.retries, GiveUps: c.giveUps, Unmatched: c.unmatched,
		Duplicates: c.duplicates, Delivered: c.delivered, Placed: c.placed, Evicted: c.evicted,
		Takeovers: c.takeovers, Founded: c.founded, Migrations: c.migrations,
	}
	for i, v := range c.accepted {
		if v > 0 {
			out.Accepted[types[i]] = v
		}
	}
	for i, v := range c.rejected {
		if v > 0 {
			out.Rejected[reasons[i]] = v
		}
	}
	return out
}
