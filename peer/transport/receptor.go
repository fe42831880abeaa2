package transport

import (
	"context"
	"fmt"
	"slices"

	"github.com/borgios/borghui/signer"
)

// inboundReceptor handles a client request read from a receptor
// connection. Clients have no node card: the identity of a request is its
// own envelope key (Expect.Sender empty), and the same verifier (one replay
// cache, one window) checks it as any node message.
func (t *Transport) inboundReceptor(c *conn, env *signer.Envelope, body []byte, sum signer.Digest, release func()) {
	select {
	case c.inflight <- struct{}{}:
	case <-c.done:
		release()
		return
	}
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		defer func() { <-c.inflight }()
		defer release()
		t.serveReceptor(c, env, body, sum)
	}()
}

func (t *Transport) serveReceptor(c *conn, env *signer.Envelope, body []byte, sum signer.Digest) {
	const prefix = "receptor."
	ctx, cancel := context.WithTimeout(t.ctx, t.cfg.HandlerTimeout)
	defer cancel()
	p := path{c: c, sender: env.Sender}
	want := signer.Expect{Cell: env.Cell, Recipients: t.recipients()}
	if !slices.Contains(t.cfg.Cells, env.Cell) {
		want.Cell = t.cfg.Cell // fails the check: the node does not run that cell
	}
	if err := t.cfg.Verifier.VerifyBodyHash(env, sum, want); err != nil {
		t.count.reject(prefix, err)
		t.replyError(ctx, p, env, signer.ErrorCode(err), err.Error())
		return
	}
	t.count.add(prefix + CountAccepted)
	if env.Type == TypeReceptorCard {
		_, b, err := t.currentCard()
		if err != nil {
			t.replyError(ctx, p, env, CodeInternal, "no card")
			return
		}
		t.reply(ctx, p, env, TypeResponse, b)
		return
	}
	t.rmu.RLock()
	h := t.recpRoutes[env.Cell+" "+env.Type]
	t.rmu.RUnlock()
	if h == nil {
		t.count.add(prefix + CountUnknownType)
		t.replyError(ctx, p, env, CodeUnknownType, fmt.Sprintf("no handler for %q in %q", env.Type, env.Cell))
		return
	}
	resp, err := t.call(ctx, prefix, h, &Request{From: IDOf(env.Sender[:]), Env: env, Body: body})
	if err != nil {
		code := CodeHandler
		if re, ok := err.(*RemoteError); ok {
			code = re.Code
		}
		t.replyError(ctx, p, env, code, err.Error())
		return
	}
	t.reply(ctx, p, env, TypeResponse, resp)
}
