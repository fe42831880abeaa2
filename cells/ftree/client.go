package ftree

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/borgios/borghui/peer/transport"
	"github.com/borgios/borghui/signer"
)

// Caller sends one signed request of this cell and returns the verified
// response body. TransportCaller implements it over a receptor connection;
// the conduit may implement it over its failover endpoint lists.
type Caller interface {
	Call(ctx context.Context, typ string, body []byte) ([]byte, error)
}

// TransportCaller is a Caller over one *transport.Client.
type TransportCaller struct {
	C *transport.Client
}

// Call implements Caller.
func (t TransportCaller) Call(ctx context.Context, typ string, body []byte) ([]byte, error) {
	return t.C.Request(ctx, CellName, typ, body)
}

// Client makes typed calls to one ftree node. It verifies what it gets:
// every record and share in an answer must carry a valid signature and
// belong to the owner or recipient asked for.
type Client struct {
	c    Caller
	page int // shares asked per share.list; 0 means MaxPage
}

// NewClient returns a Client over c.
func NewClient(c Caller) *Client { return &Client{c: c} }

// call sends req and decodes the answer with dec; a coded refusal wraps
// the matching sentinel and the *transport.RemoteError.
func call[T any](ctx context.Context, c *Client, typ string, req message, dec func([]byte) (*T, error)) (*T, error) {
	body, err := Encode(req)
	if err != nil {
		return nil, err
	}
	resp, err := c.c.Call(ctx, typ, body)
	if err != nil {
		var re *transport.RemoteError
		if errors.As(err, &re) {
			if s := sentinelOf(re.Code); s != nil {
				return nil, fmt.Errorf("ftree: %s: %w: %w", typ, s, err)
			}
		}
		return nil, fmt.Errorf("ftree: %s: %w", typ, err)
	}
	out, err := dec(resp)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadResponse, typ, err)
	}
	return out, nil
}

func sentinelOf(code string) error {
	switch code {
	case CodeMalformed:
		return ErrMalformed
	case CodeSignature:
		return ErrBadSignature
	case CodeForbidden:
		return ErrForbidden
	case CodeNotFound:
		return ErrNotFound
	case CodeInboxFull:
		return ErrInboxFull
	}
	return nil
}

// checkRecord verifies a record from a node claims to be owner's.
func checkRecord(r *RootRecord, owner PubKey) error {
	if r.Owner != owner {
		return fmt.Errorf("%w: record of another owner", ErrBadResponse)
	}
	if err := r.Verify(); err != nil {
		return fmt.Errorf("%w: %w", ErrBadResponse, err)
	}
	return nil
}

// Root returns owner's current record on this node; ErrNotFound if none.
func (c *Client) Root(ctx context.Context, owner PubKey) (*RootRecord, error) {
	resp, err := call(ctx, c, TypeRootGet, &RootGetRequest{Owner: owner}, DecodeRootGetResponse)
	if err != nil {
		return nil, err
	}
	if resp.Record == nil {
		return nil, fmt.Errorf("%w: no root record for this owner", ErrNotFound)
	}
	if err := checkRecord(resp.Record, owner); err != nil {
		return nil, err
	}
	return resp.Record, nil
}

// PutRoot writes rec, which must be signed by the key that signs the
// requests. If the node's current record is not rec's predecessor, the
// error is a *ConflictError carrying the (verified) current record.
func (c *Client) PutRoot(ctx context.Context, rec *RootRecord) error {
	resp, err := call(ctx, c, TypeRootPut, &RootPutRequest{Record: rec}, DecodeRootPutResponse)
	if err != nil {
		return err
	}
	if resp.Status == StatusOK {
		return nil
	}
	if resp.Current != nil {
		if err := checkRecord(resp.Current, rec.Owner); err != nil {
			return err
		}
	}
	return &ConflictError{Current: resp.Current}
}

// History returns owner's records kept by the node, newest first.
func (c *Client) History(ctx context.Context, owner PubKey) ([]*RootRecord, error) {
	resp, err := call(ctx, c, TypeRootHistory, &RootHistoryRequest{Owner: owner}, DecodeRootHistoryResponse)
	if err != nil {
		return nil, err
	}
	for i, r := range resp.Records {
		if err := checkRecord(r, owner); err != nil {
			return nil, err
		}
		if i > 0 && r.Version >= resp.Records[i-1].Version {
			return nil, fmt.Errorf("%w: history is not newest first", ErrBadResponse)
		}
	}
	return resp.Records, nil
}

// PutShare stores s (signed by the key that signs the requests) in its
// recipient's inbox and returns its id.
func (c *Client) PutShare(ctx context.Context, s *Share) (Hash, error) {
	resp, err := call(ctx, c, TypeSharePut, &SharePutRequest{Share: s}, DecodeSharePutResponse)
	if err != nil {
		return Hash{}, err
	}
	if resp.ID != s.ID() {
		return Hash{}, fmt.Errorf("%w: the node stored another share id", ErrBadResponse)
	}
	return resp.ID, nil
}

// Share seals capability to recipient, signs the share with sharer (the
// key that signs the requests) and stores it.
func (c *Client) Share(ctx context.Context, sharer signer.Key, recipient []byte, capability *Capability) (Hash, error) {
	sealed, err := SealCapability(capability, recipient)
	if err != nil {
		return Hash{}, err
	}
	s, err := NewShare(sharer, recipient, sealed, time.Now())
	if err != nil {
		return Hash{}, err
	}
	return c.PutShare(ctx, s)
}

// Inbox lists every share addressed to me (the key that signs the
// requests, whose public key is me), following pages. Shares that do not
// verify are an ErrBadResponse.
func (c *Client) Inbox(ctx context.Context, me PubKey) ([]*Share, error) {
	var out []*Share
	var after Hash
	for {
		resp, err := call(ctx, c, TypeShareList, &ShareListRequest{After: after, Limit: c.page}, DecodeShareListResponse)
		if err != nil {
			return nil, err
		}
		for _, s := range resp.Shares {
			if id := s.ID(); string(id[:]) <= string(after[:]) {
				return nil, fmt.Errorf("%w: inbox page out of order", ErrBadResponse)
			}
			after = s.ID()
			if s.Recipient != me {
				return nil, fmt.Errorf("%w: share addressed to another key", ErrBadResponse)
			}
			if err := s.Verify(); err != nil {
				return nil, fmt.Errorf("%w: %w", ErrBadResponse, err)
			}
			out = append(out, s)
		}
		if !resp.More || len(resp.Shares) == 0 {
			return out, nil
		}
	}
}

// Revoke removes share id from recipient's inbox (the requester must be
// its sharer or its recipient).
func (c *Client) Revoke(ctx context.Context, recipient PubKey, id Hash) error {
	_, err := call(ctx, c, TypeShareRevoke, &ShareRevokeRequest{Recipient: recipient, ID: id}, DecodeShareRevokeResponse)
	return err
}
