package transport

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/borgios/borghui/signer"
)

var errIdle = errors.New("transport: idle")

// conn is one authenticated TLS connection carrying signer framed messages:
// a node message channel (peer set) or a receptor client connection.
type conn struct {
	t        *Transport
	raw      net.Conn
	tc       *tls.Conn
	br       *bufio.Reader
	bw       *bufio.Writer
	wsem     chan struct{} // write lock, taken with a context
	inflight chan struct{} // request handlers running
	done     chan struct{}
	once     sync.Once

	receptor bool
	prefix   string // counter prefix: "" or "receptor."
	maxBody  int64
	peer     NodeID // node channel: the card's node ID
	peerKey  [signer.PublicKeyLen]byte
	outbound bool
	created  time.Time

	bmu   sync.Mutex
	bcond *sync.Cond
	bused int64 // bytes of bodies read and not yet handled

	lastUse     atomic.Int64 // time.Now().UnixNano() of the last message
	pinned      atomic.Bool  // never closed for idleness (relay links)
	relayClient atomic.Bool  // the peer registered us as its relay
	relayReturn atomic.Bool  // the peer forwarded through us: we may deliver to it
	wantDeliver atomic.Bool  // we registered with / forwarded through the peer: accept relay.deliver
}

func (t *Transport) newConn(raw net.Conn, tc *tls.Conn, card *NodeCard, outbound, receptor bool) *conn {
	c := &conn{
		t: t, raw: raw, tc: tc,
		br:       bufio.NewReaderSize(tc, 32<<10),
		bw:       bufio.NewWriterSize(tc, 32<<10),
		wsem:     make(chan struct{}, 1),
		inflight: make(chan struct{}, t.cfg.MaxInflight),
		done:     make(chan struct{}),
		receptor: receptor,
		maxBody:  t.cfg.MaxBody,
		outbound: outbound,
		created:  time.Now(),
	}
	if receptor {
		c.prefix = "receptor."
		c.maxBody = t.cfg.MaxReceptorBody
	} else {
		c.peer = card.ID()
		c.peerKey = card.NodeKey
	}
	c.bcond = sync.NewCond(&c.bmu)
	c.touch()
	return c
}

// acquire reserves n bytes of the connection's body budget
// (Config.MaxInflightBytes), waiting while handlers hold it. It fails when
// the connection closes.
func (c *conn) acquire(n int64) bool {
	c.bmu.Lock()
	defer c.bmu.Unlock()
	for c.bused > 0 && c.bused+n > c.t.cfg.MaxInflightBytes && c.alive() {
		c.bcond.Wait()
	}
	if !c.alive() {
		return false
	}
	c.bused += n
	return true
}

func (c *conn) releaseBytes(n int64) {
	c.bmu.Lock()
	c.bused -= n
	c.bcond.Broadcast()
	c.bmu.Unlock()
}

func (c *conn) touch() { c.lastUse.Store(time.Now().UnixNano()) }

func (c *conn) alive() bool {
	select {
	case <-c.done:
		return false
	default:
		return true
	}
}

// write sends one framed message. Waiting for the write lock honours ctx;
// the write itself is bounded by WriteTimeout, and a failed write closes
// the connection (its framing can no longer be trusted).
func (c *conn) write(ctx context.Context, env *signer.Envelope, body []byte) error {
	select {
	case c.wsem <- struct{}{}:
	case <-c.done:
		return fmt.Errorf("%w: connection closed", ErrUnreachable)
	case <-ctx.Done():
		return fmt.Errorf("transport: write: %w", ctx.Err())
	}
	defer func() { <-c.wsem }()
	if !c.alive() {
		return fmt.Errorf("%w: connection closed", ErrUnreachable)
	}
	c.raw.SetWriteDeadline(time.Now().Add(c.t.cfg.WriteTimeout))
	err := signer.WriteMessage(c.bw, env, bytes.NewReader(body), int64(len(body)))
	if err == nil {
		err = c.bw.Flush()
	}
	if err != nil {
		c.close(fmt.Errorf("%w: write: %w", ErrUnreachable, err))
		return fmt.Errorf("%w: write: %w", ErrUnreachable, err)
	}
	c.touch()
	c.t.count.add(c.prefix + CountSent)
	return nil
}

// close closes the connection once; reason nil or io.EOF means a clean
// close by the peer.
func (c *conn) close(reason error) {
	c.once.Do(func() {
		c.bmu.Lock()
		close(c.done)
		c.bcond.Broadcast()
		c.bmu.Unlock()
		c.raw.Close()
		c.t.connClosed(c, reason)
	})
}

// readLoop reads frames until the connection ends. Framing errors close
// the connection; everything else is answered and the connection is kept.
func (c *conn) readLoop() {
	defer c.t.wg.Done()
	var reason error
	defer func() { c.close(reason) }()
	for {
		env, br, err := signer.ReadMessage(c.br, math.MaxInt64)
		if err != nil {
			reason = c.frameError(err)
			return
		}
		if br.Len() > c.maxBody {
			c.t.count.add(c.prefix + CountRejected + "too-large")
			c.t.count.add(c.prefix + CountFrameBroken)
			reason = fmt.Errorf("%w: body of %d bytes, limit %d", signer.ErrTooLarge, br.Len(), c.maxBody)
			c.refuseLarge(env, reason)
			return
		}
		n := br.Len()
		if !c.acquire(n) {
			return
		}
		release := func() { c.releaseBytes(n) }
		body := make([]byte, n)
		if _, err := io.ReadFull(br, body); err != nil {
			release()
			reason = c.frameError(noEOF(err))
			return
		}
		sum, err := br.Sum()
		if err != nil {
			release()
			reason = c.frameError(err)
			return
		}
		c.touch()
		if c.receptor {
			c.t.inboundReceptor(c, env, body, sum, release)
		} else {
			c.t.inbound(path{c: c, sender: c.peerKey}, env, body, sum, release)
		}
		if !c.alive() {
			return
		}
	}
}

func noEOF(err error) error {
	if err == io.EOF {
		return fmt.Errorf("%w: body", signer.ErrTruncated)
	}
	return err
}

// frameError classifies a read error: a clean end, a broken peer, or a
// framing error (counted; the stream cannot be resynchronised).
func (c *conn) frameError(err error) error {
	switch {
	case err == io.EOF || errors.Is(err, net.ErrClosed):
		return err
	case errors.Is(err, signer.ErrMalformed), errors.Is(err, signer.ErrTooLarge), errors.Is(err, signer.ErrTruncated):
		c.t.count.reject(c.prefix, err)
		c.t.count.add(c.prefix + CountFrameBroken)
		return err
	}
	return err
}

// refuseLarge answers a request whose body is over the limit with a
// too-large error response, then closes the connection without reading
// the body: it stops sending, and discards at most 64 KiB for at most a
// second so the peer can read the answer before the socket goes away.
func (c *conn) refuseLarge(env *signer.Envelope, reason error) {
	if env.InReplyTo.IsZero() {
		p := path{c: c, sender: env.Sender}
		if !c.receptor {
			p.sender = c.peerKey
		}
		ctx, cancel := context.WithTimeout(c.t.ctx, time.Second)
		c.t.replyError(ctx, p, env, signer.ErrorCode(reason), reason.Error())
		cancel()
	} else if !c.receptor {
		c.t.failResponse(path{c: c, sender: c.peerKey}, env, reason)
	}
	if tcp, ok := c.raw.(interface{ CloseWrite() error }); ok {
		tcp.CloseWrite()
	}
	c.raw.SetReadDeadline(time.Now().Add(time.Second))
	io.Copy(io.Discard, io.LimitReader(c.raw, 64<<10))
}
