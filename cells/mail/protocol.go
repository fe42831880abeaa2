package mail

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"github.com/borgios/borghui/cells/internal/wire"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/borgios/borghui/signer"
)

// CellName is the cell type these requests belong to (peer.MailCell).
const CellName = "mailTreeCell"

// Request types, client → cell (receptor).
const (
	TypeCardPut    = "mail.card.put"    // CardPutRequest → CardPutResponse
	TypeCardGet    = "mail.card.get"    // CardGetRequest → CardGetResponse
	TypeCardSearch = "mail.card.search" // SearchRequest → SearchResponse
	TypePrekeyTake = "mail.prekey.take" // TakeRequest → TakeResponse
	TypeDeliver    = "mail.deliver"     // Envelope frame → DeliverResponse
	TypeList       = "mail.list"        // ListRequest → ListResponse
	TypeFetch      = "mail.fetch"       // FetchRequest → fetch frame
	TypeAck        = "mail.ack"         // AckRequest → AckResponse
	TypeStatus     = "mail.status"      // StatusRequest → StatusResponse
	TypeMembers    = "mail.members"     // (empty) → MembersResponse
)

// Request types, node → node (members only).
const (
	TypeReplicate     = "mail.replicate"      // replicate frame → DeliverResponse
	TypeCardReplicate = "mail.card.replicate" // CardPutRequest → CardPutResponse
	TypePrekeyDrop    = "mail.prekey.drop"    // PrekeyDropRequest → PrekeyDropResponse
	TypeDrop          = "mail.drop"           // AckRequest → AckResponse
	TypeCardFind      = "mail.card.find"      // SearchRequest → SearchResponse
	TypeHello         = "mail.hello"          // roster announcement (one-way)
)

// Limits.
const (
	// MaxRequest bounds a JSON request body (a card put fits).
	MaxRequest = 128 << 10
	// MaxResponse bounds a JSON response body (a page of cards fits).
	MaxResponse = 2 << 20
	// MaxBatch bounds the ids of one fetch, ack or status.
	MaxBatch = 256
	// MaxList bounds the headers of one list answer.
	MaxList = 512
	// MaxSearch bounds the cards of one search answer.
	MaxSearch = 20
	// MaxQuery bounds a search query in bytes.
	MaxQuery = 64
	// MaxFetchBytes bounds the sealed bytes of one fetch answer (at least
	// one message is always answered).
	MaxFetchBytes = 3 << 20
	// MaxMembers bounds a members answer.
	MaxMembers = 1024
	// MaxHolders bounds the holders a replica names (and the replicas).
	MaxHolders = 16
	nodeIDLen  = 130
	maxAddr    = 256
)

// Card put outcomes.
const (
	StatusOK    = "ok"
	StatusStale = "stale"
)

// States of a message on a cell (StatusResponse, DeliverResponse).
const (
	CellStored    = "stored"    // held, waiting for its recipient
	CellDelivered = "delivered" // fetched and acknowledged by its recipient
	CellExpired   = "expired"   // dropped unread after the cell's MaxAge
	CellUnknown   = "unknown"   // never seen here (or forgotten)
)

// CardPutRequest publishes a card; the envelope sender must be its owner.
type CardPutRequest struct {
	Card *Card `json:"card"`
}

// CardPutResponse: "ok" with the copies now held on the owner's home
// cells, or "stale" with the cell's current card.
type CardPutResponse struct {
	Status  string `json:"status"`
	Current *Card  `json:"current"`
	Copies  int    `json:"copies"`
	Target  int    `json:"target"`
}

// CardGetRequest asks for the card of an address.
type CardGetRequest struct {
	MUID string `json:"muid"`
}

// CardGetResponse carries the card (null when the cell holds none) and the
// ids of its prekeys the cell still hands out.
type CardGetResponse struct {
	Card *Card      `json:"card"`
	Left []PrekeyID `json:"left"`
}

// SearchRequest finds cards by exact MUID, or by nickname prefix
// (case-insensitive), at most Limit (1..MaxSearch; 0 means MaxSearch).
type SearchRequest struct {
	Query string `json:"query"`
	Limit int    `json:"limit"`
}

// SearchResponse lists the cards found, by nickname then MUID.
type SearchResponse struct {
	Cards []*Card `json:"cards"`
}

// TakeRequest asks for one prekey of an address's card.
type TakeRequest struct {
	MUID string `json:"muid"`
}

// TakeResponse carries the card and the key to seal to: a prekey id of
// that card (never handed out again), or "longterm" when none is left.
type TakeResponse struct {
	Card *Card `json:"card"`
	Key  KeyID `json:"key"`
}

// DeliverResponse acknowledges a stored message: its state on the cell
// ("stored", or "delivered" when it was already fetched) and the copies
// confirmed on the mailbox's home cells.
type DeliverResponse struct {
	ID     MsgID  `json:"id"`
	State  string `json:"state"`
	Copies int    `json:"copies"`
	Target int    `json:"target"`
}

// ListRequest lists the sender's own mailbox MUID (the envelope sender
// must own it) in id order after After, at most Limit (0: MaxList).
type ListRequest struct {
	MUID  string `json:"muid"`
	After MsgID  `json:"after"`
	Limit int    `json:"limit"`
}

// ListResponse is one page of headers; More says another follows.
type ListResponse struct {
	Items []Header `json:"items"`
	More  bool     `json:"more"`
}

// FetchRequest asks for sealed messages of the sender's own mailbox.
type FetchRequest struct {
	MUID string  `json:"muid"`
	IDs  []MsgID `json:"ids"`
}

// fetchHeader is the JSON header of a fetch answer frame: the headers of
// the envelopes whose sealed bytes follow, concatenated in that order.
type fetchHeader struct {
	Items []Header `json:"items"`
}

// AckProof is the mailbox owner's signed consent to delete messages: cells
// delete only on a proof that verifies, and forward it to the other
// holders, which check it again. Signed over AckDomain + RFC 8785 JSON of
// {"ids":[…],"muid":…,"owner":…,"time":…}.
type AckProof struct {
	IDs       []MsgID `json:"ids"`
	MUID      string  `json:"muid"`
	Owner     PubKey  `json:"owner"`
	Time      int64   `json:"time"`
	Signature Sig     `json:"sig"`
}

// AckDomain starts the canonical bytes of an AckProof.
const AckDomain = "BorgIOS/v1/mail-ack\n"

// Canonical returns the bytes the owner signs.
func (p *AckProof) Canonical() []byte {
	b := make([]byte, 0, len(AckDomain)+256+35*len(p.IDs))
	b = append(b, AckDomain...)
	b = append(b, `{"ids":[`...)
	for i, id := range p.IDs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, id.String()...)
		b = append(b, '"')
	}
	b = append(b, `],"muid":`...)
	b = appendString(b, p.MUID)
	b = append(b, `,"owner":"`...)
	b = append(b, p.Owner.String()...)
	b = append(b, `","time":`...)
	b = appendInt(b, p.Time)
	return append(b, '}')
}

func (p *AckProof) check() error {
	if err := checkIDs(p.IDs); err != nil {
		return err
	}
	switch {
	case p.Owner[0] != 0x04:
		return fmt.Errorf("%w: ack owner is not an uncompressed key", ErrMalformed)
	case p.Time < 0 || p.Time > MaxInteger:
		return fmt.Errorf("%w: ack time out of range", ErrMalformed)
	case len(p.Signature) < minSigLen || len(p.Signature) > maxSigLen:
		return fmt.Errorf("%w: ack signature length %d", ErrMalformed, len(p.Signature))
	}
	return CheckMUID(p.MUID)
}

// Verify checks the proof's form, that MUID is the owner's address and the
// owner's signature.
func (p *AckProof) Verify() error {
	if err := p.check(); err != nil {
		return err
	}
	m, err := MUIDOf(p.Owner[:])
	if err != nil {
		return err
	}
	if m != p.MUID {
		return fmt.Errorf("%w: ack for mailbox %s signed by %s", ErrForbidden, p.MUID, m)
	}
	return verifySig(p.Owner[:], sha256.Sum256(p.Canonical()), p.Signature)
}

// NewAckProof signs the acknowledgement of ids in k's mailbox.
func NewAckProof(k signer.Key, ids []MsgID, now time.Time) (*AckProof, error) {
	owner, err := PubKeyOf(k.PublicKey())
	if err != nil {
		return nil, err
	}
	muid, err := MUIDOf(owner[:])
	if err != nil {
		return nil, err
	}
	p := &AckProof{IDs: ids, MUID: muid, Owner: owner, Time: now.UnixMilli(), Signature: make(Sig, minSigLen)}
	if err := p.check(); err != nil {
		return nil, err
	}
	if p.Signature, err = signLowS(k, sha256.Sum256(p.Canonical())); err != nil {
		return nil, fmt.Errorf("mail: signing ack: %w", err)
	}
	return p, nil
}

// AckRequest acknowledges (deletes) messages of the owner's mailbox.
type AckRequest struct {
	Proof *AckProof `json:"proof"`
}

// AckResponse says how many of the ids the cell deleted (ids it did not
// hold are not counted; they are still remembered as delivered).
type AckResponse struct {
	Acked int `json:"acked"`
}

// StatusRequest asks for the state of messages by id (ids are random and
// known only to sender, recipient and cells: anyone who knows one may ask).
type StatusRequest struct {
	IDs []MsgID `json:"ids"`
}

// IDState is one message's state on a cell.
type IDState struct {
	ID    MsgID  `json:"id"`
	State string `json:"state"`
}

// StatusResponse lists the state of every id asked, in order.
type StatusResponse struct {
	States []IDState `json:"states"`
}

// Member is a mail cell as clients reach it: node ID and receptor address.
type Member struct {
	ID   string `json:"id"`
	Addr string `json:"addr"`
}

// MembersResponse lists the members a cell knows (itself included) and the
// number of copies (R) the tree keeps of a mailbox.
type MembersResponse struct {
	Members  []Member `json:"members"`
	Replicas int      `json:"replicas"`
}

// PrekeyDropRequest tells a holder of MUID's card that prekeys were handed
// out (node → node).
type PrekeyDropRequest struct {
	MUID string     `json:"muid"`
	IDs  []PrekeyID `json:"ids"`
}

// PrekeyDropResponse acknowledges a drop.
type PrekeyDropResponse struct {
	Dropped int `json:"dropped"`
}

// replicateHeader is the JSON header of a replicate frame: the envelope
// header and the nodes already holding it.
type replicateHeader struct {
	Header
	Holders []string `json:"holders"`
}

func (m *CardPutRequest) validate() error {
	if m.Card == nil {
		return fmt.Errorf("%w: card is required", ErrMalformed)
	}
	return m.Card.check()
}

func (m *CardPutResponse) validate() error {
	if m.Copies < 0 || m.Copies > MaxHolders || m.Target < 0 || m.Target > MaxHolders {
		return fmt.Errorf("%w: copies out of range", ErrMalformed)
	}
	switch m.Status {
	case StatusOK:
		if m.Current != nil {
			return fmt.Errorf("%w: ok carries a card", ErrMalformed)
		}
		return nil
	case StatusStale:
		if m.Current == nil {
			return fmt.Errorf("%w: stale without the current card", ErrMalformed)
		}
		return m.Current.check()
	}
	return fmt.Errorf("%w: unknown status", ErrMalformed)
}

func (m *CardGetRequest) validate() error { return CheckMUID(m.MUID) }

func (m *CardGetResponse) validate() error {
	if m.Left == nil {
		return fmt.Errorf("%w: left must be a list", ErrMalformed)
	}
	if m.Card == nil {
		if len(m.Left) > 0 {
			return fmt.Errorf("%w: prekeys without a card", ErrMalformed)
		}
		return nil
	}
	if len(m.Left) > MaxPrekeys {
		return fmt.Errorf("%w: %d prekeys left, limit %d", ErrMalformed, len(m.Left), MaxPrekeys)
	}
	for _, id := range m.Left {
		if _, ok := m.Card.Prekey(id); !ok {
			return fmt.Errorf("%w: prekey %s left is not on the card", ErrMalformed, id)
		}
	}
	return m.Card.check()
}

func (m *SearchRequest) validate() error {
	q := m.Query
	if q == "" || strings.TrimSpace(q) != q {
		return fmt.Errorf("%w: query is empty or padded with spaces", ErrMalformed)
	}
	if len(q) > MaxQuery || !utf8.ValidString(q) {
		return fmt.Errorf("%w: query is not 1..%d bytes of UTF-8", ErrMalformed, MaxQuery)
	}
	if m.Limit < 0 || m.Limit > MaxSearch {
		return fmt.Errorf("%w: limit %d not in 0..%d", ErrMalformed, m.Limit, MaxSearch)
	}
	return nil
}

func (m *SearchResponse) validate() error {
	if m.Cards == nil {
		return fmt.Errorf("%w: cards must be a list", ErrMalformed)
	}
	if len(m.Cards) > MaxSearch {
		return fmt.Errorf("%w: %d cards, limit %d", ErrMalformed, len(m.Cards), MaxSearch)
	}
	for _, c := range m.Cards {
		if c == nil {
			return fmt.Errorf("%w: null card", ErrMalformed)
		}
		if err := c.check(); err != nil {
			return err
		}
	}
	return nil
}

func (m *TakeRequest) validate() error { return CheckMUID(m.MUID) }

func (m *TakeResponse) validate() error {
	if m.Card == nil {
		return fmt.Errorf("%w: card is required", ErrMalformed)
	}
	if err := m.Card.check(); err != nil {
		return err
	}
	if err := m.Key.check(); err != nil {
		return err
	}
	if id, ok := m.Key.Prekey(); ok {
		if _, on := m.Card.Prekey(id); !on {
			return fmt.Errorf("%w: prekey %s is not on the card", ErrMalformed, id)
		}
	}
	return nil
}

func (m *DeliverResponse) validate() error {
	switch {
	case m.ID.IsZero():
		return fmt.Errorf("%w: id is required", ErrMalformed)
	case m.State != CellStored && m.State != CellDelivered && m.State != CellExpired:
		return fmt.Errorf("%w: delivery state %q", ErrMalformed, m.State)
	case m.Copies < 0 || m.Copies > MaxHolders || m.Target < 0 || m.Target > MaxHolders:
		return fmt.Errorf("%w: copies out of range", ErrMalformed)
	}
	return nil
}

func (m *ListRequest) validate() error {
	if m.Limit < 0 || m.Limit > MaxList {
		return fmt.Errorf("%w: limit %d not in 0..%d", ErrMalformed, m.Limit, MaxList)
	}
	return CheckMUID(m.MUID)
}

func (m *ListResponse) validate() error {
	if m.Items == nil {
		return fmt.Errorf("%w: items must be a list", ErrMalformed)
	}
	if len(m.Items) > MaxList {
		return fmt.Errorf("%w: %d items, limit %d", ErrMalformed, len(m.Items), MaxList)
	}
	for i := range m.Items {
		if err := m.Items[i].check(); err != nil {
			return err
		}
	}
	return nil
}

func (m *FetchRequest) validate() error {
	if err := checkIDs(m.IDs); err != nil {
		return err
	}
	return CheckMUID(m.MUID)
}

func (m *AckRequest) validate() error {
	if m.Proof == nil {
		return fmt.Errorf("%w: proof is required", ErrMalformed)
	}
	return m.Proof.check()
}

func (m *AckResponse) validate() error {
	if m.Acked < 0 || m.Acked > MaxBatch {
		return fmt.Errorf("%w: acked out of range", ErrMalformed)
	}
	return nil
}

func (m *StatusRequest) validate() error { return checkIDs(m.IDs) }

func (m *StatusResponse) validate() error {
	if m.States == nil || len(m.States) > MaxBatch {
		return fmt.Errorf("%w: states must be a list of at most %d", ErrMalformed, MaxBatch)
	}
	for _, s := range m.States {
		if s.ID.IsZero() {
			return fmt.Errorf("%w: state without id", ErrMalformed)
		}
		switch s.State {
		case CellStored, CellDelivered, CellExpired, CellUnknown:
		default:
			return fmt.Errorf("%w: state %q", ErrMalformed, s.State)
		}
	}
	return nil
}

func (m *MembersResponse) validate() error {
	if m.Members == nil || len(m.Members) > MaxMembers {
		return fmt.Errorf("%w: members must be a list of at most %d", ErrMalformed, MaxMembers)
	}
	if m.Replicas < 1 || m.Replicas > MaxHolders {
		return fmt.Errorf("%w: replicas %d", ErrMalformed, m.Replicas)
	}
	for _, mb := range m.Members {
		if err := checkNodeID(mb.ID); err != nil {
			return err
		}
		if mb.Addr == "" || len(mb.Addr) > maxAddr {
			return fmt.Errorf("%w: member address", ErrMalformed)
		}
	}
	return nil
}

func (m *PrekeyDropRequest) validate() error {
	if len(m.IDs) == 0 || len(m.IDs) > MaxPrekeys {
		return fmt.Errorf("%w: 1..%d prekey ids", ErrMalformed, MaxPrekeys)
	}
	return CheckMUID(m.MUID)
}

func (m *PrekeyDropResponse) validate() error {
	if m.Dropped < 0 || m.Dropped > MaxPrekeys {
		return fmt.Errorf("%w: dropped out of range", ErrMalformed)
	}
	return nil
}

func (m *replicateHeader) validate() error {
	if len(m.Holders) > MaxHolders {
		return fmt.Errorf("%w: %d holders", ErrMalformed, len(m.Holders))
	}
	for _, h := range m.Holders {
		if err := checkNodeID(h); err != nil {
			return err
		}
	}
	return m.Header.check()
}

func (m *fetchHeader) validate() error {
	if m.Items == nil || len(m.Items) > MaxBatch {
		return fmt.Errorf("%w: items must be a list of at most %d", ErrMalformed, MaxBatch)
	}
	total := 0
	for i := range m.Items {
		if err := m.Items[i].check(); err != nil {
			return err
		}
		total += m.Items[i].Size
	}
	if total > MaxFetchBytes+MaxSealed {
		return fmt.Errorf("%w: fetch answer of %d bytes", ErrMalformed, total)
	}
	return nil
}

func checkIDs(ids []MsgID) error {
	if len(ids) == 0 || len(ids) > MaxBatch {
		return fmt.Errorf("%w: %d ids, want 1..%d", ErrMalformed, len(ids), MaxBatch)
	}
	seen := make(map[MsgID]bool, len(ids))
	for _, id := range ids {
		if id.IsZero() || seen[id] {
			return fmt.Errorf("%w: zero or repeated id", ErrMalformed)
		}
		seen[id] = true
	}
	return nil
}

func checkNodeID(id string) error {
	if len(id) != nodeIDLen || !strings.HasPrefix(id, "04") || !wire.LowerHex([]byte(id)) {
		return fmt.Errorf("%w: node id is not 130 lowercase hex starting 04", ErrMalformed)
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

// Encode returns the JSON body of a protocol message after validating it.
func Encode(m interface{ validate() error }) ([]byte, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("%w: encoding: %w", ErrMalformed, err)
	}
	return b, nil
}

// DecodeCardPutRequest parses a card.put (or card.replicate) request body.
func DecodeCardPutRequest(b []byte) (*CardPutRequest, error) {
	return decode[CardPutRequest](b, MaxRequest)
}

// DecodeCardPutResponse parses a card.put response body.
func DecodeCardPutResponse(b []byte) (*CardPutResponse, error) {
	return decode[CardPutResponse](b, MaxResponse)
}

// DecodeCardGetRequest parses a card.get request body.
func DecodeCardGetRequest(b []byte) (*CardGetRequest, error) {
	return decode[CardGetRequest](b, MaxRequest)
}

// DecodeCardGetResponse parses a card.get response body.
func DecodeCardGetResponse(b []byte) (*CardGetResponse, error) {
	return decode[CardGetResponse](b, MaxResponse)
}

// DecodeSearchRequest parses a card.search (or card.find) request body.
func DecodeSearchRequest(b []byte) (*SearchRequest, error) {
	return decode[SearchRequest](b, MaxRequest)
}

// DecodeSearchResponse parses a card.search response body.
func DecodeSearchResponse(b []byte) (*SearchResponse, error) {
	return decode[SearchResponse](b, MaxResponse)
}

// DecodeTakeRequest parses a prekey.take request body.
func DecodeTakeRequest(b []byte) (*TakeRequest, error) {
	return decode[TakeRequest](b, MaxRequest)
}

// DecodeTakeResponse parses a prekey.take response body.
func DecodeTakeResponse(b []byte) (*TakeResponse, error) {
	return decode[TakeResponse](b, MaxResponse)
}

// DecodeDeliverResponse parses a deliver (or replicate) response body.
func DecodeDeliverResponse(b []byte) (*DeliverResponse, error) {
	return decode[DeliverResponse](b, MaxResponse)
}

// DecodeListRequest parses a list request body.
func DecodeListRequest(b []byte) (*ListRequest, error) {
	return decode[ListRequest](b, MaxRequest)
}

// DecodeListResponse parses a list response body.
func DecodeListResponse(b []byte) (*ListResponse, error) {
	return decode[ListResponse](b, MaxResponse)
}

// DecodeFetchRequest parses a fetch request body.
func DecodeFetchRequest(b []byte) (*FetchRequest, error) {
	return decode[FetchRequest](b, MaxRequest)
}

// DecodeAckRequest parses an ack (or drop) request body.
func DecodeAckRequest(b []byte) (*AckRequest, error) {
	return decode[AckRequest](b, MaxRequest)
}

// DecodeAckResponse parses an ack response body.
func DecodeAckResponse(b []byte) (*AckResponse, error) {
	return decode[AckResponse](b, MaxResponse)
}

// DecodeStatusRequest parses a status request body.
func DecodeStatusRequest(b []byte) (*StatusRequest, error) {
	return decode[StatusRequest](b, MaxRequest)
}

// DecodeStatusResponse parses a status response body.
func DecodeStatusResponse(b []byte) (*StatusResponse, error) {
	return decode[StatusResponse](b, MaxResponse)
}

// DecodeMembersResponse parses a members response body.
func DecodeMembersResponse(b []byte) (*MembersResponse, error) {
	return decode[MembersResponse](b, MaxResponse)
}

// DecodePrekeyDropRequest parses a prekey.drop request body.
func DecodePrekeyDropRequest(b []byte) (*PrekeyDropRequest, error) {
	return decode[PrekeyDropRequest](b, MaxRequest)
}

// DecodePrekeyDropResponse parses a prekey.drop response body.
func DecodePrekeyDropResponse(b []byte) (*PrekeyDropResponse, error) {
	return decode[PrekeyDropResponse](b, MaxResponse)
}

// DecodeDeliverRequest parses a deliver body: an envelope frame.
func DecodeDeliverRequest(b []byte) (*Envelope, error) { return ParseEnvelope(b) }

// EncodeReplicate returns a replicate body: the envelope frame whose header
// also names the holders so far.
func EncodeReplicate(env *Envelope, holders []string) ([]byte, error) {
	h := replicateHeader{Header: env.Header(), Holders: holders}
	if h.Holders == nil {
		h.Holders = []string{}
	}
	if err := h.validate(); err != nil {
		return nil, err
	}
	return encodeFrame(mustJSON(h), env.Sealed), nil
}

// DecodeReplicate parses a replicate body.
func DecodeReplicate(b []byte) (*Envelope, []string, error) {
	hb, raw, err := splitFrame(b)
	if err != nil {
		return nil, nil, err
	}
	h, err := decode[replicateHeader](hb, MaxHeader)
	if err != nil {
		return nil, nil, err
	}
	if h.Size != len(raw) {
		return nil, nil, fmt.Errorf("%w: header says %d sealed bytes, frame has %d", ErrMalformed, h.Size, len(raw))
	}
	env := &Envelope{ID: h.ID, To: h.To, Key: h.Key, Time: h.Time, Sealed: append([]byte(nil), raw...)}
	return env, h.Holders, nil
}

// EncodeFetchResponse returns a fetch answer: a frame whose header lists
// the envelopes' headers and whose raw part is their sealed bytes in that
// order.
func EncodeFetchResponse(envs []*Envelope) ([]byte, error) {
	h := fetchHeader{Items: make([]Header, 0, len(envs))}
	var raw []byte
	for _, e := range envs {
		h.Items = append(h.Items, e.Header())
		raw = append(raw, e.Sealed...)
	}
	if err := h.validate(); err != nil {
		return nil, err
	}
	return encodeFrame(mustJSON(h), raw), nil
}

// DecodeFetchResponse parses a fetch answer into envelopes.
func DecodeFetchResponse(b []byte) ([]*Envelope, error) {
	hb, raw, err := splitFrame(b)
	if err != nil {
		return nil, err
	}
	h, err := decode[fetchHeader](hb, MaxHeader)
	if err != nil {
		return nil, err
	}
	out := make([]*Envelope, 0, len(h.Items))
	for _, it := range h.Items {
		if it.Size > len(raw) {
			return nil, fmt.Errorf("%w: fetch answer shorter than its header says", ErrMalformed)
		}
		out = append(out, &Envelope{ID: it.ID, To: it.To, Key: it.Key, Time: it.Time, Sealed: append([]byte(nil), raw[:it.Size]...)})
		raw = raw[it.Size:]
	}
	if len(raw) != 0 {
		return nil, fmt.Errorf("%w: fetch answer longer than its header says", ErrMalformed)
	}
	return out, nil
}
