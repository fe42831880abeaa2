package ledger

import (
	"encoding/json"
	"fmt"

	"github.com/borgios/borghui/wallet/address"
)

// CellName is the cell type these requests belong to (peer.PaysCell).
const CellName = "peerPaysCell"

// Request types. Receptor (client → node) requests:
const (
	TypeSubmit  = "ledger.submit"  // SubmitRequest → StatusResponse
	TypeBalance = "ledger.balance" // BalanceRequest → BalanceResponse
	TypeHistory = "ledger.history" // HistoryRequest → HistoryResponse
	TypeStatus  = "ledger.status"  // StatusRequest → StatusResponse
	TypeState   = "ledger.state"   // StateRequest (empty) → StateResponse
)

// Node-to-node message types (on the node transport of the ledger tree):
const (
	TypeForward = "ledger.forward" // ForwardRequest → ForwardResponse (member → root)
	TypeHead    = "ledger.head"    // StateRequest (empty) → StateResponse
	TypeBlocks  = "ledger.blocks"  // BlocksRequest → BlocksResponse
	TypeHashes  = "ledger.hashes"  // HashesRequest → HashesResponse
	TypeHello   = "ledger.hello"   // roster announcement (package roster)
)

// Broadcast payload prefixes: a whole block that fits a broadcast, or the
// tip {height, hash} of a larger one (members fetch it with ledger.blocks).
const (
	BlockPrefix = "ledger.block "
	TipPrefix   = "ledger.tip "
)

// Transfer statuses.
const (
	StatusPending  = "pending"  // queued at this node or at the root, not in a block yet
	StatusApplied  = "applied"  // in the chain this node follows, at Height/Index
	StatusRejected = "rejected" // refused for good (Reason); sign a new transfer
	StatusUnknown  = "unknown"  // this node never saw it, or forgot a rejection
)

// Limits.
const (
	// MaxRequest bounds a receptor request body.
	MaxRequest = 8 << 10
	// MaxForwardRequest bounds a ledger.forward body.
	MaxForwardRequest = 1 << 20
	// MaxResponse bounds a response body (under the transport's 4 MiB).
	MaxResponse = 4<<20 - 64<<10
	// MaxHistoryPage is the most entries one ledger.history answer carries.
	MaxHistoryPage = 100
	// MaxBlocksPage is the most blocks one ledger.blocks answer carries.
	MaxBlocksPage = 32
	// MaxHashesPage is the most hashes one ledger.hashes answer carries.
	MaxHashesPage = 1024
	// MaxForwardBatch is the most transfers one ledger.forward carries.
	MaxForwardBatch = 500
	maxReason       = 64
)

// SubmitRequest hands a signed transfer to a node.
type SubmitRequest struct {
	Transfer *Transfer `json:"transfer"`
}

// StatusRequest asks for a transfer's status by id.
type StatusRequest struct {
	ID Hash `json:"id"`
}

// StatusResponse is a transfer's status as this node knows it. Height and
// Index locate an applied transfer (0 otherwise); Reason says why a
// rejected one was refused (one of the Reason constants).
type StatusResponse struct {
	ID     Hash   `json:"id"`
	Status string `json:"status"`
	Height uint64 `json:"height"`
	Index  int    `json:"index"`
	Reason string `json:"reason"`
}

// BalanceRequest asks for an account.
type BalanceRequest struct {
	MUID string `json:"muid"`
}

// BalanceResponse is an account at the node's chain height (zero balance
// and seq 0 for an account that never held shells).
type BalanceResponse struct {
	MUID    string `json:"muid"`
	Balance Amount `json:"balance"`
	Seq     uint64 `json:"seq"`
	Height  uint64 `json:"height"`
}

// Cursor is a place in the chain: a transfer's block height and index.
type Cursor struct {
	Height uint64 `json:"height"`
	Index  int    `json:"index"`
}

// HistoryRequest asks for an account's transfers, sent and received,
// newest first, strictly before Before (null: from the newest), at most
// Limit (1..MaxHistoryPage; 0 means MaxHistoryPage).
type HistoryRequest struct {
	MUID   string  `json:"muid"`
	Before *Cursor `json:"before"`
	Limit  int     `json:"limit"`
}

// HistoryEntry is one applied transfer of an account: where it is, the
// block's time, the account's balance right after it, and the signed
// transfer itself (a client can check its signature).
type HistoryEntry struct {
	Height   uint64    `json:"height"`
	Index    int       `json:"index"`
	Time     int64     `json:"time"`
	Balance  Amount    `json:"balance"`
	Transfer *Transfer `json:"transfer"`
}

// HistoryResponse is one page; More says older entries follow (ask again
// with Before = the last entry's place).
type HistoryResponse struct {
	MUID    string          `json:"muid"`
	Entries []*HistoryEntry `json:"entries"`
	More    bool            `json:"more"`
}

// StateRequest is the empty body of ledger.state and ledger.head.
type StateRequest struct{}

// StateResponse is a node's chain tip: height, block hash, state hash,
// the total of all balances (always GenesisSupply) and the account count.
type StateResponse struct {
	Height   uint64 `json:"height"`
	Hash     Hash   `json:"hash"`
	State    Hash   `json:"state"`
	Supply   Amount `json:"supply"`
	Accounts int    `json:"accounts"`
}

// ForwardRequest carries transfers from a member to the root.
type ForwardRequest struct {
	Transfers []*Transfer `json:"transfers"`
}

// ForwardResponse has one status per forwarded transfer, in order.
type ForwardResponse struct {
	Results []*StatusResponse `json:"results"`
}

// BlocksRequest asks for up to Count (1..MaxBlocksPage) blocks from height
// From (≥ 1).
type BlocksRequest struct {
	From  uint64 `json:"from"`
	Count int    `json:"count"`
}

// BlocksResponse carries consecutive blocks from the asked height; fewer
// than asked when the node's chain ends or the answer would be too large.
type BlocksResponse struct {
	Blocks []*Block `json:"blocks"`
}

// HashesRequest asks for the block hashes of heights From.. (From ≥ 1,
// Count 1..MaxHashesPage).
type HashesRequest struct {
	From  uint64 `json:"from"`
	Count int    `json:"count"`
}

// HashesResponse lists consecutive block hashes from height From.
type HashesResponse struct {
	From   uint64 `json:"from"`
	Hashes []Hash `json:"hashes"`
}

// Tip is a broadcast announcement of a block too large to broadcast.
type Tip struct {
	Height uint64 `json:"height"`
	Hash   Hash   `json:"hash"`
}

func checkMUID(m, what string) error {
	if len(m) > maxMUIDLen {
		return fmt.Errorf("%w: %s is not a MUID", ErrMalformed, what)
	}
	if _, err := address.ParseMUID(m); err != nil {
		return fmt.Errorf("%w: %s is not a MUID", ErrMalformed, what)
	}
	return nil
}

func validReason(r string) bool {
	if r == "" || len(r) > maxReason {
		return false
	}
	for i := 0; i < len(r); i++ {
		c := r[i]
		if !('a' <= c && c <= 'z' || c == '-') {
			return false
		}
	}
	return true
}

func (m *SubmitRequest) validate() error {
	if m.Transfer == nil {
		return fmt.Errorf("%w: transfer is required", ErrMalformed)
	}
	return m.Transfer.check()
}

func (m *StatusRequest) validate() error {
	if m.ID.IsZero() {
		return fmt.Errorf("%w: id is required", ErrMalformed)
	}
	return nil
}

func (m *StatusResponse) validate() error {
	if m.ID.IsZero() {
		return fmt.Errorf("%w: id is required", ErrMalformed)
	}
	switch m.Status {
	case StatusApplied:
		if m.Height < 1 || m.Height > MaxInteger || m.Index < 0 || m.Index >= MaxBlockTransfers || m.Reason != "" {
			return fmt.Errorf("%w: applied status without a place, or with a reason", ErrMalformed)
		}
		return nil
	case StatusRejected:
		if !validReason(m.Reason) {
			return fmt.Errorf("%w: rejected status without a reason", ErrMalformed)
		}
	case StatusPending, StatusUnknown:
		if m.Reason != "" {
			return fmt.Errorf("%w: %s status with a reason", ErrMalformed, m.Status)
		}
	default:
		return fmt.Errorf("%w: unknown status %q", ErrMalformed, clip(m.Status))
	}
	if m.Height != 0 || m.Index != 0 {
		return fmt.Errorf("%w: %s status with a place", ErrMalformed, m.Status)
	}
	return nil
}

func (m *BalanceRequest) validate() error { return checkMUID(m.MUID, "muid") }

func (m *BalanceResponse) validate() error {
	if err := checkMUID(m.MUID, "muid"); err != nil {
		return err
	}
	if m.Balance > GenesisSupply || m.Seq > MaxInteger || m.Height > MaxInteger {
		return fmt.Errorf("%w: balance answer out of range", ErrMalformed)
	}
	return nil
}

func (c *Cursor) check() error {
	if c.Height < 1 || c.Height > MaxInteger || c.Index < 0 || c.Index >= MaxBlockTransfers {
		return fmt.Errorf("%w: cursor out of range", ErrMalformed)
	}
	return nil
}

func (m *HistoryRequest) validate() error {
	if err := checkMUID(m.MUID, "muid"); err != nil {
		return err
	}
	if m.Limit < 0 || m.Limit > MaxHistoryPage {
		return fmt.Errorf("%w: limit %d not in 0..%d", ErrMalformed, m.Limit, MaxHistoryPage)
	}
	if m.Before != nil {
		return m.Before.check()
	}
	return nil
}

func (e *HistoryEntry) check() error {
	if e.Transfer == nil {
		return fmt.Errorf("%w: history entry without a transfer", ErrMalformed)
	}
	if err := (&Cursor{Height: e.Height, Index: e.Index}).check(); err != nil {
		return err
	}
	if e.Time < 0 || e.Time > MaxInteger || e.Balance > GenesisSupply {
		return fmt.Errorf("%w: history entry out of range", ErrMalformed)
	}
	return e.Transfer.check()
}

func (m *HistoryResponse) validate() error {
	if err := checkMUID(m.MUID, "muid"); err != nil {
		return err
	}
	if len(m.Entries) > MaxHistoryPage {
		return fmt.Errorf("%w: %d entries, limit %d", ErrMalformed, len(m.Entries), MaxHistoryPage)
	}
	for i, e := range m.Entries {
		if e == nil {
			return fmt.Errorf("%w: null entry", ErrMalformed)
		}
		if err := e.check(); err != nil {
			return err
		}
		if e.Transfer.sender != m.MUID && e.Transfer.To != m.MUID {
			return fmt.Errorf("%w: entry of another account", ErrMalformed)
		}
		if i > 0 {
			p := m.Entries[i-1]
			if e.Height > p.Height || e.Height == p.Height && e.Index >= p.Index {
				return fmt.Errorf("%w: entries not newest first", ErrMalformed)
			}
		}
	}
	return nil
}

func (m *StateRequest) validate() error { return nil }

func (m *StateResponse) validate() error {
	if m.Height > MaxInteger || m.Accounts < 0 || m.Supply > GenesisSupply {
		return fmt.Errorf("%w: state answer out of range", ErrMalformed)
	}
	return nil
}

func (m *ForwardRequest) validate() error {
	if len(m.Transfers) < 1 || len(m.Transfers) > MaxForwardBatch {
		return fmt.Errorf("%w: %d transfers, want 1..%d", ErrMalformed, len(m.Transfers), MaxForwardBatch)
	}
	for _, t := range m.Transfers {
		if t == nil {
			return fmt.Errorf("%w: null transfer", ErrMalformed)
		}
		if err := t.check(); err != nil {
			return err
		}
	}
	return nil
}

func (m *ForwardResponse) validate() error {
	if len(m.Results) > MaxForwardBatch {
		return fmt.Errorf("%w: %d results, limit %d", ErrMalformed, len(m.Results), MaxForwardBatch)
	}
	for _, r := range m.Results {
		if r == nil {
			return fmt.Errorf("%w: null result", ErrMalformed)
		}
		if err := r.validate(); err != nil {
			return err
		}
	}
	return nil
}

func (m *BlocksRequest) validate() error {
	if m.From < 1 || m.From > MaxInteger || m.Count < 1 || m.Count > MaxBlocksPage {
		return fmt.Errorf("%w: blocks from %d count %d", ErrMalformed, m.From, m.Count)
	}
	return nil
}

func (m *BlocksResponse) validate() error {
	if len(m.Blocks) > MaxBlocksPage {
		return fmt.Errorf("%w: %d blocks, limit %d", ErrMalformed, len(m.Blocks), MaxBlocksPage)
	}
	for i, b := range m.Blocks {
		if b == nil {
			return fmt.Errorf("%w: null block", ErrMalformed)
		}
		if err := b.check(); err != nil {
			return err
		}
		if i > 0 && b.Height != m.Blocks[i-1].Height+1 {
			return fmt.Errorf("%w: blocks not consecutive", ErrMalformed)
		}
	}
	return nil
}

func (m *HashesRequest) validate() error {
	if m.From < 1 || m.From > MaxInteger || m.Count < 1 || m.Count > MaxHashesPage {
		return fmt.Errorf("%w: hashes from %d count %d", ErrMalformed, m.From, m.Count)
	}
	return nil
}

func (m *HashesResponse) validate() error {
	if m.From < 1 || m.From > MaxInteger || len(m.Hashes) > MaxHashesPage {
		return fmt.Errorf("%w: hashes answer out of range", ErrMalformed)
	}
	return nil
}

func (m *Tip) validate() error {
	if m.Height < 1 || m.Height > MaxInteger || m.Hash.IsZero() {
		return fmt.Errorf("%w: tip out of range", ErrMalformed)
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
		return nil, fmt.Errorf("ledger: encoding: %w", err)
	}
	return b, nil
}

// DecodeSubmitRequest parses a ledger.submit body.
func DecodeSubmitRequest(b []byte) (*SubmitRequest, error) {
	return decode[SubmitRequest](b, MaxRequest)
}

// DecodeStatusRequest parses a ledger.status body.
func DecodeStatusRequest(b []byte) (*StatusRequest, error) {
	return decode[StatusRequest](b, MaxRequest)
}

// DecodeStatusResponse parses a ledger.status or ledger.submit answer.
func DecodeStatusResponse(b []byte) (*StatusResponse, error) {
	return decode[StatusResponse](b, MaxRequest)
}

// DecodeBalanceRequest parses a ledger.balance body.
func DecodeBalanceRequest(b []byte) (*BalanceRequest, error) {
	return decode[BalanceRequest](b, MaxRequest)
}

// DecodeBalanceResponse parses a ledger.balance answer.
func DecodeBalanceResponse(b []byte) (*BalanceResponse, error) {
	return decode[BalanceResponse](b, MaxRequest)
}

// DecodeHistoryRequest parses a ledger.history body.
func DecodeHistoryRequest(b []byte) (*HistoryRequest, error) {
	return decode[HistoryRequest](b, MaxRequest)
}

// DecodeHistoryResponse parses a ledger.history answer.
func DecodeHistoryResponse(b []byte) (*HistoryResponse, error) {
	return decode[HistoryResponse](b, MaxResponse)
}

// DecodeStateRequest parses a ledger.state or ledger.head body: empty or {}.
func DecodeStateRequest(b []byte) (*StateRequest, error) {
	if len(b) == 0 {
		return &StateRequest{}, nil
	}
	return decode[StateRequest](b, MaxRequest)
}

// DecodeStateResponse parses a ledger.state or ledger.head answer.
func DecodeStateResponse(b []byte) (*StateResponse, error) {
	return decode[StateResponse](b, MaxRequest)
}

// DecodeForwardRequest parses a ledger.forward body.
func DecodeForwardRequest(b []byte) (*ForwardRequest, error) {
	return decode[ForwardRequest](b, MaxForwardRequest)
}

// DecodeForwardResponse parses a ledger.forward answer.
func DecodeForwardResponse(b []byte) (*ForwardResponse, error) {
	return decode[ForwardResponse](b, MaxResponse)
}

// DecodeBlocksRequest parses a ledger.blocks body.
func DecodeBlocksRequest(b []byte) (*BlocksRequest, error) {
	return decode[BlocksRequest](b, MaxRequest)
}

// DecodeBlocksResponse parses a ledger.blocks answer.
func DecodeBlocksResponse(b []byte) (*BlocksResponse, error) {
	return decode[BlocksResponse](b, MaxResponse)
}

// DecodeHashesRequest parses a ledger.hashes body.
func DecodeHashesRequest(b []byte) (*HashesRequest, error) {
	return decode[HashesRequest](b, MaxRequest)
}

// DecodeHashesResponse parses a ledger.hashes answer.
func DecodeHashesResponse(b []byte) (*HashesResponse, error) {
	return decode[HashesResponse](b, MaxResponse)
}

// DecodeTip parses a ledger.tip broadcast payload (after the prefix).
func DecodeTip(b []byte) (*Tip, error) {
	return decode[Tip](b, MaxRequest)
}
