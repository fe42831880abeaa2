package transport

import (
	"context"
	"fmt"

	"github.com/borgios/borghui/signer"
)

// pendingReq is a request waiting for its response, keyed by its digest.
type pendingReq struct {
	peer    NodeID
	peerKey [signer.PublicKeyLen]byte
	conn    *conn // the connection it went out on (the relay's for a relayed request)
	ch      chan result
}

type result struct {
	body []byte
	err  error
}

// put delivers r unless a result is already waiting.
func (p *pendingReq) put(r result) {
	select {
	case p.ch <- r:
	default:
	}
}

func (p *pendingReq) fail(err error) { p.put(result{err: err}) }

func (t *Transport) addPending(d signer.Digest, p *pendingReq) {
	t.pmu.Lock()
	t.pending[d] = p
	t.pmu.Unlock()
}

func (t *Transport) dropPending(d signer.Digest, p *pendingReq) {
	t.pmu.Lock()
	if t.pending[d] == p {
		delete(t.pending, d)
	}
	t.pmu.Unlock()
}

// bindPending ties a pending request to the connection it is about to be
// written on (a retry re-binds it and forgets a failure of the old one).
func (t *Transport) bindPending(d signer.Digest, p *pendingReq, c *conn) {
	t.pmu.Lock()
	defer t.pmu.Unlock()
	p.conn = c
	t.pending[d] = p
	select {
	case <-p.ch:
	default:
	}
}

// takePending removes and returns the request d if it is waiting for an
// answer from sender.
func (t *Transport) takePending(d signer.Digest, sender [signer.PublicKeyLen]byte) *pendingReq {
	t.pmu.Lock()
	defer t.pmu.Unlock()
	p, ok := t.pending[d]
	if !ok || p.peerKey != sender {
		return nil
	}
	delete(t.pending, d)
	return p
}

// failPendingOn fails the requests that went out on c and returns how many.
func (t *Transport) failPendingOn(c *conn) int {
	t.pmu.Lock()
	defer t.pmu.Unlock()
	n := 0
	for d, p := range t.pending {
		if p.conn == c {
			p.fail(fmt.Errorf("%w: connection to %s lost", ErrUnreachable, c.peer.Short()))
			delete(t.pending, d)
			n++
		}
	}
	return n
}

func (t *Transport) connsWithPending() map[*conn]bool {
	t.pmu.Lock()
	defer t.pmu.Unlock()
	m := make(map[*conn]bool, len(t.pending))
	for _, p := range t.pending {
		m[p.conn] = true
	}
	return m
}

// wait waits for the answer to p.
func (t *Transport) wait(ctx context.Context, p *pendingReq) ([]byte, error) {
	select {
	case r := <-p.ch:
		return r.body, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("transport: waiting for %s: %w", p.peer.Short(), ctx.Err())
	case <-t.ctx.Done():
		return nil, ErrClosed
	}
}
