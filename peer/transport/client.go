package transport

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"sync"
	"time"

	"github.com/borgios/borghui/signer"
)

// ClientConfig configures a receptor Client. Zero fields take defaults.
type ClientConfig struct {
	// Key is the client identity that signs requests (required).
	Key signer.Key
	// Expect is the node the client wants; "" accepts any node whose card
	// is valid and bound to the TLS certificate (the caller then checks
	// Card against its endpoint list).
	Expect NodeID
	// Clock is network time; default time.Now.
	Clock func() time.Time
	// Verifier checks responses; default a new one on Clock. Share one
	// across the clients of a process.
	Verifier *signer.Verifier
	// MaxBody bounds a response body; default DefaultMaxBody.
	MaxBody int64
	// DialTimeout bounds the dial, handshake and card; default 10 s.
	DialTimeout time.Duration
	// WriteTimeout bounds writing one request; default 30 s.
	WriteTimeout time.Duration
}

// Client is a card-less client of a node's receptor (the conduit's side).
// One persistent TLS 1.3 connection (no client certificate) carries
// concurrent requests; every response is verified against the node key of
// the card the receptor presented and the request's digest.
type Client struct {
	cfg   ClientConfig
	raw   net.Conn
	tc    *tls.Conn
	card  *NodeCard
	count counters
	wmu   sync.Mutex
	bw    *bufio.Writer
	done  chan struct{}
	wg    sync.WaitGroup

	mu      sync.Mutex
	err     error // why the connection ended
	pending map[signer.Digest]*pendingReq
}

// Dial connects to a receptor at addr, reads its node card and checks it:
// signature, validity, binding to the presented certificate and, if set,
// cfg.Expect.
func Dial(ctx context.Context, addr string, cfg ClientConfig) (*Client, error) {
	if cfg.Key == nil || len(cfg.Key.PublicKey()) != signer.PublicKeyLen {
		return nil, errors.New("transport: client: a 65-byte Key is required")
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Verifier == nil {
		cfg.Verifier = signer.NewVerifier(signer.VerifierConfig{Clock: cfg.Clock})
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	cfg.DialTimeout = orDefault(cfg.DialTimeout, DefaultDialTimeout)
	cfg.WriteTimeout = orDefault(cfg.WriteTimeout, DefaultWriteTimeout)
	ctx, cancel := context.WithTimeout(ctx, cfg.DialTimeout)
	defer cancel()
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%w: dial %s: %w", ErrUnreachable, addr, err)
	}
	tc := tls.Client(raw, clientTLS(nil, alpnReceptor))
	if err := tc.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, fmt.Errorf("%w: handshake with %s: %w", ErrUnreachable, addr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		raw.SetDeadline(dl)
	}
	card, err := readReceptorCard(tc, cfg)
	if err != nil {
		raw.Close()
		return nil, err
	}
	raw.SetDeadline(time.Time{})
	c := &Client{cfg: cfg, raw: raw, tc: tc, card: card, bw: bufio.NewWriterSize(tc, 32<<10),
		done: make(chan struct{}), pending: make(map[signer.Digest]*pendingReq)}
	c.wg.Add(1)
	go c.readLoop()
	return c, nil
}

func readReceptorCard(tc *tls.Conn, cfg ClientConfig) (*NodeCard, error) {
	h, err := readHello(tc)
	if err != nil {
		return nil, err
	}
	if h.kind != helloAccept {
		return nil, fmt.Errorf("%w: receptor sent kind %q", ErrBadHello, h.kind)
	}
	card, err := DecodeCard(h.card)
	if err != nil {
		return nil, err
	}
	if err := card.Verify(cfg.Clock()); err != nil {
		return nil, err
	}
	kh, err := peerKeyHash(tc.ConnectionState())
	if err != nil {
		return nil, err
	}
	if kh != card.TLSKeyHash {
		return nil, fmt.Errorf("%w: card is not bound to the receptor's certificate", ErrBadCard)
	}
	if cfg.Expect != "" && card.ID() != cfg.Expect {
		return nil, fmt.Errorf("%w: receptor is %s, want %s", ErrBadCard, card.ID().Short(), cfg.Expect.Short())
	}
	return card, nil
}

// Card returns the receptor's verified node card.
func (c *Client) Card() NodeCard { return *c.card }

// NodeID returns the receptor's node ID.
func (c *Client) NodeID() NodeID { return c.card.ID() }

// Counters returns the client's counters (responses accepted, rejected by
// reason, unsolicited, ...).
func (c *Client) Counters() map[string]uint64 { return c.count.snapshot() }

// Request sends a signed request (cell, type, recipient = the node's ID)
// and waits for the response until ctx ends. The response must verify
// against the node key with inReplyTo = the request's digest; otherwise the
// error wraps ErrBadResponse. An error response is a *RemoteError.
func (c *Client) Request(ctx context.Context, cell, typ string, body []byte) ([]byte, error) {
	return c.RequestHashed(ctx, cell, typ, body, sha256.Sum256(body))
}

// RequestHashed is Request for a body whose SHA-256 the caller already
// has (a content-addressed blob is its own hash): it saves hashing the body
// a second time. A wrong sum is refused by the node (body-hash).
func (c *Client) RequestHashed(ctx context.Context, cell, typ string, body []byte, sum signer.Digest) ([]byte, error) {
	env := &signer.Envelope{Cell: cell, Type: typ, Recipient: string(c.card.ID()), Timestamp: c.cfg.Clock().UnixMilli()}
	if err := signer.SignBodyHash(c.cfg.Key, env, sum, nil); err != nil {
		return nil, fmt.Errorf("transport: sign: %w", err)
	}
	d, _ := env.Digest()
	p := &pendingReq{peer: c.card.ID(), peerKey: c.card.NodeKey, ch: make(chan result, 1)}
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return nil, err
	}
	c.pending[d] = p
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, d)
		c.mu.Unlock()
	}()
	if err := c.write(env, body); err != nil {
		return nil, err
	}
	select {
	case r := <-p.ch:
		return r.body, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("transport: waiting for %s: %w", p.peer.Short(), ctx.Err())
	case <-c.done:
		select {
		case r := <-p.ch:
			return r.body, r.err
		default:
		}
		return nil, c.closedErr()
	}
}

func (c *Client) write(env *signer.Envelope, body []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.raw.SetWriteDeadline(time.Now().Add(c.cfg.WriteTimeout))
	err := signer.WriteMessage(c.bw, env, bytes.NewReader(body), int64(len(body)))
	if err == nil {
		err = c.bw.Flush()
	}
	if err != nil {
		c.shut(fmt.Errorf("%w: write: %w", ErrUnreachable, err))
		return c.closedErr()
	}
	c.count.add(CountSent)
	return nil
}

func (c *Client) readLoop() {
	defer c.wg.Done()
	br := bufio.NewReaderSize(c.tc, 32<<10)
	for {
		env, bodyR, err := signer.ReadMessage(br, math.MaxInt64)
		if err == nil && bodyR.Len() > c.cfg.MaxBody {
			err = fmt.Errorf("%w: response body of %d bytes, limit %d", signer.ErrTooLarge, bodyR.Len(), c.cfg.MaxBody)
		}
		var body []byte
		if err == nil {
			body = make([]byte, bodyR.Len())
			_, err = io.ReadFull(bodyR, body)
		}
		if err != nil {
			if code := signer.ErrorCode(err); code != "internal" {
				c.count.reject("", err)
			}
			c.shut(fmt.Errorf("%w: connection to receptor: %w", ErrUnreachable, err))
			return
		}
		sum, _ := bodyR.Sum()
		c.mu.Lock()
		p := c.pending[env.InReplyTo]
		delete(c.pending, env.InReplyTo)
		c.mu.Unlock()
		if p == nil {
			c.count.add(CountUnsolicited)
			continue
		}
		verr := c.cfg.Verifier.VerifyBodyHash(env, sum, signer.Expect{
			Recipients: []string{string(IDOf(c.cfg.Key.PublicKey()))}, Sender: c.card.NodeKey[:], InReplyTo: env.InReplyTo})
		p.put(responseResult(&c.count, p.peer, env, body, verr))
	}
}

// shut ends the connection and fails every waiting request.
func (c *Client) shut(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return
	}
	c.err = err
	close(c.done)
	c.raw.Close()
	for d, p := range c.pending {
		p.fail(err)
		delete(c.pending, d)
	}
}

func (c *Client) closedErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Close closes the connection and waits for the reader.
func (c *Client) Close() error {
	c.shut(ErrClosed)
	c.wg.Wait()
	return nil
}
