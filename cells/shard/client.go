package shard

import (
	"context"
	"fmt"

	"github.com/borgios/borghui/peer/transport"
	"github.com/borgios/borghui/signer"
)

// Caller makes one request of the shard cell on one node and returns the
// verified response body. A failover layer can stand in for it.
type Caller interface {
	Call(ctx context.Context, typ string, body []byte) ([]byte, error)
}

// A HashedCaller can also send a body whose SHA-256 the caller already
// knows, so a blob is not hashed again to sign it (a put's body is the
// blob, and its hash is the shard's ID).
type HashedCaller interface {
	Caller
	CallHashed(ctx context.Context, typ string, body []byte, sum ID) ([]byte, error)
}

// ReceptorCaller calls a node's receptor over a transport.Client (every
// response is verified against the node's key by the client).
type ReceptorCaller struct{ C *transport.Client }

// Call sends a signed request of type typ to the shard cell.
func (r ReceptorCaller) Call(ctx context.Context, typ string, body []byte) ([]byte, error) {
	return r.C.Request(ctx, CellName, typ, body)
}

// CallHashed is Call for a body whose SHA-256 is sum.
func (r ReceptorCaller) CallHashed(ctx context.Context, typ string, body []byte, sum ID) ([]byte, error) {
	return r.C.RequestHashed(ctx, CellName, typ, body, signer.Digest(sum))
}

// Client is the typed client of one shard cell node.
type Client struct{ c Caller }

// NewClient returns a client calling through c.
func NewClient(c Caller) *Client { return &Client{c: c} }

func (c *Client) call(ctx context.Context, typ string, body []byte) ([]byte, error) {
	b, err := c.c.Call(ctx, typ, body)
	if err != nil {
		return nil, fromRemote(typ, err)
	}
	return b, nil
}

// callHashed is call for a body whose SHA-256 is sum.
func (c *Client) callHashed(ctx context.Context, typ string, body []byte, sum ID) ([]byte, error) {
	hc, ok := c.c.(HashedCaller)
	if !ok {
		return c.call(ctx, typ, body)
	}
	b, err := hc.CallHashed(ctx, typ, body, sum)
	if err != nil {
		return nil, fromRemote(typ, err)
	}
	return b, nil
}

// Put stores blob (the caller's ciphertext) under its SHA-256, referenced
// by the caller's key. The node replicates it towards the target; the reply
// says how many copies it confirmed. Fewer than the target is not an
// error here (Network.Put reports it).
func (c *Client) Put(ctx context.Context, blob []byte) (PutReply, error) {
	return c.PutSum(ctx, Sum(blob), blob)
}

// PutSum is Put for a blob whose ID (SHA-256) the caller already computed.
// The body of a put is the blob itself, so the node learns the ID from the
// envelope's body hash, which the transport has verified: a wrong id is
// refused there.
func (c *Client) PutSum(ctx context.Context, id ID, blob []byte) (PutReply, error) {
	if len(blob) > MaxBlob {
		return PutReply{}, fmt.Errorf("%w: blob of %d bytes, limit %d", ErrTooLarge, len(blob), MaxBlob)
	}
	b, err := c.callHashed(ctx, TypePut, blob, id)
	if err != nil {
		return PutReply{}, err
	}
	r, err := DecodePutReply(b, id)
	if err == nil && r.Size != int64(len(blob)) {
		err = fmt.Errorf("%w: put answer size %d for %d bytes", ErrMalformed, r.Size, len(blob))
	}
	return r, err
}

// PutOne stores one copy of blob (whose SHA-256 is id) on this node only:
// no replication. For shards the client places itself (erasure coding).
func (c *Client) PutOne(ctx context.Context, id ID, blob []byte) (PutReply, error) {
	if len(blob) > MaxBlob {
		return PutReply{}, fmt.Errorf("%w: blob of %d bytes, limit %d", ErrTooLarge, len(blob), MaxBlob)
	}
	b, err := c.callHashed(ctx, TypePutOne, blob, id)
	if err != nil {
		return PutReply{}, err
	}
	r, err := DecodePutReply(b, id)
	if err == nil && r.Size != int64(len(blob)) {
		err = fmt.Errorf("%w: put answer size %d for %d bytes", ErrMalformed, r.Size, len(blob))
	}
	return r, err
}

// Get fetches the blob with id; its bytes are checked against id here too.
func (c *Client) Get(ctx context.Context, id ID) (GetHeader, []byte, error) {
	b, err := c.call(ctx, TypeGet, mustJSON(IDRequest{ID: id}))
	if err != nil {
		return GetHeader{}, nil, err
	}
	return DecodeGetReply(b, id)
}

// Has returns which of ids (1..MaxBatch) the node holds.
func (c *Client) Has(ctx context.Context, ids []ID) ([]ID, error) {
	if len(ids) == 0 || len(ids) > MaxBatch {
		return nil, fmt.Errorf("%w: %d ids, want 1..%d", ErrMalformed, len(ids), MaxBatch)
	}
	b, err := c.call(ctx, TypeHas, mustJSON(HasRequest{IDs: ids}))
	if err != nil {
		return nil, err
	}
	return DecodeHasReply(b, ids)
}

// Delete removes the caller's reference to the shard on this node; a
// caller that holds none gets ErrNotOwner and nothing changes. The reply
// names the other holders, where the reference must go too.
func (c *Client) Delete(ctx context.Context, id ID) (DeleteReply, error) {
	b, err := c.call(ctx, TypeDelete, mustJSON(IDRequest{ID: id}))
	if err != nil {
		return DeleteReply{}, err
	}
	return DecodeDeleteReply(b, id)
}

// Repair asks a node holding a good copy to restore the target number of
// copies on the shard's rendezvous nodes.
func (c *Client) Repair(ctx context.Context, id ID) (RepairReply, error) {
	b, err := c.call(ctx, TypeRepair, mustJSON(IDRequest{ID: id}))
	if err != nil {
		return RepairReply{}, err
	}
	return DecodeRepairReply(b, id)
}

// Members asks the node for the members it knows (receptor addresses).
func (c *Client) Members(ctx context.Context) (MembersReply, error) {
	b, err := c.call(ctx, TypeMembers, nil)
	if err != nil {
		return MembersReply{}, err
	}
	return DecodeMembersReply(b)
}
