package transport

import (
	"context"
	"fmt"
)

// Identify connects to the node listening at addr, whoever it is, and
// returns its node ID. The handshake proves the key: the node's card must be
// signed by it and bound to the certificate it presented. This is how a
// contact known only by an address (a --join flag, a portal list without
// keys) becomes a peer; the connection stays open for the messages that
// follow.
func (t *Transport) Identify(ctx context.Context, addr string) (NodeID, error) {
	if addr == "" {
		return "", fmt.Errorf("%w: no address to identify", ErrNoRoute)
	}
	type result struct {
		c   *conn
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := t.dialNode("", addr)
		done <- result{c, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return "", r.err
		}
		return r.c.peer, nil
	case <-ctx.Done():
		return "", fmt.Errorf("transport: identify %s: %w", addr, ctx.Err())
	}
}
