package shard

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/borgios/borghui/cells/roster"
	"net"

	"github.com/borgios/borghui/peer/transport"
)

// CellName is the cell type this package serves.
const CellName = "shardTreeCell"

// Request types. Receptor (client → cell) types first, then node-to-node.
const (
	TypePut     = "shard.put"
	TypePutOne  = "shard.putone"
	TypeGet     = "shard.get"
	TypeHas     = "shard.has"
	TypeDelete  = "shard.delete"
	TypeRepair  = "shard.repair"
	TypeMembers = "shard.members"

	TypeReplicate = "shard.replicate"
	TypePeerHas   = "shard.peerhas"
	TypeHello     = "shard.hello"
	TypeHolders   = "shard.holders"
)

// Limits.
const (
	// MaxHeader bounds the JSON header of a framed body and every JSON body.
	MaxHeader = 64 << 10
	// MaxBlob is the largest blob: the transport's body limit less room
	// for the frame header.
	MaxBlob = transport.DefaultMaxBody - MaxHeader - 4
	// MaxBatch bounds the ids of one has request.
	MaxBatch = 1024
	// MaxOwners and MaxHolders bound the lists a replica carries.
	MaxOwners  = 256
	MaxHolders = 64
	// MaxMembers bounds a members answer.
	MaxMembers = 1024
	maxAddrLen = 256
	nodeIDLen  = 130
)

// ID is a shard id: the SHA-256 of the blob's bytes. In JSON it is 64
// lowercase hex characters.
type ID [32]byte

// Sum returns the id of blob.
func Sum(blob []byte) ID { return sha256.Sum256(blob) }

// String is the lowercase hex form.
func (id ID) String() string { return hex.EncodeToString(id[:]) }

// MarshalText encodes the id as lowercase hex.
func (id ID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText accepts exactly 64 lowercase hex characters.
func (id *ID) UnmarshalText(b []byte) error {
	p, err := ParseID(string(b))
	if err != nil {
		return err
	}
	*id = p
	return nil
}

// ParseID parses 64 lowercase hex characters.
func ParseID(s string) (ID, error) {
	var id ID
	if len(s) != 64 || !isLowerHex(s) {
		return id, fmt.Errorf("%w: an id is 64 lowercase hex characters", ErrMalformed)
	}
	hex.Decode(id[:], []byte(s))
	return id, nil
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func validNodeID(s string) bool { return len(s) == nodeIDLen && s[:2] == "04" && isLowerHex(s) }

func validAddr(s string) bool {
	if len(s) == 0 || len(s) > maxAddrLen {
		return false
	}
	_, _, err := net.SplitHostPort(s)
	return err == nil
}

// PutReply answers a put: the copies confirmed after the node stored the
// blob and replicated it, and the target.
type PutReply struct {
	ID     ID    `json:"id"`
	Size   int64 `json:"size"`
	Copies int   `json:"copies"`
	Target int   `json:"target"`
}

// IDRequest is the body of get, delete and repair.
type IDRequest struct {
	ID ID `json:"id"`
}

// GetHeader heads a get answer; the blob follows raw. Holders is how many
// copies the network holds as known to the answering node (itself
// included).
type GetHeader struct {
	ID      ID    `json:"id"`
	Size    int64 `json:"size"`
	Holders int   `json:"holders"`
	Target  int   `json:"target"`
}

// HasRequest asks which of ids are held (has and peerhas).
type HasRequest struct {
	IDs []ID `json:"ids"`
}

// HasReply lists the ids of the request that are held.
type HasReply struct {
	Held []ID `json:"held"`
}

// DeleteReply answers a delete: whether the blob lost its last reference
// here (and goes at the next collection), and the other nodes this node
// knows to hold it, where the owner must delete its reference too.
type DeleteReply struct {
	ID       ID       `json:"id"`
	Released bool     `json:"released"`
	Holders  []string `json:"holders"`
}

// RepairReply answers a repair: the verified copies after it.
type RepairReply struct {
	ID     ID  `json:"id"`
	Copies int `json:"copies"`
	Target int `json:"target"`
}

// Member is a node of the shard tree as a client sees it: its node ID and
// its receptor address.
type Member struct {
	ID   string `json:"id"`
	Addr string `json:"addr"`
}

// MembersReply lists the members the node knows, itself included.
type MembersReply struct {
	Members []Member `json:"members"`
	Target  int      `json:"target"`
}

// ReplicateHeader heads a replicate body (node to node); the blob follows
// raw. Owners are the references the pushing node holds; Holders the nodes
// it knows to hold the blob.
type ReplicateHeader struct {
	ID      ID       `json:"id"`
	Owners  []string `json:"owners"`
	Holders []string `json:"holders"`
}

// Hello announces a member: node ID, net address (node to node) and
// receptor address (clients); package roster sends and learns them under
// the type "shard.hello".
type Hello = roster.Member

// HoldersNote tells a holder which nodes hold a blob (one-way, node to node).
type HoldersNote struct {
	ID      ID       `json:"id"`
	Holders []string `json:"holders"`
}

// EncodeFrame builds a framed body: uint32 big-endian header length, the
// header JSON, the raw blob.
func EncodeFrame(header any, blob []byte) ([]byte, error) {
	h, err := json.Marshal(header)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if len(h) > MaxHeader {
		return nil, fmt.Errorf("%w: header of %d bytes", ErrTooLarge, len(h))
	}
	if len(blob) > MaxBlob {
		return nil, fmt.Errorf("%w: blob of %d bytes, limit %d", ErrTooLarge, len(blob), MaxBlob)
	}
	out := make([]byte, 4, 4+len(h)+len(blob))
	binary.BigEndian.PutUint32(out, uint32(len(h)))
	out = append(out, h...)
	return append(out, blob...), nil
}

// splitFrame cuts a framed body into its header and blob (which aliases b).
func splitFrame(b []byte) (header, blob []byte, err error) {
	if len(b) < 4 {
		return nil, nil, fmt.Errorf("%w: frame shorter than its length prefix", ErrMalformed)
	}
	n := binary.BigEndian.Uint32(b)
	if n == 0 || n > MaxHeader || uint64(n) > uint64(len(b)-4) {
		return nil, nil, fmt.Errorf("%w: frame header length %d", ErrMalformed, n)
	}
	header, blob = b[4:4+n], b[4+n:]
	if len(blob) > MaxBlob {
		return nil, nil, fmt.Errorf("%w: blob of %d bytes, limit %d", ErrTooLarge, len(blob), MaxBlob)
	}
	return header, blob, nil
}

// decodeStrict decodes one JSON object into v: at most MaxHeader bytes,
// no unknown members, nothing after it.
func decodeStrict(b []byte, v any) error {
	if len(b) > MaxHeader {
		return fmt.Errorf("%w: %d bytes of JSON, limit %d", ErrTooLarge, len(b), MaxHeader)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if dec.InputOffset() != int64(len(bytes.TrimRight(b, " \t\r\n"))) {
		return fmt.Errorf("%w: bytes after the object", ErrMalformed)
	}
	return nil
}

func checkID(id ID) error {
	if id == (ID{}) {
		return fmt.Errorf("%w: id is required", ErrMalformed)
	}
	return nil
}

func checkNodeIDs(what string, ids []string, limit int) error {
	if len(ids) > limit {
		return fmt.Errorf("%w: %d %s, limit %d", ErrMalformed, len(ids), what, limit)
	}
	for _, s := range ids {
		if !validNodeID(s) {
			return fmt.Errorf("%w: %s entry is not a node id", ErrMalformed, what)
		}
	}
	return nil
}

// DecodeGetReply parses a get answer and checks the blob against its id and
// the id asked for.
func DecodeGetReply(b []byte, want ID) (GetHeader, []byte, error) {
	h, blob, err := splitFrame(b)
	if err != nil {
		return GetHeader{}, nil, err
	}
	var gh GetHeader
	if err := decodeStrict(h, &gh); err != nil {
		return GetHeader{}, nil, err
	}
	switch {
	case gh.ID != want:
		return GetHeader{}, nil, fmt.Errorf("%w: answer for %s, asked %s", ErrMalformed, gh.ID, want)
	case gh.Size != int64(len(blob)) || gh.Holders < 1 || gh.Holders > MaxHolders || gh.Target < 1 || gh.Target > MaxHolders:
		return GetHeader{}, nil, fmt.Errorf("%w: get header fields out of range", ErrMalformed)
	case Sum(blob) != want:
		return GetHeader{}, nil, fmt.Errorf("%w: the answer's bytes", ErrHashMismatch)
	}
	return gh, blob, nil
}

// DecodeReplicate parses a replicate body and checks the blob.
func DecodeReplicate(b []byte) (ReplicateHeader, []byte, error) {
	h, blob, err := splitFrame(b)
	if err != nil {
		return ReplicateHeader{}, nil, err
	}
	var rh ReplicateHeader
	if err := decodeStrict(h, &rh); err != nil {
		return ReplicateHeader{}, nil, err
	}
	if err := checkID(rh.ID); err != nil {
		return ReplicateHeader{}, nil, err
	}
	if len(rh.Owners) == 0 {
		return ReplicateHeader{}, nil, fmt.Errorf("%w: a replica needs an owner", ErrMalformed)
	}
	if err := checkNodeIDs("owners", rh.Owners, MaxOwners); err != nil {
		return ReplicateHeader{}, nil, err
	}
	if err := checkNodeIDs("holders", rh.Holders, MaxHolders); err != nil {
		return ReplicateHeader{}, nil, err
	}
	if Sum(blob) != rh.ID {
		return ReplicateHeader{}, nil, fmt.Errorf("%w: %s", ErrHashMismatch, rh.ID)
	}
	return rh, blob, nil
}

// DecodeIDRequest parses a get, delete or repair body.
func DecodeIDRequest(b []byte) (ID, error) {
	var r IDRequest
	if err := decodeStrict(b, &r); err != nil {
		return ID{}, err
	}
	return r.ID, checkID(r.ID)
}

// DecodeHasRequest parses a has or peerhas body: 1..MaxBatch ids.
func DecodeHasRequest(b []byte) ([]ID, error) {
	var r HasRequest
	if err := decodeStrict(b, &r); err != nil {
		return nil, err
	}
	if len(r.IDs) == 0 || len(r.IDs) > MaxBatch {
		return nil, fmt.Errorf("%w: %d ids, want 1..%d", ErrMalformed, len(r.IDs), MaxBatch)
	}
	for _, id := range r.IDs {
		if err := checkID(id); err != nil {
			return nil, err
		}
	}
	return r.IDs, nil
}

// DecodeHasReply parses a has answer; every held id must have been asked.
func DecodeHasReply(b []byte, asked []ID) ([]ID, error) {
	var r HasReply
	if err := decodeStrict(b, &r); err != nil {
		return nil, err
	}
	set := make(map[ID]bool, len(asked))
	for _, id := range asked {
		set[id] = true
	}
	if len(r.Held) > len(asked) {
		return nil, fmt.Errorf("%w: more ids held than asked", ErrMalformed)
	}
	for _, id := range r.Held {
		if !set[id] {
			return nil, fmt.Errorf("%w: held id %s was not asked", ErrMalformed, id)
		}
	}
	return r.Held, nil
}

// DecodePutReply parses a put answer for id.
func DecodePutReply(b []byte, want ID) (PutReply, error) {
	var r PutReply
	if err := decodeStrict(b, &r); err != nil {
		return r, err
	}
	if r.ID != want || r.Size < 0 || r.Size > MaxBlob || r.Copies < 1 || r.Copies > MaxHolders || r.Target < 1 || r.Target > MaxHolders {
		return PutReply{}, fmt.Errorf("%w: put answer fields out of range", ErrMalformed)
	}
	return r, nil
}

// DecodeDeleteReply parses a delete answer for id.
func DecodeDeleteReply(b []byte, want ID) (DeleteReply, error) {
	var r DeleteReply
	if err := decodeStrict(b, &r); err != nil {
		return r, err
	}
	if r.ID != want {
		return DeleteReply{}, fmt.Errorf("%w: delete answer for another id", ErrMalformed)
	}
	return r, checkNodeIDs("holders", r.Holders, MaxHolders)
}

// DecodeRepairReply parses a repair answer for id.
func DecodeRepairReply(b []byte, want ID) (RepairReply, error) {
	var r RepairReply
	if err := decodeStrict(b, &r); err != nil {
		return r, err
	}
	if r.ID != want || r.Copies < 0 || r.Copies > MaxHolders || r.Target < 1 || r.Target > MaxHolders {
		return RepairReply{}, fmt.Errorf("%w: repair answer fields out of range", ErrMalformed)
	}
	return r, nil
}

// DecodeMembersReply parses a members answer.
func DecodeMembersReply(b []byte) (MembersReply, error) {
	var r MembersReply
	if err := decodeStrict(b, &r); err != nil {
		return r, err
	}
	if len(r.Members) == 0 || len(r.Members) > MaxMembers || r.Target < 1 || r.Target > MaxHolders {
		return MembersReply{}, fmt.Errorf("%w: members answer out of range", ErrMalformed)
	}
	for _, m := range r.Members {
		if !validNodeID(m.ID) || !validAddr(m.Addr) {
			return MembersReply{}, fmt.Errorf("%w: bad member entry", ErrMalformed)
		}
	}
	return r, nil
}

// DecodeHello parses a member announcement.
func DecodeHello(b []byte) (Hello, error) {
	h, err := roster.DecodeHello(b)
	if err != nil {
		return Hello{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return h, nil
}

// DecodeHoldersNote parses a holders note.
func DecodeHoldersNote(b []byte) (HoldersNote, error) {
	var n HoldersNote
	if err := decodeStrict(b, &n); err != nil {
		return n, err
	}
	if err := checkID(n.ID); err != nil {
		return HoldersNote{}, err
	}
	return n, checkNodeIDs("holders", n.Holders, MaxHolders)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only our own fixed types are encoded
	}
	return b
}
