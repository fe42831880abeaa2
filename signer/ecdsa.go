package signer

import (
	"fmt"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
)

// parseSender parses a 65-byte uncompressed public key. Hybrid (0x06/0x07)
// and compressed forms are refused so one key has one encoding.
func parseSender(pub []byte) (*secp256k1.PublicKey, error) {
	if len(pub) != PublicKeyLen || pub[0] != 0x04 {
		return nil, fmt.Errorf("%w: public key is not 65-byte uncompressed", ErrMalformed)
	}
	k, err := secp256k1.ParsePubKey(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: public key is not a secp256k1 point", ErrMalformed)
	}
	return k, nil
}

// parseAnyKey parses an uncompressed (65-byte) or compressed (33-byte) key,
// as found in legacy data.
func parseAnyKey(pub []byte) (*secp256k1.PublicKey, error) {
	if len(pub) == 33 && (pub[0] == 0x02 || pub[0] == 0x03) {
		k, err := secp256k1.ParsePubKey(pub)
		if err != nil {
			return nil, fmt.Errorf("%w: public key is not a secp256k1 point", ErrMalformed)
		}
		return k, nil
	}
	return parseSender(pub)
}

// verifyDER checks a strict-DER signature over digest. High-S is accepted.
// Non-DER input (overlong lengths, padding, trailing bytes, out-of-range
// r or s) is ErrBadSignature.
func verifyDER(pub *secp256k1.PublicKey, digest []byte, der []byte) error {
	sig, err := ecdsa.ParseDERSignature(der)
	if err != nil {
		return fmt.Errorf("%w: not strict DER", ErrBadSignature)
	}
	if !sig.Verify(digest, pub) {
		return fmt.Errorf("%w: does not verify", ErrBadSignature)
	}
	return nil
}

// lowS returns der in strict DER with s replaced by n-s when s > n/2.
func lowS(der []byte) ([]byte, error) {
	sig, err := ecdsa.ParseDERSignature(der)
	if err != nil {
		return nil, fmt.Errorf("%w: key returned a signature that is not strict DER", ErrBadSignature)
	}
	if s := sig.S(); !s.IsOverHalfOrder() {
		return append([]byte(nil), der...), nil
	}
	return sig.Serialize(), nil // Serialize always emits low-S
}
