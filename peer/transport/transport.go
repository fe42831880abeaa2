package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/borgios/borghui/signer"
)

// Peer names a node and how to reach it: Addr is its netPort "host:port",
// "relay:<NodeID>" for a node reached through that relay, or "" when the
// transport should use an open connection, an address from a card it has
// seen, or Config.Resolve.
type Peer struct {
	ID   NodeID
	Addr string
}

// RelayPrefix starts the Addr of a peer reached through a relay.
const RelayPrefix = "relay:"

// Request is a verified inbound message handed to a Handler.
type Request struct {
	// From is the authenticated sender: the node key bound to the TLS
	// connection; for a relayed message the inner envelope's sender
	// (authenticated by its signature, see doc.go); for a receptor request
	// the client's envelope key. Never a payload field.
	From NodeID
	// Via is the relay the message came through, "" when direct.
	Via NodeID
	// Env is the verified envelope; Body its verified body.
	Env  *signer.Envelope
	Body []byte
}

// Handler handles a request type. For a request, the returned body is sent
// in a signed response; an error is sent as an error response (a
// *RemoteError chooses its code, anything else is code "handler"). For a
// one-way message (HandleMessage) both results are only counted.
type Handler func(ctx context.Context, req *Request) (body []byte, err error)

// StreamHandler serves an inbound named stream from an authenticated node.
// The transport closes c when the handler returns (and on Close).
type StreamHandler func(from NodeID, c net.Conn)

// Message types used by the transport itself. Types starting with
// "transport.", "relay." or "receptor." are reserved.
const (
	TypeResponse      = "transport.response" // a successful response; body = handler's body
	TypeError         = "transport.error"    // an error response; body = {"code","error"}
	TypeRelayRegister = "relay.register"     // NAT'ed node -> relay: deliver to me on this connection
	TypeRelayForward  = "relay.forward"      // node -> relay: body = target key ‖ inner frame
	TypeRelayDeliver  = "relay.deliver"      // relay -> node: body = origin key ‖ inner frame
	TypeReceptorCard  = "receptor.card"      // client -> receptor: answer the node card
)

func reservedType(typ string) bool {
	return strings.HasPrefix(typ, "transport.") || strings.HasPrefix(typ, "relay.") || strings.HasPrefix(typ, "receptor.")
}

type route struct {
	h        Handler
	oneway   bool
	internal func(ctx context.Context, p path, req *Request) ([]byte, error)
}

// Transport is a node's end of the network: a netPort listener (optional),
// persistent authenticated connections to peers, request/response
// correlation, the NAT relay and the receptor. It is safe for concurrent use.
type Transport struct {
	cfg       Config
	self      NodeID
	selfKey   [signer.PublicKeyLen]byte
	keyHash   [32]byte
	srvTLS    *tls.Config
	cliTLS    *tls.Config
	recpTLS   *tls.Config
	ln, recLn net.Listener
	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	count     counters
	recips    atomic.Pointer[[]string]

	cardMu    sync.Mutex
	card      *NodeCard
	cardBytes []byte

	rmu        sync.RWMutex
	routes     map[string]route
	recpRoutes map[string]Handler // cell + " " + type
	streams    map[string]StreamHandler

	mu       sync.Mutex
	closed   bool
	peers    map[NodeID][]*conn
	all      map[*conn]struct{}
	streamCs map[*streamConn]struct{}
	nconns   int
	dialing  map[NodeID]*dialCall
	addrs    map[NodeID]string
	cards    map[NodeID]NodeCard // verified cards of peers met, for persistence

	pmu     sync.Mutex
	pending map[signer.Digest]*pendingReq

	relayMu  sync.Mutex
	relay    NodeID // the relay this node registered with
	relayGen int
}

// New starts a Transport: it makes the node card and, when configured,
// listens on ListenAddr and ReceptorAddr.
func New(cfg Config) (*Transport, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	t := &Transport{
		cfg:        cfg,
		self:       IDOf(cfg.Key.PublicKey()),
		routes:     make(map[string]route),
		recpRoutes: make(map[string]Handler),
		streams:    make(map[string]StreamHandler),
		peers:      make(map[NodeID][]*conn),
		all:        make(map[*conn]struct{}),
		streamCs:   make(map[*streamConn]struct{}),
		dialing:    make(map[NodeID]*dialCall),
		addrs:      make(map[NodeID]string),
		cards:      make(map[NodeID]NodeCard),
		pending:    make(map[signer.Digest]*pendingReq),
	}
	copy(t.selfKey[:], cfg.Key.PublicKey())
	if _, err := parseNodeKey(t.selfKey[:]); err != nil {
		return nil, fmt.Errorf("transport: config: %w", err)
	}
	var err error
	if t.keyHash, err = certKeyHash(*cfg.Certificate); err != nil {
		return nil, err
	}
	t.srvTLS = serverTLS(*cfg.Certificate, alpnNode, true)
	t.cliTLS = clientTLS(cfg.Certificate, alpnNode)
	t.recpTLS = serverTLS(*cfg.Certificate, alpnReceptor, false)
	t.recips.Store(&[]string{string(t.self)})
	t.ctx, t.cancel = context.WithCancel(context.Background())
	t.routes[TypeRelayDeliver] = route{oneway: true, internal: t.handleDeliver}
	if *cfg.Relay {
		t.routes[TypeRelayRegister] = route{internal: t.handleRegister}
		t.routes[TypeRelayForward] = route{internal: t.handleForward}
	}
	lc := net.ListenConfig{KeepAliveConfig: t.keepAlive()}
	if cfg.ListenAddr != "" {
		if t.ln, err = lc.Listen(t.ctx, "tcp", cfg.ListenAddr); err != nil {
			t.cancel()
			return nil, fmt.Errorf("transport: listen: %w", err)
		}
	}
	if cfg.ReceptorAddr != "" {
		if t.recLn, err = lc.Listen(t.ctx, "tcp", cfg.ReceptorAddr); err != nil {
			t.cancel()
			if t.ln != nil {
				t.ln.Close()
			}
			return nil, fmt.Errorf("transport: listen receptor: %w", err)
		}
	}
	if _, _, err := t.currentCard(); err != nil {
		t.Close()
		return nil, err
	}
	if t.ln != nil {
		t.wg.Add(1)
		go t.acceptLoop(t.ln, false)
	}
	if t.recLn != nil {
		t.wg.Add(1)
		go t.acceptLoop(t.recLn, true)
	}
	if cfg.IdleTimeout > 0 {
		t.wg.Add(1)
		go t.janitor()
	}
	return t, nil
}

func (t *Transport) keepAlive() net.KeepAliveConfig {
	if t.cfg.KeepAlive < 0 {
		return net.KeepAliveConfig{Enable: false, Idle: -1, Interval: -1, Count: -1}
	}
	return net.KeepAliveConfig{Enable: true, Idle: t.cfg.KeepAlive, Interval: max(t.cfg.KeepAlive/3, time.Second), Count: 3}
}

// ID returns this node's ID.
func (t *Transport) ID() NodeID { return t.self }

// Addr returns the netPort listener's address, or "" without a listener.
func (t *Transport) Addr() string {
	if t.ln == nil {
		return ""
	}
	return t.ln.Addr().String()
}

// ReceptorAddr returns the receptor listener's address, or "".
func (t *Transport) ReceptorAddr() string {
	if t.recLn == nil {
		return ""
	}
	return t.recLn.Addr().String()
}

// Self returns how others reach this node: its listener address, else
// "relay:<relay>" once registered with a relay, else "".
func (t *Transport) Self() Peer {
	if a := t.Addr(); a != "" {
		if len(t.cfg.AdvertiseAddrs) > 0 {
			a = t.cfg.AdvertiseAddrs[0]
		}
		return Peer{ID: t.self, Addr: a}
	}
	t.relayMu.Lock()
	defer t.relayMu.Unlock()
	if t.relay != "" {
		return Peer{ID: t.self, Addr: RelayPrefix + string(t.relay)}
	}
	return Peer{ID: t.self}
}

// Card returns the current node card (re-signed when less than half of its
// validity is left).
func (t *Transport) Card() NodeCard {
	c, _, err := t.currentCard()
	if err != nil {
		t.cfg.Log.Warn("transport: re-sign node card", "err", err)
	}
	out := *c
	out.Addrs = slices.Clone(c.Addrs)
	out.Cells = slices.Clone(c.Cells)
	out.Sig = slices.Clone(c.Sig)
	return out
}

func (t *Transport) currentCard() (*NodeCard, []byte, error) {
	t.cardMu.Lock()
	defer t.cardMu.Unlock()
	now := t.cfg.Clock().UnixMilli()
	if t.card != nil && now < t.card.Issued+t.cfg.CardTTL.Milliseconds()/2 && now >= t.card.Issued-CardSkew.Milliseconds() {
		return t.card, t.cardBytes, nil
	}
	addrs := slices.Clone(t.cfg.AdvertiseAddrs)
	if len(addrs) == 0 && t.ln != nil {
		addrs = []string{t.ln.Addr().String()}
	}
	if addrs == nil {
		addrs = []string{}
	}
	c := &NodeCard{Version: CardVersion, TLSKeyHash: t.keyHash, Addrs: addrs, Cells: slices.Clone(t.cfg.Cells),
		Issued: now, Expires: now + t.cfg.CardTTL.Milliseconds()}
	if err := c.Sign(t.cfg.Key); err != nil {
		if t.card != nil {
			return t.card, t.cardBytes, err
		}
		return nil, nil, err
	}
	b, err := c.Encode()
	if err != nil {
		if t.card != nil {
			return t.card, t.cardBytes, err
		}
		return nil, nil, err
	}
	t.card, t.cardBytes = c, b
	return c, b, nil
}

// AddRecipient makes inbound messages addressed to id (a tree id) accepted
// besides those addressed to this node's ID.
func (t *Transport) AddRecipient(id string) {
	for {
		old := t.recips.Load()
		if slices.Contains(*old, id) {
			return
		}
		n := append(slices.Clone(*old), id)
		if t.recips.CompareAndSwap(old, &n) {
			return
		}
	}
}

// RemoveRecipient undoes AddRecipient. The node's own ID stays.
func (t *Transport) RemoveRecipient(id string) {
	if id == string(t.self) {
		return
	}
	for {
		old := t.recips.Load()
		n := slices.DeleteFunc(slices.Clone(*old), func(s string) bool { return s == id })
		if t.recips.CompareAndSwap(old, &n) {
			return
		}
	}
}

func (t *Transport) recipients() []string { return *t.recips.Load() }

// Handle registers the handler of a request type: every request of that
// type gets exactly one response (the handler's body or an error). The
// handler runs on its own goroutine with a context cancelled after
// HandlerTimeout or on Close.
func (t *Transport) Handle(typ string, h Handler) error {
	return t.addRoute(typ, route{h: h})
}

// HandleMessage registers the handler of a one-way message type: no
// response is sent. One-way handlers of a connection run in arrival order on
// its reader goroutine and must return quickly (hand the message to a queue).
func (t *Transport) HandleMessage(typ string, h Handler) error {
	return t.addRoute(typ, route{h: h, oneway: true})
}

func (t *Transport) addRoute(typ string, r route) error {
	if r.h == nil || !validName(typ, signer.MaxTextLen, textByte) || reservedType(typ) {
		return fmt.Errorf("transport: handle %q: nil handler, invalid or reserved type", typ)
	}
	t.rmu.Lock()
	defer t.rmu.Unlock()
	t.routes[typ] = r
	return nil
}

func (t *Transport) route(typ string) (route, bool) {
	t.rmu.RLock()
	defer t.rmu.RUnlock()
	r, ok := t.routes[typ]
	return r, ok
}

// HandleReceptor registers the handler of a client request (cell, type) on
// the receptor. cell must be one of Config.Cells.
func (t *Transport) HandleReceptor(cell, typ string, h Handler) error {
	if h == nil || !slices.Contains(t.cfg.Cells, cell) || !validName(typ, signer.MaxTextLen, textByte) || reservedType(typ) {
		return fmt.Errorf("transport: handle receptor %q %q: nil handler, unknown cell, invalid or reserved type", cell, typ)
	}
	t.rmu.Lock()
	defer t.rmu.Unlock()
	t.recpRoutes[cell+" "+typ] = h
	return nil
}

// HandleStream registers the handler of inbound streams named purpose
// (1..64 bytes of [a-z0-9._-]).
func (t *Transport) HandleStream(purpose string, fn StreamHandler) error {
	if fn == nil || !validName(purpose, maxPurposeLen, purposeByte) {
		return fmt.Errorf("transport: handle stream %q: nil handler or invalid name", purpose)
	}
	t.rmu.Lock()
	defer t.rmu.Unlock()
	t.streams[purpose] = fn
	return nil
}

// Counters returns a snapshot of the counters (see the Count* names).
func (t *Transport) Counters() map[string]uint64 { return t.count.snapshot() }

// Close stops the listeners, closes every connection and stream, fails the
// requests in flight with ErrClosed and waits for every goroutine of the
// transport, including running handlers (which see their context
// cancelled). It is idempotent.
func (t *Transport) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	var cs []*conn
	for c := range t.all {
		cs = append(cs, c)
	}
	var ss []*streamConn
	for s := range t.streamCs {
		ss = append(ss, s)
	}
	t.mu.Unlock()
	t.cancel()
	var errs []error
	for _, ln := range []net.Listener{t.ln, t.recLn} {
		if ln != nil {
			if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
				errs = append(errs, err)
			}
		}
	}
	for _, c := range cs {
		c.close(ErrClosed)
	}
	for _, s := range ss {
		s.abort()
	}
	t.wg.Wait()
	t.pmu.Lock()
	for d, p := range t.pending {
		p.fail(ErrClosed)
		delete(t.pending, d)
	}
	t.pmu.Unlock()
	if len(errs) > 0 {
		return fmt.Errorf("transport: close: %w", errors.Join(errs...))
	}
	return nil
}

func (t *Transport) isClosed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.closed
}

func (t *Transport) unreachable(id NodeID) {
	t.count.add(CountUnreachable)
	if t.cfg.OnUnreachable != nil && !t.isClosed() {
		t.cfg.OnUnreachable(id)
	}
}

// newEnvelope returns an unsigned envelope of this node's cell.
func (t *Transport) newEnvelope(cell, typ, recipient string, inReplyTo signer.Digest) *signer.Envelope {
	return &signer.Envelope{Cell: cell, Type: typ, Recipient: recipient,
		Timestamp: t.cfg.Clock().UnixMilli(), InReplyTo: inReplyTo}
}

func (t *Transport) sign(env *signer.Envelope, body []byte) error {
	if err := signer.Sign(t.cfg.Key, env, body, nil); err != nil {
		return fmt.Errorf("transport: sign: %w", err)
	}
	return nil
}
