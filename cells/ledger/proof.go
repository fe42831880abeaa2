package ledger

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"math/big"
	"slices"
	"strconv"
	"time"

	"github.com/borgios/borghui/signer"
)

// ProofDomain starts the canonical bytes of a storage proof.
const ProofDomain = "BorgIOS/v1/ledger-storage-proof\n"

// Earning defaults.
const (
	// DefaultRate is the storage reward: 0.001 shells per GiB held for an
	// hour (1,000,000 nano-shells per GiB-hour).
	DefaultRate Amount = 1_000_000
	// DefaultProofPeriod is the window one proof pays for: a holder is
	// challenged (at least) once per window per shard.
	DefaultProofPeriod = time.Hour
	// PayoutMemo is the memo of storage reward transfers.
	PayoutMemo = "storage reward"
	gib        = 1 << 30
	msPerHour  = 3_600_000
)

// Challenge asks a holder to prove it holds the shard Shard (the SHA-256
// of its content) now: it must hash the content behind a fresh random
// nonce, which it cannot do from a hash kept instead of the bytes.
type Challenge struct {
	Shard Hash `json:"shard"`
	Nonce Hash `json:"nonce"`
}

// NewChallenge returns a challenge for shard with a random nonce read from
// r (crypto/rand when nil).
func NewChallenge(shard Hash, r io.Reader) (Challenge, error) {
	if r == nil {
		r = rand.Reader
	}
	c := Challenge{Shard: shard}
	if _, err := io.ReadFull(r, c.Nonce[:]); err != nil {
		return c, fmt.Errorf("ledger: challenge nonce: %w", err)
	}
	return c, nil
}

// Answer is the holder's answer to c for content: SHA-256(nonce ‖ content).
func (c Challenge) Answer(content []byte) Hash {
	h := sha256.New()
	h.Write(c.Nonce[:])
	h.Write(content)
	var out Hash
	h.Sum(out[:0])
	return out
}

// Proof is a holder's signed answer to a challenge: it held Size bytes of
// shard Shard at Time. See doc.go for the signed bytes.
type Proof struct {
	Shard  Hash   `json:"shard"`
	Nonce  Hash   `json:"nonce"`
	Size   uint64 `json:"size"`
	Holder PubKey `json:"holder"`
	Time   int64  `json:"time"`   // ms since the Unix epoch
	Answer Hash   `json:"answer"` // SHA-256(nonce ‖ content)
	Sig    Sig    `json:"sig"`    // by Holder over SHA-256(Canonical())
}

// Prove answers c for content and signs the proof with holder.
func (c Challenge) Prove(holder signer.Key, content []byte, now time.Time) (*Proof, error) {
	k, err := PubKeyOf(holder.PublicKey())
	if err != nil {
		return nil, err
	}
	p := &Proof{Shard: c.Shard, Nonce: c.Nonce, Size: uint64(len(content)), Holder: k,
		Time: now.UnixMilli(), Answer: c.Answer(content)}
	if err := p.checkFields(); err != nil {
		return nil, err
	}
	if p.Sig, err = signLowS(holder, p.Digest()); err != nil {
		return nil, err
	}
	return p, nil
}

// Canonical returns the signed bytes: ProofDomain then RFC 8785 JSON of
// answer, holder, nonce, shard, size and time.
func (p *Proof) Canonical() []byte {
	b := make([]byte, 0, 420)
	b = append(b, ProofDomain...)
	b = append(b, `{"answer":"`...)
	b = append(b, p.Answer.String()...)
	b = append(b, `","holder":"`...)
	b = append(b, p.Holder.String()...)
	b = append(b, `","nonce":"`...)
	b = append(b, p.Nonce.String()...)
	b = append(b, `","shard":"`...)
	b = append(b, p.Shard.String()...)
	b = append(b, `","size":`...)
	b = strconv.AppendUint(b, p.Size, 10)
	b = append(b, `,"time":`...)
	b = strconv.AppendInt(b, p.Time, 10)
	return append(b, '}')
}

// Digest is SHA-256 of Canonical().
func (p *Proof) Digest() Hash { return sha256.Sum256(p.Canonical()) }

func (p *Proof) checkFields() error {
	switch {
	case p.Holder[0] != 0x04:
		return fmt.Errorf("%w: proof holder is not an uncompressed key", ErrMalformed)
	case p.Size > MaxInteger:
		return fmt.Errorf("%w: proof size out of range", ErrMalformed)
	case p.Time < 0 || p.Time > MaxInteger:
		return fmt.Errorf("%w: proof time out of range", ErrMalformed)
	}
	return nil
}

// VerifySignature checks the proof's form and its holder's signature; it
// cannot tell whether the answer is right (that needs the content).
func (p *Proof) VerifySignature() error {
	if err := p.checkFields(); err != nil {
		return err
	}
	if len(p.Sig) < minSigLen || len(p.Sig) > maxSigLen {
		return fmt.Errorf("%w: proof signature length %d", ErrMalformed, len(p.Sig))
	}
	return verifySig(p.Holder[:], p.Digest(), p.Sig)
}

// Verify checks p against the challenge c and the content the verifier
// knows: the same shard and nonce, content that is that shard (its
// SHA-256) of the stated size, the right answer, and the holder's
// signature.
func (p *Proof) Verify(c Challenge, content []byte) error {
	switch {
	case p.Shard != c.Shard || p.Nonce != c.Nonce:
		return fmt.Errorf("%w: the proof answers another challenge", ErrProof)
	case Hash(sha256.Sum256(content)) != c.Shard:
		return fmt.Errorf("%w: the content is not the shard", ErrProof)
	case p.Size != uint64(len(content)):
		return fmt.Errorf("%w: the proof states %d bytes, the shard has %d", ErrProof, p.Size, len(content))
	case p.Answer != c.Answer(content):
		return fmt.Errorf("%w: wrong answer", ErrProof)
	}
	return p.VerifySignature()
}

// DecodeProof parses a proof's JSON strictly and checks its signature.
func DecodeProof(b []byte) (*Proof, error) {
	var p Proof
	if err := decodeStrict(b, MaxRequest, &p); err != nil {
		return nil, err
	}
	if err := p.VerifySignature(); err != nil {
		return nil, err
	}
	return &p, nil
}

// Credit is what the network wallet owes one holder for a set of proofs.
type Credit struct {
	MUID    string
	Amount  Amount
	Windows int // distinct (shard, window) pairs paid
}

// ProofWindow is the period index a proof pays for: Time / period.
func ProofWindow(p *Proof, period time.Duration) uint64 {
	return uint64(p.Time) / uint64(period.Milliseconds())
}

// ComputePayouts turns verified proofs into credits. Each distinct
// (holder, shard, window) — window = Time / period — counts once, for
// Size bytes held during one period; a holder earns
// floor(rate × Σ size×period / (1 GiB × 1 hour)) nano-shells (rate in
// nano-shells per GiB-hour; 0 means DefaultRate). The division is exact
// integer arithmetic; the remainder is not paid. Credits are sorted by
// MUID; holders owed nothing are left out. The caller verifies each proof
// against its content first (Proof.Verify).
func ComputePayouts(proofs []*Proof, rate Amount, period time.Duration) ([]Credit, error) {
	if rate == 0 {
		rate = DefaultRate
	}
	if period <= 0 {
		period = DefaultProofPeriod
	}
	if period.Milliseconds() < 1 {
		return nil, fmt.Errorf("%w: proof period under a millisecond", ErrMalformed)
	}
	type key struct {
		holder PubKey
		shard  Hash
		window uint64
	}
	seen := map[key]bool{}
	byteMs := map[PubKey]*big.Int{}
	windows := map[PubKey]int{}
	periodMs := big.NewInt(period.Milliseconds())
	for _, p := range proofs {
		if p == nil {
			continue
		}
		if err := p.checkFields(); err != nil {
			return nil, err
		}
		k := key{p.Holder, p.Shard, ProofWindow(p, period)}
		if seen[k] {
			continue
		}
		seen[k] = true
		if byteMs[p.Holder] == nil {
			byteMs[p.Holder] = new(big.Int)
		}
		byteMs[p.Holder].Add(byteMs[p.Holder], new(big.Int).Mul(new(big.Int).SetUint64(p.Size), periodMs))
		windows[p.Holder]++
	}
	den := big.NewInt(gib * msPerHour)
	var out []Credit
	for holder, bm := range byteMs {
		n := new(big.Int).Mul(bm, new(big.Int).SetUint64(uint64(rate)))
		n.Quo(n, den)
		if n.Sign() == 0 {
			continue
		}
		if !n.IsUint64() || n.Uint64() > uint64(GenesisSupply) {
			return nil, fmt.Errorf("%w: a payout above the total supply", ErrInvalid)
		}
		m, err := MUIDOf(holder[:])
		if err != nil {
			return nil, err
		}
		out = append(out, Credit{MUID: m, Amount: Amount(n.Uint64()), Windows: windows[holder]})
	}
	slices.SortFunc(out, func(a, b Credit) int {
		switch {
		case a.MUID < b.MUID:
			return -1
		case a.MUID > b.MUID:
			return 1
		}
		return 0
	})
	return out, nil
}

// PayoutTransfers makes one signed transfer per credit from the network
// wallet (network), with seqs firstSeq, firstSeq+1, … and no fee. A credit
// to the network wallet itself is skipped.
func PayoutTransfers(network signer.Key, credits []Credit, firstSeq uint64, now time.Time) ([]*Transfer, error) {
	self, err := MUIDOf(network.PublicKey())
	if err != nil {
		return nil, err
	}
	var out []*Transfer
	seq := firstSeq
	for _, c := range credits {
		if c.MUID == self || c.Amount == 0 {
			continue
		}
		t, err := NewTransfer(network, c.MUID, uint64(c.Amount), 0, seq, now, PayoutMemo)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
		seq++
	}
	return out, nil
}
