package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// MeasureRawTLS measures raw TLS 1.3 throughput on loopback (127.0.0.1)
// with the transport's TLS configuration (mutual, self-signed P-256,
// ALPN): it sends n bytes over one connection and returns MB/s (10^6 bytes
// per second) from the first byte written to the receiver's
// acknowledgement of the last. No envelopes, no signatures: the ceiling
// that framed messages are compared with (`borghui bench tree`).
func MeasureRawTLS(ctx context.Context, n int64) (float64, error) {
	if n <= 0 {
		return 0, errors.New("transport: measure: byte count must be positive")
	}
	a, b, closeFn, err := rawTLSPair(ctx)
	if err != nil {
		return 0, err
	}
	defer closeFn()
	if dl, ok := ctx.Deadline(); ok {
		a.SetDeadline(dl)
		b.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { a.Close(); b.Close() })
	defer stop()
	errc := make(chan error, 1)
	go func() {
		if _, err := io.CopyN(io.Discard, b, n); err != nil {
			errc <- err
			return
		}
		_, err := b.Write([]byte{1})
		errc <- err
	}()
	buf := make([]byte, 256<<10)
	start := time.Now()
	for left := n; left > 0; {
		k := min(left, int64(len(buf)))
		if _, err := a.Write(buf[:k]); err != nil {
			return 0, fmt.Errorf("transport: measure: write: %w", err)
		}
		left -= k
	}
	var ack [1]byte
	if _, err := io.ReadFull(a, ack[:]); err != nil {
		return 0, fmt.Errorf("transport: measure: ack: %w", err)
	}
	if err := <-errc; err != nil {
		return 0, fmt.Errorf("transport: measure: read: %w", err)
	}
	return float64(n) / 1e6 / time.Since(start).Seconds(), nil
}

// rawTLSPair returns the two ends of a mutual TLS 1.3 loopback connection
// made with the transport's configuration and fresh certificates.
func rawTLSPair(ctx context.Context) (client, server *tls.Conn, closeFn func(), err error) {
	cc, err := NewCertificate()
	if err != nil {
		return nil, nil, nil, err
	}
	sc, err := NewCertificate()
	if err != nil {
		return nil, nil, nil, err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, nil, fmt.Errorf("transport: measure: listen: %w", err)
	}
	defer ln.Close()
	type accepted struct {
		c   *tls.Conn
		err error
	}
	ch := make(chan accepted, 1)
	go func() {
		raw, err := ln.Accept()
		if err != nil {
			ch <- accepted{err: err}
			return
		}
		s := tls.Server(raw, serverTLS(sc, alpnNode, true))
		if err := s.HandshakeContext(ctx); err != nil {
			raw.Close()
			ch <- accepted{err: err}
			return
		}
		ch <- accepted{c: s}
	}()
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", ln.Addr().String())
	if err != nil {
		ln.Close()
		<-ch
		return nil, nil, nil, fmt.Errorf("transport: measure: dial: %w", err)
	}
	c := tls.Client(raw, clientTLS(&cc, alpnNode))
	if err := c.HandshakeContext(ctx); err != nil {
		raw.Close()
		ln.Close()
		<-ch
		return nil, nil, nil, fmt.Errorf("transport: measure: handshake: %w", err)
	}
	s := <-ch
	if s.err != nil {
		raw.Close()
		return nil, nil, nil, fmt.Errorf("transport: measure: accept: %w", s.err)
	}
	return c, s.c, func() { c.Close(); s.c.Close() }, nil
}
