package transport

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/borgios/borghui/signer"
)

// Defaults of a Config.
const (
	DefaultMaxBody         = 4 << 20
	DefaultCardTTL         = 24 * time.Hour
	DefaultDialTimeout     = 10 * time.Second
	DefaultIdleTimeout     = 2 * time.Minute
	DefaultKeepAlive       = 15 * time.Second
	DefaultWriteTimeout    = 30 * time.Second
	DefaultHandlerTimeout  = 30 * time.Second
	DefaultMaxConns        = 1024
	DefaultMaxInflight     = 256
	DefaultMaxRelayClients = 64
)

// Config configures a Transport. Zero fields take the defaults.
type Config struct {
	// Key is the node identity (required). It signs the node card and every
	// message; the node ID is the hex of its public key.
	Key signer.Key
	// Cell is the cell type this transport serves, e.g. "shardTreeCell"
	// (required). Every node message must name it.
	Cell string
	// Cells are the cells listed in the node card; default []string{Cell}.
	Cells []string
	// ListenAddr is the netPort listen address, e.g. "127.0.0.1:13350".
	// "" means no listener: a NAT'ed node that reaches others by dialling
	// and is reached through a relay (SetRelay).
	ListenAddr string
	// AdvertiseAddrs are the addresses written into the node card; default:
	// the listener's actual address (none without a listener).
	AdvertiseAddrs []string
	// ReceptorAddr is the recpPort listen address of the client API; ""
	// means no receptor.
	ReceptorAddr string
	// Certificate is the TLS certificate; default: a fresh self-signed
	// ECDSA P-256 certificate (NewCertificate).
	Certificate *tls.Certificate
	// Clock is network time (the cronoTree-corrected clock) for envelope
	// timestamps, the verifier and card validity; default time.Now.
	Clock func() time.Time
	// Verifier verifies every inbound message; default: a new one on Clock
	// with Window. Pass one to share its replay cache with other layers.
	Verifier *signer.Verifier
	// Window is the freshness window of the default verifier.
	Window time.Duration
	// MaxBody bounds the body of a node message (default 4 MiB); a larger
	// body is refused before it is read.
	MaxBody int64
	// MaxReceptorBody bounds the body of a client request; default MaxBody.
	MaxReceptorBody int64
	// CardTTL is the validity of the node card; it is re-signed when less
	// than half of it is left. Default 24 h, at most MaxCardTTL.
	CardTTL time.Duration
	// DialTimeout bounds a dial, its TLS handshake and the preamble (also
	// for inbound connections). Default 10 s.
	DialTimeout time.Duration
	// IdleTimeout closes a connection that carried no message for this long
	// and has no request or handler in flight (connections to and from a
	// relay are kept). Default 2 min; negative disables.
	IdleTimeout time.Duration
	// KeepAlive is the TCP keep-alive idle time (probes every KeepAlive/3,
	// 3 probes): it detects dead peers and keeps NAT mappings open.
	// Default 15 s; negative disables.
	KeepAlive time.Duration
	// WriteTimeout bounds writing one message. Default 30 s.
	WriteTimeout time.Duration
	// HandlerTimeout bounds the context of a handler. Default 30 s.
	HandlerTimeout time.Duration
	// MaxConns bounds open connections (node, receptor and streams).
	// Default 1024.
	MaxConns int
	// MaxInflight bounds concurrent request handlers per connection; the
	// reader waits when it is reached. Default 256.
	MaxInflight int
	// MaxInflightBytes bounds the bodies a connection has read and not yet
	// handled; the reader waits when it is reached. Default 4 × MaxBody.
	MaxInflightBytes int64
	// Relay makes this node forward messages for NAT'ed peers that register
	// with it. Default: on when the node has a listener.
	Relay *bool
	// MaxRelayClients bounds registered NAT'ed peers. Default 64.
	MaxRelayClients int
	// Resolve returns the netPort address of a node the transport has no
	// address for (e.g. from the tree's member list); optional.
	Resolve func(NodeID) (addr string, ok bool)
	// OnUnreachable is called when a peer becomes unreachable: a dial or a
	// write failed, or its connection broke (not a clean close) or closed
	// with requests in flight. It is called on the transport's goroutines
	// and must not block.
	OnUnreachable func(NodeID)
	// Log receives connection events; default: discard.
	Log *slog.Logger
}

func (c *Config) setDefaults() error {
	if c.Key == nil {
		return errors.New("transport: config: Key is required")
	}
	if len(c.Key.PublicKey()) != signer.PublicKeyLen {
		return errors.New("transport: config: Key is not a 65-byte uncompressed key")
	}
	if !validName(c.Cell, MaxCellLen, textByte) {
		return fmt.Errorf("transport: config: Cell %q is not 1..%d bytes of [A-Za-z0-9._:-]", c.Cell, MaxCellLen)
	}
	if len(c.Cells) == 0 {
		c.Cells = []string{c.Cell}
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Verifier == nil {
		c.Verifier = signer.NewVerifier(signer.VerifierConfig{Clock: c.Clock, Window: c.Window})
	}
	if c.MaxBody <= 0 {
		c.MaxBody = DefaultMaxBody
	}
	if c.MaxReceptorBody <= 0 {
		c.MaxReceptorBody = c.MaxBody
	}
	if c.CardTTL <= 0 {
		c.CardTTL = DefaultCardTTL
	}
	c.CardTTL = min(c.CardTTL, MaxCardTTL)
	c.DialTimeout = orDefault(c.DialTimeout, DefaultDialTimeout)
	c.IdleTimeout = orDefault(c.IdleTimeout, DefaultIdleTimeout)
	c.KeepAlive = orDefault(c.KeepAlive, DefaultKeepAlive)
	c.WriteTimeout = orDefault(c.WriteTimeout, DefaultWriteTimeout)
	c.HandlerTimeout = orDefault(c.HandlerTimeout, DefaultHandlerTimeout)
	if c.MaxConns <= 0 {
		c.MaxConns = DefaultMaxConns
	}
	if c.MaxInflight <= 0 {
		c.MaxInflight = DefaultMaxInflight
	}
	if c.MaxInflightBytes <= 0 {
		c.MaxInflightBytes = 4 * max(c.MaxBody, c.MaxReceptorBody)
	}
	if c.MaxRelayClients <= 0 {
		c.MaxRelayClients = DefaultMaxRelayClients
	}
	if c.Relay == nil {
		on := c.ListenAddr != ""
		c.Relay = &on
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Certificate == nil {
		cert, err := NewCertificate()
		if err != nil {
			return err
		}
		c.Certificate = &cert
	}
	return nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}
