package peer

import (
	"bytes"
	"context"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/borgios/borghui/peer/bulk"
	"github.com/borgios/borghui/peer/transport"
	"github.com/borgios/borghui/peer/tree"
)

// The node's own request types, beside the tree's.
const (
	// TypeEcho answers with the request body: round-trip measurements.
	TypeEcho = "node.echo"
	// TypeProbeAck is sent one-way to the origin of a probe broadcast by
	// every node that delivers it: broadcast-latency measurements.
	TypeProbeAck = "node.probeack"
	// BulkStream is the stream purpose of bulk transfers to this node.
	BulkStream = "bulk"
)

// probePrefix marks a probe broadcast: "probe:" + the origin's net address.
const probePrefix = "probe:"

func (c *Cell) registerBuiltins() error {
	if err := c.tr.Handle(TypeEcho, func(_ context.Context, r *transport.Request) ([]byte, error) {
		return r.Body, nil
	}); err != nil {
		return err
	}
	if err := c.tr.HandleMessage(TypeProbeAck, func(_ context.Context, r *transport.Request) ([]byte, error) {
		c.mu.Lock()
		h := c.onProbeAck
		c.mu.Unlock()
		if h != nil {
			h(tree.NodeID(r.From), string(r.Body))
		}
		return nil, nil
	}); err != nil {
		return err
	}
	if dir := c.node.cfg.BulkDir; dir != "" {
		recv := &bulk.Receiver{Dir: filepath.Join(dir, c.dna.Name)}
		return c.tr.HandleStream(BulkStream, func(_ transport.NodeID, conn net.Conn) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
			defer cancel()
			if err := recv.Serve(ctx, conn); err != nil {
				c.log.Warn("bulk transfer ended", "err", err)
			}
		})
	}
	return nil
}

// ProbePayload is the payload of a probe broadcast from this cell: every
// node delivering it acknowledges straight to us with TypeProbeAck.
func (c *Cell) ProbePayload(tag string) []byte {
	return []byte(probePrefix + c.tr.Addr() + " " + tag)
}

// OnProbeAck registers the function told of each probe acknowledgement
// (from node, broadcast tag).
func (c *Cell) OnProbeAck(f func(from tree.NodeID, tag string)) {
	c.mu.Lock()
	c.onProbeAck = f
	c.mu.Unlock()
}

func (c *Cell) answerProbe(d tree.Deliver) {
	rest, ok := bytes.CutPrefix(d.Payload, []byte(probePrefix))
	if !ok {
		return
	}
	addr, tag, _ := strings.Cut(string(rest), " ")
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = c.tr.Send(ctx, transport.Peer{ID: transport.NodeID(d.Origin), Addr: addr}, TypeProbeAck, []byte(tag))
	}()
}

// Deliveries returns how many times each broadcast id was delivered here.
func (c *Cell) Deliveries() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.deliveries))
	for k, v := range c.deliveries {
		out[k] = v
	}
	return out
}
