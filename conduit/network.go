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
	// Endpoints says where the network's cells are: the --join flags or
	// the list saved on the stick (ErrNoNetwork when there is none).
	Endpoints func(ctx context.Context) (Endpoints, error)
	// Solo, when set, starts the conduit's own one-node network and says
	// where its cells are. It is used while the network is unknown or out
	// of reach; the network is tried again every ten polls and, once it
	// answers, the person's files and undelivered mail are replicated to
	// it from the solo cells and the session moves there for good.
	Solo func(ctx context.Context) (Endpoints, error)
	// SoloStop, when set, stops the solo network once the session has left it.
	SoloStop func()
	// Dir is the data folder: mail and the saved endpoints live below it.
	Dir string
	// Nick goes on the mail card ("" keeps the card's).
	Nick string
	// Replicas is R for shards on the network (0: the default; the solo
	// network keeps one copy).
	Replicas int
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
	Mode   string // "solo" while on the solo network, else NetworkConfig.Mode
	State  string // NetOff, NetConnecting or NetConnected
	Reason string // the last failure, for the person
	Since  time.Time
	// Switches are the latest failovers, newest first (at most 20).
	Switches []Switch
	// Moved is what leaving the solo network carried to the network (nil
	// until it happened in this run); Moving is true while it is under way.
	Moved  *Moved
	Moving bool
	// MoveErr is why the move under way stopped last time ("" when it has
	// not); it is tried again by itself.
	MoveErr string
}

// network is the conduit's side of the session life cycle.
type network struct {
	mu       sync.Mutex
	status   NetStatus
	sess     *Session
	solo     bool // sess is on the solo network
	cancel   context.CancelFunc
	done     chan struct{}
	switches []Switch
	kick     chan struct{} // TryNetwork: try the network now
	moving   bool          // the solo network's data is moving to the network
	moved    *Moved        // what the last move carried
	moveErr  string        // why the move under way stopped last, for the person
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
	if c.net.solo {
		st.Mode = "solo"
	}
	if st.State == "" {
		st.State = NetOff
	}
	st.Switches = append([]Switch(nil), c.net.switches...)
	st.Moving, st.MoveErr = c.net.moving, c.net.moveErr
	if c.net.moved != nil {
		m := *c.net.moved
		st.Moved = &m
	}
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

// soloAfter is how many failed tries of a known network come before the
// solo network is used.
const soloAfter = 2

// runNetwork connects (retrying with back-off; on the solo network when
// the network is unknown or out of reach), then keeps the session live
// until ctx ends. On the solo network it waits for the network and, once
// it answers, replicates the person's data there and moves the session.
func (c *Conduit) runNetwork(ctx context.Context, nc *NetworkConfig) {
	for ctx.Err() == nil {
		s, solo := c.connectAny(ctx, nc)
		if s == nil {
			return
		}
		c.setSession(s, solo)
		if !solo {
			c.serve(ctx, nc, s, nil)
			return
		}
		if err := markSolo(nc.Dir); err != nil {
			c.log.Warn("what the solo network holds may not move to the network later", "err", err)
		}
		lctx, stopLive := context.WithCancel(ctx)
		liveDone := make(chan struct{})
		go func() {
			defer close(liveDone)
			s.live(lctx, c, nc)
		}()
		found := c.awaitNetwork(ctx, nc)
		stopLive()
		<-liveDone
		if !found {
			c.endSession(s)
			return
		}
		next, err := c.leaveSolo(ctx, nc, s)
		if err != nil {
			if ctx.Err() == nil {
				c.log.Warn("the network answered but no session opened on it; back to the solo network", "err", err)
			}
			continue
		}
		c.setSession(next, false)
		c.serve(ctx, nc, next, s)
		return
	}
}

// serve keeps the network session s live until ctx ends, meanwhile moving
// to it what the solo network holds, if anything (from, when set, is the
// solo session just left; serve closes it).
func (c *Conduit) serve(ctx context.Context, nc *NetworkConfig, s, from *Session) {
	moved := make(chan struct{})
	if from != nil || nc.Solo != nil && soloPending(nc.Dir) {
		go func() {
			defer close(moved)
			c.moveSolo(ctx, nc, from, s)
		}()
	} else {
		close(moved)
	}
	s.live(ctx, c, nc)
	<-moved
	c.endSession(s)
}

// setSession makes s the open session and tells the open tabs.
func (c *Conduit) setSession(s *Session, solo bool) {
	c.net.mu.Lock()
	c.net.sess, c.net.solo = s, solo
	c.net.mu.Unlock()
	c.setNetState(NetConnected, "")
	c.events.Publish(Event{Type: "network", State: NetConnected})
	c.events.Publish(Event{Type: "wallet"})
	c.events.Publish(Event{Type: "mail"})
}

// endSession closes s, which is no longer served.
func (c *Conduit) endSession(s *Session) {
	c.net.mu.Lock()
	if c.net.sess == s {
		c.net.sess, c.net.solo = nil, false
	}
	c.net.mu.Unlock()
	s.Close()
}

// connectAny opens a session on the network, retrying with back-off, or
// on the solo network (when configured) once the network is unknown or
// has failed soloAfter times. It returns nil when ctx ends first.
func (c *Conduit) connectAny(ctx context.Context, nc *NetworkConfig) (*Session, bool) {
	fails := 0
	for wait := time.Second; ; wait = min(2*wait, 30*time.Second) {
		s, err := c.connectOnce(ctx, nc, onNetwork)
		if err == nil {
			return s, false
		}
		if ctx.Err() != nil {
			return nil, false
		}
		fails++
		if nc.Solo != nil && (errors.Is(err, ErrNoNetwork) || fails >= soloAfter) {
			c.log.Info("no network reachable; using the solo network", "reason", err)
			s, serr := c.connectOnce(ctx, nc, onSolo)
			if serr == nil {
				return s, true
			}
			if ctx.Err() != nil {
				return nil, false
			}
			err = fmt.Errorf("%w (and the solo network: %w)", err, serr)
		}
		c.log.Warn("network not reached; retrying", "in", wait, "err", err)
		c.setNetState(NetConnecting, UserMessage(err))
		select {
		case <-ctx.Done():
			return nil, false
		case <-time.After(wait):
		}
	}
}

// Where connectOnce connects.
type target int

const (
	onNetwork  target = iota
	onSolo            // the solo network
	soloSource        // the solo network, without mail: only read from while moving
)

func (c *Conduit) connectOnce(ctx context.Context, nc *NetworkConfig, to target) (*Session, error) {
	endpoints, replicas, timeout := nc.Endpoints, nc.Replicas, time.Minute
	solo := to != onNetwork
	if solo {
		endpoints, replicas = nc.Solo, 1
	} else if nc.Solo != nil {
		// Not long on a network that does not answer: the solo network
		// can serve meanwhile.
		timeout = 30 * time.Second
	}
	eps, err := endpoints(ctx)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return c.Connect(cctx, eps, SessionOptions{
		Dir: nc.Dir, Nick: nc.Nick, Replicas: replicas, Poll: nc.Poll, Unsaved: solo, NoMail: to == soloSource,
		OnSwitch: func(from, to failover.Endpoint, why error) { c.noteSwitch("peerPaysCell", from, to, why) },
	})
}
