package transport

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"

	"github.com/borgios/borghui/signer"
)

// path is how an inbound message reached this node, and so how to answer.
type path struct {
	c      *conn                     // the connection it arrived on
	sender [signer.PublicKeyLen]byte // who is answerable for it (see Request.From)
	relay  bool                      // it came inside a relay.deliver on c (c.peer is the relay)
}

// Send sends a one-way message (a signed envelope of type typ addressed to
// to.ID). It returns once the frame is written (for a relayed peer: once the
// relay has written it towards the target). A dial or write failure is
// reported to OnUnreachable.
func (t *Transport) Send(ctx context.Context, to Peer, typ string, body []byte) error {
	env, err := t.outgoing(to, typ, body)
	if err != nil {
		return err
	}
	_, err = t.deliver(ctx, to, env, body, nil)
	return err
}

// Request sends a request and waits for its response, correlated by the
// response's inReplyTo = the request's digest, until ctx ends. The response
// is verified with Expect{Sender: to's key, InReplyTo: digest}; a response
// that does not verify is an error wrapping ErrBadResponse, an error
// response is a *RemoteError (errors.Is(err, ErrRemote)).
func (t *Transport) Request(ctx context.Context, to Peer, typ string, body []byte) ([]byte, error) {
	return t.RequestHashed(ctx, to, typ, body, sha256.Sum256(body))
}

// RequestHashed is Request for a body whose SHA-256 the caller already has
// (one large body sent to several peers is hashed once). A wrong sum is
// refused by the peer (body-hash).
func (t *Transport) RequestHashed(ctx context.Context, to Peer, typ string, body []byte, sum signer.Digest) ([]byte, error) {
	env, err := t.outgoingHashed(to, typ, body, sum)
	if err != nil {
		return nil, err
	}
	b, _, err := t.roundTrip(ctx, to, env, body, nil)
	return b, err
}

// outgoing checks and signs a message of the node's cell for to.
func (t *Transport) outgoing(to Peer, typ string, body []byte) (*signer.Envelope, error) {
	return t.outgoingHashed(to, typ, body, sha256.Sum256(body))
}

// outgoingHashed is outgoing for a body hashed by the caller.
func (t *Transport) outgoingHashed(to Peer, typ string, body []byte, sum signer.Digest) (*signer.Envelope, error) {
	if t.isClosed() {
		return nil, ErrClosed
	}
	if reservedType(typ) {
		return nil, fmt.Errorf("transport: type %q is reserved", typ)
	}
	if _, err := to.ID.Key(); err != nil {
		return nil, err
	}
	if int64(len(body)) > t.cfg.MaxBody {
		return nil, fmt.Errorf("transport: %w: body of %d bytes, limit %d", signer.ErrTooLarge, len(body), t.cfg.MaxBody)
	}
	env := t.newEnvelope(t.cfg.Cell, typ, string(to.ID), signer.Digest{})
	if err := signer.SignBodyHash(t.cfg.Key, env, sum, nil); err != nil {
		return nil, fmt.Errorf("transport: sign: %w", err)
	}
	return env, nil
}

// roundTrip delivers a signed request and waits for the answer. It returns
// the connection the request went out on; prep (optional) runs on that
// connection before the request is written.
func (t *Transport) roundTrip(ctx context.Context, to Peer, env *signer.Envelope, body []byte, prep func(*conn)) ([]byte, *conn, error) {
	key, err := to.ID.Key()
	if err != nil {
		return nil, nil, err
	}
	d, err := env.Digest()
	if err != nil {
		return nil, nil, fmt.Errorf("transport: %w", err)
	}
	p := &pendingReq{peer: to.ID, peerKey: key, ch: make(chan result, 1)}
	t.addPending(d, p)
	defer t.dropPending(d, p)
	c, err := t.deliver(ctx, to, env, body, func(c *conn) {
		if prep != nil {
			prep(c)
		}
		t.bindPending(d, p, c)
	})
	if err != nil {
		return nil, nil, err
	}
	b, err := t.wait(ctx, p)
	return b, c, err
}

// deliver writes a signed message to to: on the preferred open connection,
// through the relay named by to.Addr when there is none, else on a new
// connection. A write that fails on a reused connection (closed meanwhile)
// is retried once on a new one. prep (optional) runs on the connection
// before the write (to bind pending requests to it).
func (t *Transport) deliver(ctx context.Context, to Peer, env *signer.Envelope, body []byte, prep func(*conn)) (*conn, error) {
	if t.best(to.ID) == nil && strings.HasPrefix(to.Addr, RelayPrefix) {
		return t.sendViaRelay(ctx, NodeID(strings.TrimPrefix(to.Addr, RelayPrefix)), to, env, body, prep)
	}
	for attempt := 0; ; attempt++ {
		c, fresh, err := t.connTo(ctx, to)
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, ErrClosed) {
				t.count.add(CountSendFailed)
				t.unreachable(to.ID)
			}
			return nil, err
		}
		if prep != nil {
			prep(c)
		}
		err = c.write(ctx, env, body)
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, ErrUnreachable) || t.isClosed() {
			return nil, err
		}
		if fresh || attempt > 0 {
			t.count.add(CountSendFailed)
			t.unreachable(to.ID)
			return nil, err
		}
	}
}

// inbound handles a frame read from a node connection, or the inner frame
// of a relay.deliver (p.relay). Responses go to their waiting request;
// one-way messages are verified and handled in order on the caller's
// goroutine; requests are verified and handled on their own goroutine.
// release returns the body's bytes to the connection's budget once handled.
func (t *Transport) inbound(p path, env *signer.Envelope, body []byte, sum signer.Digest, release func()) {
	if !env.InReplyTo.IsZero() {
		t.handleResponse(p, env, body, sum)
		release()
		return
	}
	r, ok := t.route(env.Type)
	if ok && r.internal != nil && p.relay {
		ok = false // no relaying inside a relay frame
	}
	if ok && r.oneway {
		t.serve(p, env, body, sum, r)
		release()
		return
	}
	select {
	case p.c.inflight <- struct{}{}:
	case <-p.c.done:
		release()
		return
	}
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		defer func() { <-p.c.inflight }()
		defer release()
		if !ok {
			r = route{}
		}
		t.serve(p, env, body, sum, r)
	}()
}

// serve verifies a request or one-way message, runs its handler and, for a
// request, answers. r.h and r.internal are nil for an unknown type.
func (t *Transport) serve(p path, env *signer.Envelope, body []byte, sum signer.Digest, r route) {
	ctx, cancel := context.WithTimeout(t.ctx, t.cfg.HandlerTimeout)
	defer cancel()
	err := t.cfg.Verifier.VerifyBodyHash(env, sum, signer.Expect{
		Cell: t.cfg.Cell, Recipients: t.recipients(), Sender: p.sender[:]})
	if err != nil {
		t.count.reject("", err)
		if !r.oneway {
			t.replyError(ctx, p, env, signer.ErrorCode(err), err.Error())
		}
		return
	}
	t.count.add(CountAccepted)
	if r.h == nil && r.internal == nil {
		t.count.add(CountUnknownType)
		t.replyError(ctx, p, env, CodeUnknownType, fmt.Sprintf("no handler for %q", env.Type))
		return
	}
	req := &Request{From: IDOf(p.sender[:]), Env: env, Body: body}
	if p.relay {
		req.Via = p.c.peer
	}
	var resp []byte
	if r.internal != nil {
		resp, err = t.call(ctx, "", func(ctx context.Context, req *Request) ([]byte, error) { return r.internal(ctx, p, req) }, req)
	} else {
		resp, err = t.call(ctx, "", r.h, req)
	}
	if r.oneway {
		return
	}
	if err != nil {
		code := CodeHandler
		var re *RemoteError
		if errors.As(err, &re) {
			code = re.Code
		}
		t.replyError(ctx, p, env, code, err.Error())
		return
	}
	t.reply(ctx, p, env, TypeResponse, resp)
}

// call runs a handler, turning a panic into an error.
func (t *Transport) call(ctx context.Context, prefix string, h Handler, req *Request) (resp []byte, err error) {
	defer func() {
		if v := recover(); v != nil {
			t.count.add(prefix + CountHandlerPan)
			t.cfg.Log.Error("transport: handler panicked", "type", req.Env.Type, "panic", v)
			resp, err = nil, &RemoteError{Code: CodeInternal, Message: "handler failed"}
		}
	}()
	resp, err = h(ctx, req)
	if err != nil {
		t.count.add(prefix + CountHandlerErr)
	}
	return resp, err
}

// reply signs and sends a response to req along p.
func (t *Transport) reply(ctx context.Context, p path, req *signer.Envelope, typ string, body []byte) {
	if int64(len(body)) > t.cfg.MaxBody {
		t.replyError(ctx, p, req, "too-large", "response body over the limit")
		return
	}
	d, err := req.Digest()
	if err != nil {
		return
	}
	env := t.newEnvelope(req.Cell, typ, string(IDOf(req.Sender[:])), d)
	if err := t.sign(env, body); err != nil {
		t.cfg.Log.Error("transport: sign response", "err", err)
		return
	}
	if p.relay {
		_, err = t.sendViaRelay(ctx, p.c.peer, Peer{ID: IDOf(p.sender[:])}, env, body, nil)
	} else {
		err = p.c.write(ctx, env, body)
	}
	if err != nil {
		t.cfg.Log.Debug("transport: response not sent", "err", err)
	}
}

func (t *Transport) replyError(ctx context.Context, p path, req *signer.Envelope, code, msg string) {
	t.count.add(p.c.prefix + CountErrorSent)
	t.reply(ctx, p, req, TypeError, EncodeErrorBody(code, msg))
}

// handleResponse passes a response to the request waiting for it. A
// response nobody waits for (or from the wrong node) is counted and dropped.
func (t *Transport) handleResponse(p path, env *signer.Envelope, body []byte, sum signer.Digest) {
	w := t.takePending(env.InReplyTo, p.sender)
	if w == nil {
		t.count.add(CountUnsolicited)
		return
	}
	err := t.cfg.Verifier.VerifyBodyHash(env, sum, signer.Expect{
		Cell: t.cfg.Cell, Recipients: []string{string(t.self)}, Sender: w.peerKey[:], InReplyTo: env.InReplyTo})
	w.put(responseResult(&t.count, w.peer, env, body, err))
}

// failResponse fails the request a broken response frame answers.
func (t *Transport) failResponse(p path, env *signer.Envelope, err error) {
	if w := t.takePending(env.InReplyTo, p.sender); w != nil {
		t.count.add(CountRespBad)
		w.fail(fmt.Errorf("%w from %s: %w", ErrBadResponse, w.peer.Short(), err))
	}
}

// responseResult turns a verified (verr == nil) or failed response into the
// result of its request.
func responseResult(cnt *counters, peer NodeID, env *signer.Envelope, body []byte, verr error) result {
	if verr != nil {
		cnt.reject("", verr)
		cnt.add(CountRespBad)
		return result{err: fmt.Errorf("%w from %s: %w", ErrBadResponse, peer.Short(), verr)}
	}
	switch env.Type {
	case TypeResponse:
		cnt.add(CountAccepted)
		return result{body: body}
	case TypeError:
		cnt.add(CountAccepted)
		cnt.add(CountRespError)
		re, err := DecodeErrorBody(body)
		if err != nil {
			cnt.add(CountRespBad)
			return result{err: fmt.Errorf("%w from %s: %w", ErrBadResponse, peer.Short(), err)}
		}
		return result{err: re}
	}
	cnt.add(CountRespBad)
	return result{err: fmt.Errorf("%w from %s: response type %q", ErrBadResponse, peer.Short(), env.Type)}
}

func bodySum(b []byte) signer.Digest { return sha256.Sum256(b) }
