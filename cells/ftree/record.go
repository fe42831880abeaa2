package ftree

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"strconv"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"

	"github.com/borgios/borghui/signer"
)

// RootDomain starts the canonical bytes of a root record.
const RootDomain = "BorgIOS/v1/ftree-root\n"

// RootRecord is one version of an owner's root: a signed pointer to the
// owner's encrypted root manifest. See doc.go for the exact signed bytes.
type RootRecord struct {
	Owner     PubKey `json:"owner"`    // the owner's identity key
	Version   uint64 `json:"version"`  // 1, 2, 3, ...
	Prev      Hash   `json:"prev"`     // Hash() of version-1; zero for version 1
	Manifest  Hash   `json:"manifest"` // shard id of the encrypted root manifest
	Size      uint64 `json:"size"`     // its ciphertext size in bytes
	Time      int64  `json:"time"`     // ms since the Unix epoch, as the owner saw it
	Signature Sig    `json:"sig"`      // DER ECDSA by Owner over Hash()
}

// Canonical returns the bytes the owner signs: RootDomain then the
// record's members but sig as RFC 8785 JSON.
func (r *RootRecord) Canonical() []byte {
	b := make([]byte, 0, 400)
	b = append(b, RootDomain...)
	b = append(b, `{"manifest":"`...)
	b = append(b, r.Manifest.String()...)
	b = append(b, `","owner":"`...)
	b = append(b, r.Owner.String()...)
	b = append(b, `","prev":"`...)
	b = append(b, r.Prev.String()...)
	b = append(b, `","size":`...)
	b = strconv.AppendUint(b, r.Size, 10)
	b = append(b, `,"time":`...)
	b = strconv.AppendInt(b, r.Time, 10)
	b = append(b, `,"version":`...)
	b = strconv.AppendUint(b, r.Version, 10)
	return append(b, '}')
}

// Hash is SHA-256 of Canonical(): the digest the owner signs and the value
// the next version carries as Prev. It does not cover the signature, so a
// re-encoded (high-S) signature does not change a record's identity.
func (r *RootRecord) Hash() Hash { return sha256.Sum256(r.Canonical()) }

// check validates the fields that need no curve arithmetic.
func (r *RootRecord) check() error {
	switch {
	case r.Owner[0] != 0x04:
		return fmt.Errorf("%w: record owner is not an uncompressed key", ErrMalformed)
	case r.Version < 1 || r.Version > MaxInteger:
		return fmt.Errorf("%w: record version %d not in 1..2^53-1", ErrMalformed, r.Version)
	case r.Version == 1 && !r.Prev.IsZero():
		return fmt.Errorf("%w: version 1 carries a previous hash", ErrMalformed)
	case r.Version > 1 && r.Prev.IsZero():
		return fmt.Errorf("%w: version %d has no previous hash", ErrMalformed, r.Version)
	case r.Manifest.IsZero():
		return fmt.Errorf("%w: record has no manifest", ErrMalformed)
	case r.Size > MaxInteger:
		return fmt.Errorf("%w: manifest size out of range", ErrMalformed)
	case r.Time < 0 || r.Time > MaxInteger:
		return fmt.Errorf("%w: record time out of range", ErrMalformed)
	case len(r.Signature) < minSigLen || len(r.Signature) > maxSigLen:
		return fmt.Errorf("%w: record signature length %d", ErrMalformed, len(r.Signature))
	}
	return nil
}

// Verify checks the record's form and its signature by its owner (high-S
// accepted). It says nothing about where the record sits in a chain.
func (r *RootRecord) Verify() error {
	if err := r.check(); err != nil {
		return err
	}
	h := r.Hash()
	return verifySig(r.Owner[:], h, r.Signature)
}

// Sign sets r.Owner to k's public key and signs r with it (low-S).
func (r *RootRecord) Sign(k signer.Key) error {
	owner, err := PubKeyOf(k.PublicKey())
	if err != nil {
		return err
	}
	r.Owner = owner
	r.Signature = nil
	r.Signature, err = signLowS(k, r.Hash())
	if err != nil {
		return err
	}
	return r.check()
}

// NextRoot builds and signs the version after cur (version 1 when cur is
// nil) pointing at manifest, a ciphertext of size bytes. cur must be a
// record of the same owner.
func NextRoot(owner signer.Key, cur *RootRecord, manifest Hash, size uint64, now time.Time) (*RootRecord, error) {
	r := &RootRecord{Version: 1, Manifest: manifest, Size: size, Time: now.UnixMilli()}
	if cur != nil {
		if !bytes.Equal(cur.Owner[:], owner.PublicKey()) {
			return nil, fmt.Errorf("%w: the current record belongs to another owner", ErrForbidden)
		}
		r.Version, r.Prev = cur.Version+1, cur.Hash()
	}
	if err := r.Sign(owner); err != nil {
		return nil, fmt.Errorf("ftree: signing root: %w", err)
	}
	return r, nil
}

// Newest returns the record of owner with the highest version among recs
// that verify (the answers of several nodes); nil when none does. Between
// two valid records of the same version (a fork no node should have
// accepted) it keeps the one with the lower hash, so every reader picks
// the same.
func Newest(owner PubKey, recs ...*RootRecord) *RootRecord {
	var best *RootRecord
	for _, r := range recs {
		if r == nil || r.Owner != owner || r.Verify() != nil {
			continue
		}
		if best == nil || r.Version > best.Version {
			best = r
			continue
		}
		if r.Version == best.Version {
			if rh, bh := r.Hash(), best.Hash(); string(rh[:]) < string(bh[:]) {
				best = r
			}
		}
	}
	return best
}

// signLowS signs digest with k and returns strict low-S DER.
func signLowS(k signer.Key, digest Hash) (Sig, error) {
	der, err := k.Sign(digest)
	if err != nil {
		return nil, err
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

func signDigest(p *secp256k1.PrivateKey, digest [32]byte) []byte {
	return ecdsa.Sign(p, digest[:]).Serialize()
}
