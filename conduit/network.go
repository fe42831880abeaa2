package conduit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/borgios/borghui/failover"
)

// NetworkConfig is how an unlocked conduit reaches the network. With it
// set, unlocking opens a Session in the background (retrying while the
// network is out of reach) and locking closes it.
type NetworkConfig struct {
	// Mode is shown to the person: "guest", "home" or "solo".
	Mode string
	// Endpoints says where the cells are: the --join flags, the list saved
	// on the stick, or the conduit's own solo node.
	Endpoints func(ctx context.Context) (Endpoints, error)
	// Dir is the data folder: mail and the saved endpoints live below it.
	Dir string
	// Nick goes on the mail card ("" keeps the card's).
	Nick string
	// Replicas is R for shards (0: the default).
	Replicas int
	// Solo: the endpoints are the conduit's own one-node network; they
	// are not saved on the stick.
	Solo bool
	// Poll is how often new mail, delivery states and the balance are
	// checked (default 3 s); endpoints are probed every tenth poll.
	Poll time.Duration
}

// Network states.
const (
	NetOff        = "off"        // locked, or no network configured
	NetConnecting = "connecting" // trying; Reason says why the last try failed
	NetConnected  = "connected"
)

// ErrNotConnected: the session is not open (yet). NetworkStatus says why.
var ErrNotConnected = errors.New("conduit: not connected to the network")

// ErrNoNetwork: no network is known (none given, none saved on the stick).
var ErrNoNetwork = errors.New("conduit: no network known")

// Switch is one failover: a call left an endpoint for another.
type Switch struct {
	Cell string
	From string
	To   string
	Why  string
	At   time.Time
}

// NetStatus is where the conduit stands with the network.
type NetStatus struct {
	Mode   string
	State  string // NetOff, NetConnecting or NetConnected
	Reason string // the last failure, for the person
	Since  time.Time
	// Switches are the latest failovers, newest first (at most 20).
	Switches []Switch
}

// network is the conduit's side of the session life cycle.
type network struct {
	mu       sync.Mutex
	status   NetStatus
	sess     *Session
	cancel   context.CancelFunc
	done     chan struct{}
	switches []Switch
}

const maxSwitches = 20

// Session returns the open network session: ErrLocked when the identity is
// locked, ErrNotConnected while it is being opened or when there is no
// network (NetworkStatus says which and why).
func (c *Conduit) Session() (*Session, error) {
	c.net.mu.Lock()
	defer c.net.mu.Unlock()
	if c.net.sess != nil {
		return c.net.sess, nil
	}
	if st, _ := c.State(); st != Unlocked {
		return nil, ErrLocked
	}
	return nil, ErrNotConnected
}

// NetworkStatus reports the mode, the connection state and recent
// failovers.
func (c *Conduit) NetworkStatus() NetStatus {
	c.net.mu.Lock()
	defer c.net.mu.Unlock()
	st := c.net.status
	if c.cfg.Network != nil {
		st.Mode = c.cfg.Network.Mode
	}
	if st.State == "" {
		st.State = NetOff
	}
	st.Switches = append([]Switch(nil), c.net.switches...)
	return st
}

func (c *Conduit) setNetState(state, reason string) {
	c.net.mu.Lock()
	changed := c.net.status.State != state || c.net.status.Reason != reason
	c.net.status.State, c.net.status.Reason = state, reason
	if changed {
		c.net.status.Since = c.cfg.Now()
	}
	c.net.mu.Unlock()
	if changed {
		c.events.Publish(Event{Type: "network", State: state, Text: reason})
	}
}

// noteSwitch records a failover and tells the open tabs.
func (c *Conduit) noteSwitch(cell string, from, to failover.Endpoint, why error) {
	sw := Switch{Cell: cell, From: from.Addr, To: to.Addr, Why: UserMessage(why), At: c.cfg.Now()}
	c.log.Info("failover", "cell", cell, "from", from.Addr, "to", to.Addr, "err", why)
	c.net.mu.Lock()
	c.net.switches = append([]Switch{sw}, c.net.switches...)
	if len(c.net.switches) > maxSwitches {
		c.net.switches = c.net.switches[:maxSwitches]
	}
	c.net.mu.Unlock()
	c.events.Publish(Event{Type: "network", State: NetConnected, Text: fmt.Sprintf("%s: switched from %s to %s (%s)", cell, from.Addr, to.Addr, sw.Why)})
}

// startNetwork opens the session in the background. It is called when the
// identity becomes unlocked.
func (c *Conduit) startNetwork() {
	nc := c.cfg.Network
	if nc == nil {
		return
	}
	c.stopNetwork()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	c.net.mu.Lock()
	c.net.cancel, c.net.done = cancel, done
	c.net.mu.Unlock()
	c.setNetState(NetConnecting, "")
	go func() {
		defer close(done)
		c.runNetwork(ctx, nc)
	}()
}

// stopNetwork closes the session, if any, and waits for its loops to end.
func (c *Conduit) stopNetwork() {
	c.net.mu.Lock()
	cancel, done := c.net.cancel, c.net.done
	c.net.cancel, c.net.done = nil, nil
	c.net.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	<-done
	c.setNetState(NetOff, "")
}

// runNetwork connects (retrying with back-off), then keeps the session
// live until ctx ends.
func (c *Conduit) runNetwork(ctx context.Context, nc *NetworkConfig) {
	var s *Session
	for wait := time.Second; ; wait = min(2*wait, 30*time.Second) {
		var err error
		s, err = c.connectOnce(ctx, nc)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return
		}
		c.log.Warn("network not reached; retrying", "in", wait, "err", err)
		c.setNetState(NetConnecting, UserMessage(err))
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
	c.net.mu.Lock()
	c.net.sess = s
	c.net.mu.Unlock()
	defer func() {
		c.net.mu.Lock()
		c.net.sess = nil
		c.net.mu.Unlock()
		s.Close()
	}()
	c.setNetState(NetConnected, "")
	c.events.Publish(Event{Type: "wallet"})
	c.events.Publish(Event{Type: "mail"})
	s.live(ctx, c, nc)
}

func (c *Conduit) connectOnce(ctx context.Context, nc *NetworkConfig) (*Session, error) {
	eps, err := nc.Endpoints(ctx)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return c.Connect(cctx, eps, SessionOptions{
		Dir: nc.Dir, Nick: nc.Nick, Replicas: nc.Replicas, Poll: nc.Poll, Unsaved: nc.Solo,
		OnSwitch: func(from, to failover.Endpoint, why error) { c.noteSwitch("peerPaysCell", from, to, why) },
	})
}
