package transport

import (
	"maps"
	"sync"

	"github.com/borgios/borghui/signer"
)

// Counter names (Counters keys). Receptor traffic uses the same names with
// the prefix "receptor.".
const (
	// Messages.
	CountAccepted    = "accepted"  // inbound message verified and dispatched
	CountRejected    = "rejected." // + signer code: inbound message failed verification
	CountUnknownType = "rejected.unknown-type"
	CountUnsolicited = "rejected.unsolicited" // response to no pending request
	CountHandlerErr  = "handler.error"
	CountHandlerPan  = "handler.panic"
	CountSent        = "sent"         // message written
	CountSendFailed  = "send.failed"  // dial or write failed
	CountRespBad     = "response.bad" // a response to our request failed verification
	CountRespError   = "response.error"
	CountErrorSent   = "error.sent" // error responses written
	CountUnreachable = "unreachable"

	// Connections.
	CountConnIn        = "conn.in"
	CountConnOut       = "conn.out"
	CountConnClosed    = "conn.closed"
	CountConnIdle      = "conn.idle"
	CountConnLost      = "conn.lost"
	CountConnBusy      = "conn.busy"
	CountHandshakeFail = "conn.handshake-failed"
	CountBadHello      = "conn.bad-hello"
	CountBadCard       = "conn.bad-card"
	CountRefused       = "conn.refused"
	CountFrameBroken   = "conn.frame-broken" // framing error: connection closed

	// Streams.
	CountStreamIn  = "stream.in"
	CountStreamOut = "stream.out"

	// Relay.
	CountRelayRegistered = "relay.registered"
	CountRelayForwarded  = "relay.forwarded"
	CountRelayNoTarget   = "relay.no-target"
	CountRelayDelivered  = "relay.delivered" // relayed messages received here
	CountRelayBad        = "relay.bad"       // bad relay frame or unexpected deliver
)

// counters is a set of named monotonic counters.
type counters struct {
	mu sync.Mutex
	m  map[string]uint64
}

func (c *counters) add(name string) {
	c.mu.Lock()
	if c.m == nil {
		c.m = make(map[string]uint64)
	}
	c.m[name]++
	c.mu.Unlock()
}

// reject counts a verification failure by its signer code.
func (c *counters) reject(prefix string, err error) {
	c.add(prefix + CountRejected + signer.ErrorCode(err))
}

func (c *counters) snapshot() map[string]uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.m)
}
