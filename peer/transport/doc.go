// Package transport carries BorgIOS v1 messages between nodes: TLS 1.3
// bound to the node key by a signed node card, persistent framed
// connections of signer messages, request/response correlation, a relay for
// nodes without a listener, named raw streams for peer/bulk, and the
// receptor (the client API of a cell, protocol item 10) with its Client.
//
// # Threat model: what is authenticated by what
//
//   - Node identity is a secp256k1 key (signer.Key); NodeID is the lowercase
//     hex of its 65-byte public key.
//   - A NodeCard, signed by the node key over CardDomain
//     ("BorgIOS/v1/nodecard\n") + canonical JSON, binds the node key to the
//     SHA-256 of its TLS certificate's SubjectPublicKeyInfo, its addresses
//     and cells, for a limited time (Issued..Expires, network time).
//   - TLS: 1.3 only, mutual on the node channel (the listener requires a
//     client certificate), self-signed ECDSA P-256 certificates. The
//     tls.Config sets InsecureSkipVerify because there is no CA to check:
//     the trust anchor is the card, not a certificate chain, name or date.
//     VerifyPeerCertificate still requires exactly one P-256 or Ed25519
//     certificate and VerifyConnection requires TLS 1.3 and the ALPN
//     ("borgios-node/1" for nodes, "borgios-recp/1" for the receptor). The
//     handshake proves possession of the certificate key; the card, checked
//     right after the handshake (signature, validity, TLSKeyHash == hash of
//     the presented certificate's SPKI and, when dialling, node key == the
//     expected peer), proves the node key vouches for that certificate key.
//     Only then is the connection registered; nothing is read from it before.
//   - The authenticated peer of a node connection is its card's node key.
//     Every inbound message is verified by the one signer.Verifier (network
//     clock, freshness window, replay cache) with Expect{Cell: Config.Cell,
//     Recipients: [own NodeID, registered tree IDs], Sender: the
//     connection's key}: the sender of a message is taken from the
//     connection, never from a payload field. A response is verified with
//     Expect{Sender: the key of the node asked, InReplyTo: the request's
//     digest} and must arrive from that node (or from the relay naming it).
//   - Relay: the relay is authenticated by its connection (outer envelope
//     Sender = the connection's key); the inner message by its own
//     signature: the target verifies the inner envelope with Expect.Sender
//     = the origin the relay names, which must also be the inner envelope's
//     sender. The relay itself checks that the inner sender is the node that
//     forwarded it (a node cannot inject others' messages), forwards only to
//     nodes that registered with it (relay.register) or that themselves
//     forwarded through it on that connection (the way back for replies),
//     and never reads or verifies the inner message beyond its form. A
//     node accepts relay.deliver only on connections to a relay it
//     registered with or forwarded through. No relaying inside relay frames.
//     A relay can drop or delay relayed messages, never forge or alter them.
//   - Receptor: clients have no card and no client certificate. A client
//     request's identity is its own envelope key (Expect.Sender empty);
//     same verifier, same window, same replay cache. Responses are signed
//     by the node key; the Client verifies them against the node key of
//     the card the receptor presented (and that the caller expected).
//   - Bad input never hurts: every failure is counted (Counters), answered
//     with an error response when the message is a request, and changes
//     nothing. A connection is closed only when its framing is broken
//     (malformed or truncated frame, body over MaxBody: answered with
//     too-large first, the body never read). Handlers' panics are recovered.
//
// # Wire layout
//
// Connection preamble (after the TLS handshake; integers big-endian):
//
//	"BGT1" | kind (1) | purpose length P (1) | purpose (P) | card length C (2) | card JSON (C)
//
// The dialler sends kind 'M' (message channel, P = 0) or 'S' (named stream,
// purpose = [a-z0-9._-]{1,64}) with its card; the listener checks it and
// answers 'A' with its own card, or 'X' with a reason code ("bad-card",
// "bad-hello", "unknown-stream") and no card, then closes. The receptor
// sends 'A' with its card unasked; its clients send no preamble. Card
// JSON ≤ MaxCardBytes (4096).
//
// After the preamble a message channel carries signer frames in both
// directions ("BGE1" | uint32 L | envelope JSON | uint64 N | body, see
// docs/protocol.md §4), body ≤ MaxBody (default 4 MiB), one connection per
// peer pair reused for everything. Either side sends requests; a response
// has inReplyTo = the request's digest, type "transport.response" (body:
// the handler's bytes) or "transport.error" (body below), recipient = the
// requester's NodeID, cell = the request's cell. A stream carries raw bytes.
//
// Error body (≤ 1024 bytes):
//
//	{"code":"<[a-z0-9-]{1,32}>","error":"<text, ≤ 512 bytes>"}
//
// codes: the signer codes (malformed, too-large, unexpected, stale,
// bad-signature, body-hash, replay, busy), unknown-type, handler,
// internal, unreachable, or a handler's own (*RemoteError).
//
// Relay body (of relay.forward and relay.deliver envelopes):
//
//	node key (65 bytes) | inner signer frame
//
// relay.forward (request, node → relay, key = target, acknowledged by an
// empty response once written towards the target, or an error
// "unreachable"); relay.deliver (one-way, relay → target, key = origin);
// relay.register (request, NAT'ed node → relay, empty body).
//
// # Connections
//
// Requests are multiplexed on the connection (a write lock serialises
// frames; the reader dispatches). Request handlers run concurrently (at
// most MaxInflight per connection, bodies within MaxInflightBytes);
// one-way handlers (HandleMessage) run in arrival order on the reader.
// When both ends dialled, both keep using the connection dialled by the
// lower NodeID. Connections are dialled on demand, closed after
// IdleTimeout without traffic (not relay links), and TCP keep-alive
// detects dead peers and keeps NAT mappings open. OnUnreachable reports a
// failed dial or write, a broken connection, or one lost with requests in
// flight. Close stops every goroutine of the transport.
package transport
