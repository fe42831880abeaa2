package transport

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"
)

// streamConn is an authenticated stream; closing it releases its slot.
type streamConn struct {
	*tls.Conn
	once    sync.Once
	release func()
}

// Close sends close_notify and closes the connection.
func (s *streamConn) Close() error {
	err := s.Conn.Close()
	s.once.Do(s.release)
	return err
}

// abort closes the socket at once (Transport.Close).
func (s *streamConn) abort() {
	s.Conn.NetConn().Close()
	s.once.Do(s.release)
}

// DialStream opens a fresh TLS connection to to for a named stream (for
// peer/bulk): the same mutual TLS and node-card check as the message
// channel, then the raw authenticated byte stream, owned by the caller.
// The peer must have a direct address (a NAT'ed node cannot be dialled; it
// dials instead). Close closes streams still open.
func (t *Transport) DialStream(ctx context.Context, to Peer, purpose string) (net.Conn, error) {
	if !validName(purpose, maxPurposeLen, purposeByte) {
		return nil, fmt.Errorf("transport: stream name %q is not 1..%d bytes of [a-z0-9._-]", purpose, maxPurposeLen)
	}
	if _, err := to.ID.Key(); err != nil {
		return nil, err
	}
	addr := to.Addr
	if addr == "" || strings.HasPrefix(addr, RelayPrefix) {
		var err error
		if addr, err = t.resolve(Peer{ID: to.ID}); err != nil {
			return nil, err
		}
	}
	if !t.reserve() {
		if t.isClosed() {
			return nil, ErrClosed
		}
		t.count.add(CountConnBusy)
		return nil, fmt.Errorf("%w: too many connections", ErrUnreachable)
	}
	raw, tc, _, err := t.dialTLS(ctx, to.ID, addr, helloStream, purpose)
	if err != nil {
		t.release()
		return nil, err
	}
	s := t.trackStream(raw, tc)
	if s == nil {
		return nil, ErrClosed
	}
	t.count.add(CountStreamOut)
	return s, nil
}

// trackStream registers a stream for Close; nil when closed.
func (t *Transport) trackStream(raw net.Conn, tc *tls.Conn) *streamConn {
	s := &streamConn{Conn: tc}
	s.release = func() {
		t.mu.Lock()
		delete(t.streamCs, s)
		t.nconns--
		t.mu.Unlock()
	}
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		raw.Close()
		t.release()
		return nil
	}
	t.streamCs[s] = struct{}{}
	t.mu.Unlock()
	return s
}

// serveStream accepts an inbound stream and runs its handler (on the
// accepting goroutine, counted by Close).
func (t *Transport) serveStream(raw net.Conn, tc *tls.Conn, card *NodeCard, purpose string, cardBytes []byte, refuse func(counter, reason string)) {
	t.rmu.RLock()
	fn := t.streams[purpose]
	t.rmu.RUnlock()
	if fn == nil {
		refuse(CountRefused, refuseNoStream)
		raw.Close()
		t.release()
		return
	}
	if writeHello(tc, hello{kind: helloAccept, card: cardBytes}) != nil {
		raw.Close()
		t.release()
		return
	}
	raw.SetDeadline(time.Time{})
	s := t.trackStream(raw, tc)
	if s == nil {
		return
	}
	t.count.add(CountStreamIn)
	defer s.Close()
	fn(card.ID(), s)
}
