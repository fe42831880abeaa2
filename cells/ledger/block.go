package ledger

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"runtime"
	"strconv"
	"sync"

	"github.com/borgios/borghui/signer"
)

// Domains of the block encodings.
const (
	BlockDomain   = "BorgIOS/v1/ledger-block\n"
	TxListDomain  = "BorgIOS/v1/ledger-transfers\n"
	StateDomain   = "BorgIOS/v1/ledger-state\n"
	genesisHeight = 0
)

// Block limits.
const (
	// MaxBlockTransfers bounds the transfers of one block.
	MaxBlockTransfers = 500
	// MaxBlockBytes bounds a block's JSON encoding.
	MaxBlockBytes = 1 << 20
)

// Block is one step of the chain: transfers applied in order on top of the
// block Prev, and the hash of the resulting state. It is signed by its
// producer, the root of the ledger tree when it was made. The genesis block
// (height 0) is never sent: every node computes it from the network
// wallet's key (Genesis).
type Block struct {
	Height    uint64      `json:"height"`
	Prev      Hash        `json:"prev"`
	Time      int64       `json:"time"` // ms since the Unix epoch, producer's clock; never decreases
	Producer  PubKey      `json:"producer"`
	State     Hash        `json:"state"` // StateHash after applying the transfers
	Transfers []*Transfer `json:"transfers"`
	Sig       Sig         `json:"sig"`
}

// TxRoot is SHA-256(TxListDomain ‖ id_1 ‖ … ‖ id_n) over the raw 32-byte
// transfer ids in block order.
func TxRoot(ids []Hash) Hash {
	h := sha256.New()
	h.Write([]byte(TxListDomain))
	for _, id := range ids {
		h.Write(id[:])
	}
	var out Hash
	h.Sum(out[:0])
	return out
}

// IDs returns the ids of the block's transfers in order.
func (b *Block) IDs() []Hash {
	ids := make([]Hash, len(b.Transfers))
	for i, t := range b.Transfers {
		ids[i] = t.ID()
	}
	return ids
}

// Canonical returns the bytes the producer signs, given the transfer ids:
// BlockDomain then RFC 8785 JSON of count, height, prev, producer, state,
// time and transfers (the TxRoot).
func (b *Block) canonical(ids []Hash) []byte {
	buf := make([]byte, 0, 400)
	buf = append(buf, BlockDomain...)
	buf = append(buf, `{"count":`...)
	buf = strconv.AppendInt(buf, int64(len(ids)), 10)
	buf = append(buf, `,"height":`...)
	buf = strconv.AppendUint(buf, b.Height, 10)
	buf = append(buf, `,"prev":"`...)
	buf = append(buf, b.Prev.String()...)
	buf = append(buf, `","producer":"`...)
	buf = append(buf, b.Producer.String()...)
	buf = append(buf, `","state":"`...)
	buf = append(buf, b.State.String()...)
	buf = append(buf, `","time":`...)
	buf = strconv.AppendInt(buf, b.Time, 10)
	buf = append(buf, `,"transfers":"`...)
	r := TxRoot(ids)
	buf = append(buf, r.String()...)
	return append(buf, `"}`...)
}

// Canonical returns the signed bytes of the block's header.
func (b *Block) Canonical() []byte { return b.canonical(b.IDs()) }

// Hash is SHA-256 of Canonical(): the block's name, what the producer
// signs and what the next block carries as Prev.
func (b *Block) Hash() Hash { return sha256.Sum256(b.Canonical()) }

func (b *Block) hashWith(ids []Hash) Hash { return sha256.Sum256(b.canonical(ids)) }

// check validates the block's form without signatures or state: ranges,
// 1..MaxBlockTransfers well-formed transfers, no transfer twice.
func (b *Block) check() error {
	switch {
	case b.Height < 1 || b.Height > MaxInteger:
		return fmt.Errorf("%w: block height %d not in 1..2^53-1", ErrMalformed, b.Height)
	case b.Time < 0 || b.Time > MaxInteger:
		return fmt.Errorf("%w: block time out of range", ErrMalformed)
	case b.Producer[0] != 0x04:
		return fmt.Errorf("%w: block producer is not an uncompressed key", ErrMalformed)
	case len(b.Transfers) < 1 || len(b.Transfers) > MaxBlockTransfers:
		return fmt.Errorf("%w: block of %d transfers, want 1..%d", ErrMalformed, len(b.Transfers), MaxBlockTransfers)
	case len(b.Sig) < minSigLen || len(b.Sig) > maxSigLen:
		return fmt.Errorf("%w: block signature length %d", ErrMalformed, len(b.Sig))
	}
	seen := make(map[Hash]bool, len(b.Transfers))
	for _, t := range b.Transfers {
		if t == nil {
			return fmt.Errorf("%w: null transfer in block", ErrMalformed)
		}
		if err := t.check(); err != nil {
			return err
		}
		id := t.ID()
		if seen[id] {
			return fmt.Errorf("%w: transfer %s twice in one block", ErrMalformed, id)
		}
		seen[id] = true
	}
	return nil
}

// VerifySignatures checks the producer's signature over the block hash and
// every transfer's signature by its sender (in parallel).
func (b *Block) VerifySignatures() error {
	if err := b.check(); err != nil {
		return err
	}
	ids := b.IDs()
	if err := verifySig(b.Producer[:], b.hashWith(ids), b.Sig); err != nil {
		return fmt.Errorf("block %d producer: %w", b.Height, err)
	}
	return verifyTransfers(b.Transfers, ids, nil)
}

// verifyTransfers checks the signatures of ts (whose ids are ids), spread
// over the CPUs for a large batch. Signatures in cache are taken as
// checked; the others are added to it once they verify.
func verifyTransfers(ts []*Transfer, ids []Hash, cache *sigCache) error {
	if cache != nil {
		var unchecked []*Transfer
		var uncheckedIDs []Hash
		for i, t := range ts {
			if !cache.has(ids[i], t.Sig) {
				unchecked = append(unchecked, t)
				uncheckedIDs = append(uncheckedIDs, ids[i])
			}
		}
		if err := verifyTransfers(unchecked, uncheckedIDs, nil); err != nil {
			return err
		}
		for i, t := range unchecked {
			cache.add(uncheckedIDs[i], t.Sig)
		}
		return nil
	}
	workers := min(runtime.GOMAXPROCS(0), (len(ts)+31)/32)
	if workers <= 1 {
		for i, t := range ts {
			if err := verifySig(t.From[:], ids[i], t.Sig); err != nil {
				return fmt.Errorf("transfer %s: %w", ids[i], err)
			}
		}
		return nil
	}
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(ts); i += workers {
				if err := verifySig(ts[i].From[:], ids[i], ts[i].Sig); err != nil {
					errs[w] = fmt.Errorf("transfer %s: %w", ids[i], err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// sign sets the producer to k's key and signs the block (low-S).
func (b *Block) sign(k signer.Key, ids []Hash) error {
	p, err := PubKeyOf(k.PublicKey())
	if err != nil {
		return err
	}
	b.Producer = p
	b.Sig, err = signLowS(k, b.hashWith(ids))
	return err
}

// Encode returns the block's JSON wire form.
func (b *Block) Encode() ([]byte, error) {
	if err := b.check(); err != nil {
		return nil, err
	}
	out, err := json.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("ledger: encoding block: %w", err)
	}
	if len(out) > MaxBlockBytes {
		return nil, fmt.Errorf("%w: block of %d bytes, limit %d", ErrMalformed, len(out), MaxBlockBytes)
	}
	return out, nil
}

// DecodeBlock parses a block's JSON strictly and checks its form (not its
// signatures nor its place in a chain).
func DecodeBlock(b []byte) (*Block, error) {
	var blk Block
	if err := decodeStrict(b, MaxBlockBytes, &blk); err != nil {
		return nil, err
	}
	if err := blk.check(); err != nil {
		return nil, err
	}
	return &blk, nil
}

// Genesis returns the genesis block of the network whose wallet key is
// network: height 0, no parent, time 0, producer = the network key, no
// transfers, no signature, and the state where the network wallet's MUID
// holds GenesisSupply at seq 0. Every node computes the same.
func Genesis(network PubKey) (*Block, error) {
	m, err := MUIDOf(network[:])
	if err != nil {
		return nil, err
	}
	st := newState()
	st.acc[m] = Account{Balance: GenesisSupply}
	st.keys = []string{m}
	h, total, err := st.digest()
	if err != nil {
		return nil, err
	}
	if total != GenesisSupply {
		return nil, fmt.Errorf("%w: genesis supply", ErrCorrupt)
	}
	return &Block{Height: genesisHeight, Producer: network, State: h}, nil
}
