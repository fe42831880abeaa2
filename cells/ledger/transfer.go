package ledger

import (
	"crypto/sha256"
	"fmt"
	"github.com/borgios/borghui/cells/internal/jcs"
	"strconv"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"

	"github.com/borgios/borghui/signer"
	"github.com/borgios/borghui/wallet/address"
)

// TransferDomain starts the canonical bytes of a transfer.
const TransferDomain = "BorgIOS/v1/ledger-transfer\n"

// MaxMemo bounds a transfer's memo, in bytes of UTF-8.
const MaxMemo = 140

// Transfer moves Amount from the account of the key From to the account To
// (a MUID), paying Fee to the producer of the block that applies it. It is
// signed by From; see doc.go for the exact signed bytes.
type Transfer struct {
	From   PubKey `json:"from"`   // the sender's identity key; its MUID is the debited account
	To     string `json:"to"`     // the recipient's MUID
	Amount Amount `json:"amount"` // > 0
	Fee    Amount `json:"fee"`    // ≥ 0, to the block producer
	Seq    uint64 `json:"seq"`    // the sender's previous applied seq + 1 (1 for a first transfer)
	Time   int64  `json:"time"`   // ms since the Unix epoch, the sender's clock (informational)
	Memo   string `json:"memo"`   // ≤ MaxMemo bytes of UTF-8, no control characters
	Sig    Sig    `json:"sig"`    // DER ECDSA by From over ID()

	sender string // MUID of From, set by check
}

// Canonical returns the bytes the sender signs: TransferDomain then the
// transfer's members but sig as RFC 8785 JSON.
func (t *Transfer) Canonical() []byte {
	b := make([]byte, 0, 320+len(t.Memo))
	b = append(b, TransferDomain...)
	b = append(b, `{"amount":"`...)
	b = appendAmount(b, t.Amount)
	b = append(b, `","fee":"`...)
	b = appendAmount(b, t.Fee)
	b = append(b, `","from":"`...)
	b = append(b, t.From.String()...)
	b = append(b, `","memo":`...)
	b = jcs.AppendString(b, t.Memo)
	b = append(b, `,"seq":`...)
	b = strconv.AppendUint(b, t.Seq, 10)
	b = append(b, `,"time":`...)
	b = strconv.AppendInt(b, t.Time, 10)
	b = append(b, `,"to":`...)
	b = jcs.AppendString(b, t.To)
	return append(b, '}')
}

// ID is SHA-256 of Canonical(): the digest the sender signs and the
// transfer's name in statuses, indexes and blocks. It does not cover the
// signature, so a re-encoded (high-S) signature does not make a new
// transfer.
func (t *Transfer) ID() Hash { return sha256.Sum256(t.Canonical()) }

// Sender returns the MUID of the sending account (of From).
func (t *Transfer) Sender() (string, error) {
	if t.sender != "" {
		return t.sender, nil
	}
	m, err := address.MUID(t.From[:])
	if err != nil {
		return "", fmt.Errorf("%w: sender key: %w", ErrMalformed, err)
	}
	return m, nil
}

// check validates everything that needs no signature check: forms,
// ranges, the recipient's MUID, the sender's key being a curve point,
// no transfer to oneself. It records the sender's MUID.
func (t *Transfer) check() error {
	switch {
	case t.From[0] != 0x04:
		return fmt.Errorf("%w: transfer sender is not an uncompressed key", ErrMalformed)
	case t.Amount == 0:
		return fmt.Errorf("%w: transfer amount must be positive", ErrMalformed)
	case t.Amount > GenesisSupply:
		return fmt.Errorf("%w: transfer amount above the total supply", ErrMalformed)
	case t.Fee > GenesisSupply:
		return fmt.Errorf("%w: transfer fee above the total supply", ErrMalformed)
	case t.Seq < 1 || t.Seq > MaxInteger:
		return fmt.Errorf("%w: transfer seq %d not in 1..2^53-1", ErrMalformed, t.Seq)
	case t.Time < 0 || t.Time > MaxInteger:
		return fmt.Errorf("%w: transfer time out of range", ErrMalformed)
	case !validMemo(t.Memo):
		return fmt.Errorf("%w: memo is not ≤ %d bytes of UTF-8 without control characters", ErrMalformed, MaxMemo)
	case len(t.Sig) < minSigLen || len(t.Sig) > maxSigLen:
		return fmt.Errorf("%w: transfer signature length %d", ErrMalformed, len(t.Sig))
	}
	if _, err := address.ParseMUID(t.To); err != nil || len(t.To) > maxMUIDLen {
		return fmt.Errorf("%w: recipient is not a MUID", ErrMalformed)
	}
	from, err := address.MUID(t.From[:])
	if err != nil {
		return fmt.Errorf("%w: sender key is not a secp256k1 point", ErrMalformed)
	}
	if from == t.To {
		return fmt.Errorf("%w: a transfer to the sender's own account", ErrMalformed)
	}
	if t.sender != from { // no write when already set: transfers are shared read-only
		t.sender = from
	}
	return nil
}

// maxMUIDLen bounds a MUID's text (Base58Check of 21 bytes is 25..34
// characters).
const maxMUIDLen = 40

// Verify checks the transfer's form and its signature by From (high-S
// accepted). It says nothing about balances or sequence numbers.
func (t *Transfer) Verify() error {
	if err := t.check(); err != nil {
		return err
	}
	return verifySig(t.From[:], t.ID(), t.Sig)
}

// Sign sets t.From to k's public key and signs t with it (low-S DER).
func (t *Transfer) Sign(k signer.Key) error {
	from, err := PubKeyOf(k.PublicKey())
	if err != nil {
		return err
	}
	t.From = from
	t.Sig = make(Sig, minSigLen) // a placeholder so check passes; not signed
	if err := t.check(); err != nil {
		t.Sig = nil
		return err
	}
	t.Sig, err = signLowS(k, t.ID())
	return err
}

// NewTransfer builds and signs a transfer of amount (nano-shells) plus fee
// from key's account to the MUID to, with the account's next seq (its last
// applied seq + 1, counting the caller's own pending transfers) and memo.
func NewTransfer(key signer.Key, to string, amount, fee uint64, seq uint64, now time.Time, memo string) (*Transfer, error) {
	if key == nil {
		return nil, fmt.Errorf("%w: a key is required", ErrMalformed)
	}
	t := &Transfer{To: to, Amount: Amount(amount), Fee: Amount(fee), Seq: seq, Time: now.UnixMilli(), Memo: memo}
	if err := t.Sign(key); err != nil {
		return nil, err
	}
	return t, nil
}

// Encode returns the transfer's JSON wire form.
func (t *Transfer) Encode() ([]byte, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	return mustJSON(t), nil
}

// DecodeTransfer parses a transfer's JSON strictly and checks its form
// (not its signature: Verify).
func DecodeTransfer(b []byte) (*Transfer, error) {
	var t Transfer
	if err := decodeStrict(b, MaxRequest, &t); err != nil {
		return nil, err
	}
	if err := t.check(); err != nil {
		return nil, err
	}
	return &t, nil
}

// MUIDOf returns the MUID (account) of a 65-byte public key.
func MUIDOf(pub []byte) (string, error) {
	m, err := address.MUID(pub)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return m, nil
}

// signLowS signs digest with k and returns strict low-S DER.
func signLowS(k signer.Key, digest Hash) (Sig, error) {
	der, err := k.Sign(digest)
	if err != nil {
		return nil, fmt.Errorf("ledger: signing: %w", err)
	}
	sig, err := ecdsa.ParseDERSignature(der)
	if err != nil {
		return nil, fmt.Errorf("%w: the key returned a signature that is not strict DER", ErrBadSignature)
	}
	return sig.Serialize(), nil // Serialize always emits low-S
}

// verifySig checks a strict-DER ECDSA signature (high-S accepted) over
// digest by the 65-byte uncompressed key pub.
func verifySig(pub []byte, digest Hash, der []byte) error {
	if len(pub) != PublicKeyLen || pub[0] != 0x04 {
		return fmt.Errorf("%w: key is not 65-byte uncompressed", ErrMalformed)
	}
	k, err := secp256k1.ParsePubKey(pub)
	if err != nil {
		return fmt.Errorf("%w: key is not a secp256k1 point", ErrMalformed)
	}
	sig, err := ecdsa.ParseDERSignature(der)
	if err != nil {
		return fmt.Errorf("%w: not strict DER", ErrBadSignature)
	}
	if !sig.Verify(digest[:], k) {
		return fmt.Errorf("%w: does not verify", ErrBadSignature)
	}
	return nil
}
