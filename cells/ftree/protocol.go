package ftree

import (
	"encoding/json"
	"fmt"
)

// CellName is the cell type these requests belong to (peer.FtreeCell).
const CellName = "ftreeFileMgrCell"

// Request types. Every body is a JSON object (see the Decode functions).
const (
	TypeRootGet     = "ftree.root.get"     // RootGetRequest → RootGetResponse
	TypeRootPut     = "ftree.root.put"     // RootPutRequest → RootPutResponse
	TypeRootHistory = "ftree.root.history" // RootHistoryRequest → RootHistoryResponse
	TypeSharePut    = "ftree.share.put"    // SharePutRequest → SharePutResponse
	TypeShareList   = "ftree.share.list"   // ShareListRequest → ShareListResponse
	TypeShareRevoke = "ftree.share.revoke" // ShareRevokeRequest → ShareRevokeResponse
)

// Limits.
const (
	// MaxRequest bounds a request body.
	MaxRequest = 8 << 10
	// MaxResponse bounds a response body (a full page of shares fits).
	MaxResponse = 512 << 10
	// MaxHistory is the most records a node keeps (and returns) per owner.
	MaxHistory = 16
	// MaxPage is the most shares one share.list answer carries.
	MaxPage = 128
)

// Root put outcomes.
const (
	StatusOK       = "ok"
	StatusConflict = "conflict"
)

// Error codes of refusals (transport.RemoteError.Code).
const (
	CodeMalformed  = "ftree-malformed"
	CodeSignature  = "ftree-bad-signature"
	CodeForbidden  = "ftree-forbidden"
	CodeNotFound   = "ftree-not-found"
	CodeInboxFull  = "ftree-inbox-full"
	CodeServerFail = "ftree-internal"
)

// RootGetRequest asks for an owner's current record.
type RootGetRequest struct {
	Owner PubKey `json:"owner"`
}

// RootGetResponse carries the current record, or null when the node holds
// none for that owner.
type RootGetResponse struct {
	Record *RootRecord `json:"record"`
}

// RootPutRequest writes the next version of the sender's own record.
type RootPutRequest struct {
	Record *RootRecord `json:"record"`
}

// RootPutResponse: status "ok" (stored, or already the current record), or
// "conflict" with the node's current record (null if it holds none).
type RootPutResponse struct {
	Status  string      `json:"status"`
	Current *RootRecord `json:"current"`
}

// RootHistoryRequest asks for an owner's kept versions.
type RootHistoryRequest struct {
	Owner PubKey `json:"owner"`
}

// RootHistoryResponse lists at most MaxHistory records, newest first.
type RootHistoryResponse struct {
	Records []*RootRecord `json:"records"`
}

// SharePutRequest stores a share in its recipient's inbox; the envelope
// sender must be the share's sharer.
type SharePutRequest struct {
	Share *Share `json:"share"`
}

// SharePutResponse carries the stored share's id.
type SharePutResponse struct {
	ID Hash `json:"id"`
}

// ShareListRequest lists the sender's own inbox in id order, after After
// (zero: from the start), at most Limit (1..MaxPage; 0 means MaxPage).
type ShareListRequest struct {
	After Hash `json:"after"`
	Limit int  `json:"limit"`
}

// ShareListResponse is one page of the inbox; More says another follows.
type ShareListResponse struct {
	Shares []*Share `json:"shares"`
	More   bool     `json:"more"`
}

// ShareRevokeRequest removes a share from Recipient's inbox; the envelope
// sender must be its sharer or its recipient.
type ShareRevokeRequest struct {
	Recipient PubKey `json:"recipient"`
	ID        Hash   `json:"id"`
}

// ShareRevokeResponse acknowledges a revocation.
type ShareRevokeResponse struct {
	Revoked bool `json:"revoked"`
}

func (m *RootGetRequest) validate() error { return needKey(m.Owner, "owner") }

func (m *RootGetResponse) validate() error {
	if m.Record == nil {
		return nil
	}
	return m.Record.check()
}

func (m *RootPutRequest) validate() error {
	if m.Record == nil {
		return fmt.Errorf("%w: record is required", ErrMalformed)
	}
	return m.Record.check()
}

func (m *RootPutResponse) validate() error {
	switch m.Status {
	case StatusOK:
		if m.Current != nil {
			return fmt.Errorf("%w: ok carries a record", ErrMalformed)
		}
		return nil
	case StatusConflict:
		if m.Current == nil {
			return nil
		}
		return m.Current.check()
	}
	return fmt.Errorf("%w: unknown status", ErrMalformed)
}

func (m *RootHistoryRequest) validate() error { return needKey(m.Owner, "owner") }

func (m *RootHistoryResponse) validate() error {
	if len(m.Records) > MaxHistory {
		return fmt.Errorf("%w: %d records, limit %d", ErrMalformed, len(m.Records), MaxHistory)
	}
	for _, r := range m.Records {
		if r == nil {
			return fmt.Errorf("%w: null record", ErrMalformed)
		}
		if err := r.check(); err != nil {
			return err
		}
	}
	return nil
}

func (m *SharePutRequest) validate() error {
	if m.Share == nil {
		return fmt.Errorf("%w: share is required", ErrMalformed)
	}
	return m.Share.check()
}

func (m *SharePutResponse) validate() error {
	if m.ID.IsZero() {
		return fmt.Errorf("%w: id is required", ErrMalformed)
	}
	return nil
}

func (m *ShareListRequest) validate() error {
	if m.Limit < 0 || m.Limit > MaxPage {
		return fmt.Errorf("%w: limit %d not in 0..%d", ErrMalformed, m.Limit, MaxPage)
	}
	return nil
}

func (m *ShareListResponse) validate() error {
	if len(m.Shares) > MaxPage {
		return fmt.Errorf("%w: %d shares, limit %d", ErrMalformed, len(m.Shares), MaxPage)
	}
	for _, s := range m.Shares {
		if s == nil {
			return fmt.Errorf("%w: null share", ErrMalformed)
		}
		if err := s.check(); err != nil {
			return err
		}
	}
	return nil
}

func (m *ShareRevokeRequest) validate() error {
	if err := needKey(m.Recipient, "recipient"); err != nil {
		return err
	}
	if m.ID.IsZero() {
		return fmt.Errorf("%w: id is required", ErrMalformed)
	}
	return nil
}

func (m *ShareRevokeResponse) validate() error {
	if !m.Revoked {
		return fmt.Errorf("%w: revoked must be true", ErrMalformed)
	}
	return nil
}

func needKey(k PubKey, name string) error {
	if k.IsZero() {
		return fmt.Errorf("%w: %s is required", ErrMalformed, name)
	}
	return nil
}

type message interface{ validate() error }

// decode parses b strictly (decodeStrict) into a new T and validates it.
func decode[T any, P interface {
	*T
	message
}](b []byte, max int) (*T, error) {
	v := P(new(T))
	if err := decodeStrict(b, max, v); err != nil {
		return nil, err
	}
	if err := v.validate(); err != nil {
		return nil, err
	}
	return (*T)(v), nil
}

// Encode returns the JSON body of a message after validating it.
func Encode(m interface{ validate() error }) ([]byte, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("ftree: encoding: %w", err)
	}
	return b, nil
}

// DecodeRootGetRequest parses a root.get request body.
func DecodeRootGetRequest(b []byte) (*RootGetRequest, error) {
	return decode[RootGetRequest](b, MaxRequest)
}

// DecodeRootGetResponse parses a root.get response body.
func DecodeRootGetResponse(b []byte) (*RootGetResponse, error) {
	return decode[RootGetResponse](b, MaxResponse)
}

// DecodeRootPutRequest parses a root.put request body.
func DecodeRootPutRequest(b []byte) (*RootPutRequest, error) {
	return decode[RootPutRequest](b, MaxRequest)
}

// DecodeRootPutResponse parses a root.put response body.
func DecodeRootPutResponse(b []byte) (*RootPutResponse, error) {
	return decode[RootPutResponse](b, MaxResponse)
}

// DecodeRootHistoryRequest parses a root.history request body.
func DecodeRootHistoryRequest(b []byte) (*RootHistoryRequest, error) {
	return decode[RootHistoryRequest](b, MaxRequest)
}

// DecodeRootHistoryResponse parses a root.history response body.
func DecodeRootHistoryResponse(b []byte) (*RootHistoryResponse, error) {
	return decode[RootHistoryResponse](b, MaxResponse)
}

// DecodeSharePutRequest parses a share.put request body.
func DecodeSharePutRequest(b []byte) (*SharePutRequest, error) {
	return decode[SharePutRequest](b, MaxRequest)
}

// DecodeSharePutResponse parses a share.put response body.
func DecodeSharePutResponse(b []byte) (*SharePutResponse, error) {
	return decode[SharePutResponse](b, MaxResponse)
}

// DecodeShareListRequest parses a share.list request body.
func DecodeShareListRequest(b []byte) (*ShareListRequest, error) {
	return decode[ShareListRequest](b, MaxRequest)
}

// DecodeShareListResponse parses a share.list response body.
func DecodeShareListResponse(b []byte) (*ShareListResponse, error) {
	return decode[ShareListResponse](b, MaxResponse)
}

// DecodeShareRevokeRequest parses a share.revoke request body.
func DecodeShareRevokeRequest(b []byte) (*ShareRevokeRequest, error) {
	return decode[ShareRevokeRequest](b, MaxRequest)
}

// DecodeShareRevokeResponse parses a share.revoke response body.
func DecodeShareRevokeResponse(b []byte) (*ShareRevokeResponse, error) {
	return decode[ShareRevokeResponse](b, MaxResponse)
}
