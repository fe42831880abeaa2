package transport

import (
	"context"
	"fmt"
	"time"

	"github.com/borgios/borghui/signer"
)

// Relay for NAT'ed nodes (see doc.go for the trust rules).
//
// Relay body (the body of relay.forward and relay.deliver):
//
//	node key (65 bytes, 0x04 ‖ X ‖ Y) | inner framed message (signer frame)
//
// In relay.forward the key is the target; in relay.deliver it is the origin,
// the node whose connection the relay received the forward on.

func encodeRelayBody(key [signer.PublicKeyLen]byte, inner []byte) []byte {
	b := make([]byte, 0, len(key)+len(inner))
	b = append(b, key[:]...)
	return append(b, inner...)
}

// DecodeRelayBody splits a relay body into its node key and the inner
// message and decodes the inner frame (form only, not verified). maxBody
// bounds the inner body.
func DecodeRelayBody(b []byte, maxBody int64) (key [signer.PublicKeyLen]byte, env *signer.Envelope, body []byte, err error) {
	if len(b) < signer.PublicKeyLen {
		return key, nil, nil, fmt.Errorf("%w: %w: %d bytes", ErrBadRelayFrame, signer.ErrMalformed, len(b))
	}
	copy(key[:], b)
	if _, err := parseNodeKey(key[:]); err != nil {
		return key, nil, nil, fmt.Errorf("%w: %w: %w", ErrBadRelayFrame, signer.ErrMalformed, err)
	}
	env, body, err = signer.Decode(b[signer.PublicKeyLen:], maxBody)
	if err != nil {
		return key, nil, nil, fmt.Errorf("%w: inner: %w", ErrBadRelayFrame, err)
	}
	return key, env, body, nil
}

// sendViaRelay wraps a signed message for to in a relay.forward request to
// relayID and waits for the relay's acknowledgement (it has written the
// message towards the target). prep runs on the relay connection.
func (t *Transport) sendViaRelay(ctx context.Context, relayID NodeID, to Peer, env *signer.Envelope, body []byte, prep func(*conn)) (*conn, error) {
	toKey, err := to.ID.Key()
	if err != nil {
		return nil, err
	}
	if relayID == t.self || relayID == to.ID {
		t.count.add(CountSendFailed)
		t.unreachable(to.ID)
		return nil, fmt.Errorf("%w: %s is not a usable relay", ErrNoRoute, relayID.Short())
	}
	inner, err := signer.Encode(env, body)
	if err != nil {
		return nil, fmt.Errorf("transport: %w", err)
	}
	fwd := encodeRelayBody(toKey, inner)
	if int64(len(fwd)) > t.cfg.MaxBody {
		return nil, fmt.Errorf("transport: %w: relayed message of %d bytes, limit %d", signer.ErrTooLarge, len(fwd), t.cfg.MaxBody)
	}
	outer := t.newEnvelope(t.cfg.Cell, TypeRelayForward, string(relayID), signer.Digest{})
	if err := t.sign(outer, fwd); err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t.cfg.DialTimeout+t.cfg.WriteTimeout)
		defer cancel()
	}
	_, c, err := t.roundTrip(ctx, Peer{ID: relayID}, outer, fwd, func(c *conn) {
		c.wantDeliver.Store(true) // answers come back as relay.deliver
		if prep != nil {
			prep(c)
		}
	})
	if err != nil {
		if !t.isClosed() {
			t.count.add(CountSendFailed)
			t.unreachable(to.ID)
		}
		return nil, fmt.Errorf("%w: via relay %s: %w", ErrUnreachable, relayID.Short(), err)
	}
	return c, nil
}

// handleRegister (relay side): the connection's peer asks to be reached
// through this node.
func (t *Transport) handleRegister(_ context.Context, p path, _ *Request) ([]byte, error) {
	t.mu.Lock()
	n := 0
	for c := range t.all {
		if c.relayClient.Load() && c.peer != p.c.peer {
			n++
		}
	}
	t.mu.Unlock()
	if n >= t.cfg.MaxRelayClients {
		return nil, &RemoteError{Code: "busy", Message: "too many relay clients"}
	}
	p.c.relayClient.Store(true)
	p.c.pinned.Store(true)
	t.count.add(CountRelayRegistered)
	return nil, nil
}

// relayTarget returns an open connection from id that accepts relayed
// messages: id registered on it, or id forwarded through us on it.
func (t *Transport) relayTarget(id NodeID) *conn {
	t.mu.Lock()
	defer t.mu.Unlock()
	var b *conn
	for _, c := range t.peers[id] {
		switch {
		case !c.alive():
		case c.relayClient.Load():
			return c
		case c.relayReturn.Load():
			b = c
		}
	}
	return b
}

// handleForward (relay side): pass the inner message of a relay.forward to
// its target as a relay.deliver naming the forwarding node as origin.
func (t *Transport) handleForward(ctx context.Context, p path, req *Request) ([]byte, error) {
	target, inner, _, err := DecodeRelayBody(req.Body, t.cfg.MaxBody)
	if err != nil {
		t.count.add(CountRelayBad)
		return nil, &RemoteError{Code: signer.ErrorCode(err), Message: err.Error()}
	}
	if inner.Sender != p.sender {
		t.count.add(CountRelayBad)
		return nil, &RemoteError{Code: "unexpected", Message: "the inner sender is not the forwarding node"}
	}
	p.c.relayReturn.Store(true)
	targetID := IDOf(target[:])
	tc := t.relayTarget(targetID)
	if tc == nil {
		t.count.add(CountRelayNoTarget)
		return nil, &RemoteError{Code: CodeUnreachable, Message: "target is not connected to this relay"}
	}
	out := t.newEnvelope(t.cfg.Cell, TypeRelayDeliver, string(targetID), signer.Digest{})
	body := encodeRelayBody(p.sender, req.Body[signer.PublicKeyLen:])
	if err := t.sign(out, body); err != nil {
		return nil, err
	}
	if err := tc.write(ctx, out, body); err != nil {
		t.count.add(CountRelayNoTarget)
		return nil, &RemoteError{Code: CodeUnreachable, Message: "target connection failed"}
	}
	t.count.add(CountRelayForwarded)
	return nil, nil
}

// handleDeliver (target side): a relay.deliver from a relay we use. The
// outer envelope was verified against the relay's connection; the inner
// one is verified like any message, against the origin the relay names,
// which must also be the inner envelope's sender.
func (t *Transport) handleDeliver(_ context.Context, p path, req *Request) ([]byte, error) {
	if !p.c.wantDeliver.Load() {
		t.count.add(CountRelayBad)
		return nil, nil
	}
	origin, env, body, err := DecodeRelayBody(req.Body, t.cfg.MaxBody)
	if err != nil {
		t.count.add(CountRelayBad)
		return nil, nil
	}
	if env.Sender != origin {
		t.count.add(CountRelayBad)
		return nil, nil
	}
	t.count.add(CountRelayDelivered)
	// The inner body lives in the outer one, which the connection's budget
	// already holds until this returns.
	t.inbound(path{c: p.c, sender: origin, relay: true}, env, body, bodySum(body), func() {})
	return nil, nil
}

// SetRelay registers this node with relay (a member with a listener) and
// keeps the registration: the connection is kept open and re-registered
// after it breaks, until SetRelay is called again or Close. From then on
// Self().Addr is "relay:<relay>". SetRelay(ctx, Peer{}) stops using a relay.
func (t *Transport) SetRelay(ctx context.Context, relay Peer) error {
	t.relayMu.Lock()
	t.relayGen++
	gen := t.relayGen
	t.relay = ""
	t.relayMu.Unlock()
	if relay.ID == "" {
		return nil
	}
	c, err := t.registerRelay(ctx, relay)
	if err != nil {
		return err
	}
	t.relayMu.Lock()
	defer t.relayMu.Unlock()
	if gen != t.relayGen {
		return nil
	}
	t.relay = relay.ID
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return ErrClosed
	}
	t.wg.Add(1)
	go t.keepRelay(gen, relay, c)
	return nil
}

func (t *Transport) registerRelay(ctx context.Context, relay Peer) (*conn, error) {
	env := t.newEnvelope(t.cfg.Cell, TypeRelayRegister, string(relay.ID), signer.Digest{})
	if err := t.sign(env, nil); err != nil {
		return nil, err
	}
	_, c, err := t.roundTrip(ctx, relay, env, nil, func(c *conn) {
		c.wantDeliver.Store(true)
		c.pinned.Store(true)
	})
	if err != nil {
		return nil, fmt.Errorf("transport: register with relay %s: %w", relay.ID.Short(), err)
	}
	return c, nil
}

func (t *Transport) relayCurrent(gen int) bool {
	t.relayMu.Lock()
	defer t.relayMu.Unlock()
	return gen == t.relayGen
}

// keepRelay re-registers with the relay whenever its connection ends.
func (t *Transport) keepRelay(gen int, relay Peer, c *conn) {
	defer t.wg.Done()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	backoff := 100 * time.Millisecond
	for {
		select {
		case <-t.ctx.Done():
			return
		case <-tick.C: // notice a SetRelay of another relay
			if !t.relayCurrent(gen) {
				c.pinned.Store(false)
				return
			}
			continue
		case <-c.done:
		}
		for {
			if !t.relayCurrent(gen) {
				return
			}
			ctx, cancel := context.WithTimeout(t.ctx, t.cfg.DialTimeout)
			nc, err := t.registerRelay(ctx, relay)
			cancel()
			if err == nil {
				c, backoff = nc, 100*time.Millisecond
				break
			}
			t.cfg.Log.Debug("transport: relay registration failed", "relay", relay.ID.Short(), "err", err)
			select {
			case <-t.ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 30*time.Second)
		}
	}
}
