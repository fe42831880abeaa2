package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// Connection registry, dialling and accepting.

type dialCall struct {
	done chan struct{}
	c    *conn
	err  error
}

// reserve takes a connection slot.
func (t *Transport) reserve() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed || t.nconns >= t.cfg.MaxConns {
		return false
	}
	t.nconns++
	return true
}

func (t *Transport) release() {
	t.mu.Lock()
	t.nconns--
	t.mu.Unlock()
}

// register adds an authenticated connection and starts its reader.
func (t *Transport) register(c *conn) error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		c.raw.Close()
		t.release()
		return ErrClosed
	}
	t.all[c] = struct{}{}
	if !c.receptor {
		t.peers[c.peer] = append(t.peers[c.peer], c)
	}
	t.wg.Add(1)
	t.mu.Unlock()
	go c.readLoop()
	return nil
}

// connClosed forgets c, fails the requests waiting on it and reports the
// peer unreachable when it broke or left requests unanswered and no other
// connection to it remains.
func (t *Transport) connClosed(c *conn, reason error) {
	t.mu.Lock()
	delete(t.all, c)
	others := false
	if !c.receptor {
		list := t.peers[c.peer]
		for i, x := range list {
			if x == c {
				list = append(list[:i:i], list[i+1:]...)
				break
			}
		}
		if len(list) == 0 {
			delete(t.peers, c.peer)
		} else {
			t.peers[c.peer] = list
		}
		others = len(list) > 0
	}
	t.nconns--
	closing := t.closed
	t.mu.Unlock()
	t.count.add(c.prefix + CountConnClosed)
	failed := t.failPendingOn(c)
	if c.receptor || closing {
		return
	}
	clean := reason == nil || reason == io.EOF || errors.Is(reason, errIdle) || errors.Is(reason, net.ErrClosed)
	if !clean {
		t.count.add(CountConnLost)
	}
	t.cfg.Log.Debug("transport: connection closed", "peer", c.peer.Short(), "reason", reason)
	if (!clean || failed > 0) && !others {
		t.unreachable(c.peer)
	}
}

// dialer returns the ID of the node that dialled c.
func (t *Transport) dialer(c *conn) NodeID {
	if c.outbound {
		return t.self
	}
	return c.peer
}

// best returns the connection to use for id: of the open ones, the one
// dialled by the lower node ID (both ends choose the same), the newest on a
// tie. The others stay open until idle, answering what was sent on them.
func (t *Transport) best(id NodeID) *conn {
	t.mu.Lock()
	defer t.mu.Unlock()
	var b *conn
	for _, c := range t.peers[id] {
		if !c.alive() {
			continue
		}
		if b == nil {
			b = c
			continue
		}
		dc, db := t.dialer(c), t.dialer(b)
		if dc < db || dc == db && c.created.After(b.created) {
			b = c
		}
	}
	return b
}

// learn remembers a verified card and its first address.
func (t *Transport) learn(card *NodeCard) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cards[card.ID()] = *card
	if len(card.Addrs) > 0 {
		t.addrs[card.ID()] = card.Addrs[0]
	}
}

// CardOf returns the verified card of a peer this transport has met.
// Persisted, such cards let a restarted node find its tree again.
func (t *Transport) CardOf(id NodeID) (NodeCard, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c, ok := t.cards[id]
	return c, ok
}

// resolve finds a dialable address for p.
func (t *Transport) resolve(p Peer) (string, error) {
	if p.Addr != "" && !strings.HasPrefix(p.Addr, RelayPrefix) {
		return p.Addr, nil
	}
	t.mu.Lock()
	a, ok := t.addrs[p.ID]
	t.mu.Unlock()
	if ok {
		return a, nil
	}
	if t.cfg.Resolve != nil {
		if a, ok := t.cfg.Resolve(p.ID); ok && a != "" && !strings.HasPrefix(a, RelayPrefix) {
			return a, nil
		}
	}
	return "", fmt.Errorf("%w: %s", ErrNoRoute, p.ID.Short())
}

// connTo returns an open connection to p, dialling one (at most one dial
// per peer at a time) when there is none. fresh reports a new connection.
func (t *Transport) connTo(ctx context.Context, p Peer) (c *conn, fresh bool, err error) {
	if c := t.best(p.ID); c != nil {
		return c, false, nil
	}
	addr, err := t.resolve(p)
	if err != nil {
		return nil, false, err
	}
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil, false, ErrClosed
	}
	call, ok := t.dialing[p.ID]
	if !ok {
		call = &dialCall{done: make(chan struct{})}
		t.dialing[p.ID] = call
		t.wg.Add(1)
		go func() {
			defer t.wg.Done()
			call.c, call.err = t.dialNode(p.ID, addr)
			t.mu.Lock()
			delete(t.dialing, p.ID)
			t.mu.Unlock()
			close(call.done)
		}()
	}
	t.mu.Unlock()
	select {
	case <-call.done:
		return call.c, true, call.err
	case <-ctx.Done():
		return nil, false, fmt.Errorf("transport: dial %s: %w", p.ID.Short(), ctx.Err())
	}
}

// dialTLS dials addr, completes the TLS handshake and the preamble
// (kind 'M' or 'S'), and checks the listener's card against want.
func (t *Transport) dialTLS(ctx context.Context, want NodeID, addr string, kind byte, purpose string) (net.Conn, *tls.Conn, *NodeCard, error) {
	ctx, cancel := context.WithTimeout(ctx, t.cfg.DialTimeout)
	defer cancel()
	stop := context.AfterFunc(t.ctx, cancel)
	defer stop()
	d := net.Dialer{KeepAliveConfig: t.keepAlive()}
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%w: dial %s: %w", ErrUnreachable, addr, err)
	}
	fail := func(err error) (net.Conn, *tls.Conn, *NodeCard, error) {
		raw.Close()
		return nil, nil, nil, err
	}
	tc := tls.Client(raw, t.cliTLS)
	if err := tc.HandshakeContext(ctx); err != nil {
		t.count.add(CountHandshakeFail)
		return fail(fmt.Errorf("%w: handshake with %s: %w", ErrUnreachable, addr, err))
	}
	if dl, ok := ctx.Deadline(); ok {
		raw.SetDeadline(dl)
	}
	unblock := context.AfterFunc(ctx, func() { raw.SetDeadline(time.Unix(1, 0)) })
	defer unblock()
	_, cardBytes, err := t.currentCard()
	if err != nil {
		return fail(err)
	}
	if err := writeHello(tc, hello{kind: kind, purpose: purpose, card: cardBytes}); err != nil {
		return fail(fmt.Errorf("%w: %w", ErrUnreachable, err))
	}
	h, err := readHello(tc)
	if err != nil {
		t.count.add(CountBadHello)
		return fail(fmt.Errorf("%w: %w", ErrUnreachable, err))
	}
	switch h.kind {
	case helloRefuse:
		t.count.add(CountRefused)
		return fail(fmt.Errorf("%w: %s", ErrRefused, h.purpose))
	case helloAccept:
	default:
		t.count.add(CountBadHello)
		return fail(fmt.Errorf("%w: listener sent kind %q", ErrBadHello, h.kind))
	}
	card, err := t.checkPeerCard(h.card, tc.ConnectionState(), want)
	if err != nil {
		t.count.add(CountBadCard)
		return fail(err)
	}
	if !unblock() {
		return fail(fmt.Errorf("transport: dial %s: %w", addr, ctx.Err()))
	}
	raw.SetDeadline(time.Time{})
	return raw, tc, card, nil
}

// dialNode opens a message channel to id at addr.
func (t *Transport) dialNode(id NodeID, addr string) (*conn, error) {
	if !t.reserve() {
		if t.isClosed() {
			return nil, ErrClosed
		}
		t.count.add(CountConnBusy)
		return nil, fmt.Errorf("%w: too many connections", ErrUnreachable)
	}
	raw, tc, card, err := t.dialTLS(t.ctx, id, addr, helloMessages, "")
	if err != nil {
		t.release()
		return nil, err
	}
	c := t.newConn(raw, tc, card, true, false)
	if err := t.register(c); err != nil {
		return nil, err
	}
	t.count.add(CountConnOut)
	t.cfg.Log.Debug("transport: connected", "peer", id.Short(), "addr", addr)
	return c, nil
}

// checkPeerCard decodes and verifies a peer's card and binds it to the
// connection: the card's TLS key hash must be the hash of the certificate
// the peer presented, and, when want is set, the card must be want's.
func (t *Transport) checkPeerCard(b []byte, cs tls.ConnectionState, want NodeID) (*NodeCard, error) {
	card, err := DecodeCard(b)
	if err != nil {
		return nil, err
	}
	if err := card.Verify(t.cfg.Clock()); err != nil {
		return nil, err
	}
	h, err := peerKeyHash(cs)
	if err != nil {
		return nil, err
	}
	if h != card.TLSKeyHash {
		return nil, fmt.Errorf("%w: card is not bound to the certificate the peer presented", ErrBadCard)
	}
	if want != "" && card.ID() != want {
		return nil, fmt.Errorf("%w: connected to %s, want %s", ErrBadCard, card.ID().Short(), want.Short())
	}
	t.learn(card)
	return card, nil
}

func (t *Transport) acceptLoop(ln net.Listener, receptor bool) {
	defer t.wg.Done()
	backoff := 5 * time.Millisecond
	for {
		raw, err := ln.Accept()
		if err != nil {
			if t.isClosed() || errors.Is(err, net.ErrClosed) {
				return
			}
			t.cfg.Log.Warn("transport: accept", "err", err)
			select {
			case <-time.After(backoff):
			case <-t.ctx.Done():
				return
			}
			backoff = min(2*backoff, time.Second)
			continue
		}
		backoff = 5 * time.Millisecond
		if !t.reserve() {
			t.count.add(CountConnBusy)
			raw.Close()
			continue
		}
		t.wg.Add(1)
		go t.serveInbound(raw, receptor)
	}
}

// serveInbound runs the handshake and preamble of an accepted connection,
// then its reader (message channel, receptor) or its stream handler.
func (t *Transport) serveInbound(raw net.Conn, receptor bool) {
	defer t.wg.Done()
	registered := false
	defer func() {
		if !registered {
			raw.Close()
			t.release()
		}
	}()
	raw.SetDeadline(time.Now().Add(t.cfg.DialTimeout))
	stop := context.AfterFunc(t.ctx, func() { raw.Close() })
	defer stop()
	cfg := t.srvTLS
	if receptor {
		cfg = t.recpTLS
	}
	tc := tls.Server(raw, cfg)
	if err := tc.HandshakeContext(t.ctx); err != nil {
		t.count.add(CountHandshakeFail)
		return
	}
	_, cardBytes, err := t.currentCard()
	if err != nil {
		return
	}
	if receptor {
		if writeHello(tc, hello{kind: helloAccept, card: cardBytes}) != nil {
			return
		}
		raw.SetDeadline(time.Time{})
		c := t.newConn(raw, tc, nil, false, true)
		registered = t.register(c) == nil
		if registered {
			t.count.add("receptor." + CountConnIn)
		}
		return
	}
	refuse := func(counter, reason string) {
		t.count.add(counter)
		writeHello(tc, hello{kind: helloRefuse, purpose: reason})
	}
	h, err := readHello(tc)
	if err != nil || h.kind != helloMessages && h.kind != helloStream {
		refuse(CountBadHello, refuseBadHello)
		return
	}
	card, err := t.checkPeerCard(h.card, tc.ConnectionState(), "")
	if err != nil {
		t.cfg.Log.Debug("transport: refused a card", "err", err)
		refuse(CountBadCard, refuseBadCard)
		return
	}
	if h.kind == helloStream {
		registered = true // the stream path releases its slot itself
		t.serveStream(raw, tc, card, h.purpose, cardBytes, refuse)
		return
	}
	if writeHello(tc, hello{kind: helloAccept, card: cardBytes}) != nil {
		return
	}
	raw.SetDeadline(time.Time{})
	c := t.newConn(raw, tc, card, false, false)
	if !stop() {
		return
	}
	registered = t.register(c) == nil
	if registered {
		t.count.add(CountConnIn)
		t.cfg.Log.Debug("transport: accepted", "peer", c.peer.Short())
	}
}

// janitor closes idle connections.
func (t *Transport) janitor() {
	defer t.wg.Done()
	tick := time.NewTicker(max(min(t.cfg.IdleTimeout/4, 5*time.Second), 10*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-t.ctx.Done():
			return
		case <-tick.C:
		}
		busy := t.connsWithPending()
		limit := time.Now().Add(-t.cfg.IdleTimeout).UnixNano()
		var idle []*conn
		t.mu.Lock()
		for c := range t.all {
			if !c.pinned.Load() && len(c.inflight) == 0 && !busy[c] && c.lastUse.Load() < limit {
				idle = append(idle, c)
			}
		}
		t.mu.Unlock()
		for _, c := range idle {
			t.count.add(c.prefix + CountConnIdle)
			c.close(errIdle)
		}
	}
}
