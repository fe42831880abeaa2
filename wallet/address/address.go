package address

import (
	"fmt"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// Version bytes of the two address kinds.
const (
	VersionMUID byte = 0x00 // Bitcoin mainnet P2PKH, used for MUIDs
	VersionDoge byte = 0x1E // Dogecoin mainnet P2PKH ("D…")
)

// parsePublicKey accepts a 33-byte compressed or a 65-byte uncompressed
// (0x04) point. Hybrid 0x06/0x07 encodings are refused.
func parsePublicKey(pub []byte) (*secp256k1.PublicKey, error) {
	switch {
	case len(pub) == 33:
	case len(pub) == 65 && pub[0] == secp256k1.PubKeyFormatUncompressed:
	default:
		return nil, fmt.Errorf("%w: want 33-byte compressed or 65-byte uncompressed, got %d bytes", ErrInvalidPublicKey, len(pub))
	}
	key, err := secp256k1.ParsePubKey(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidPublicKey, err)
	}
	return key, nil
}

// MUID returns the BorgIOS identity address of a public key. pub is a 65-byte
// uncompressed key or a 33-byte compressed one; the MUID is always computed
// over the uncompressed form, so both inputs give the same MUID (the legacy
// rule: a compressed-key hash would be a different, wrong address).
func MUID(pub []byte) (string, error) {
	key, err := parsePublicKey(pub)
	if err != nil {
		return "", err
	}
	h := Hash160(key.SerializeUncompressed())
	return Base58CheckEncode(VersionMUID, h[:]), nil
}

// BorgDoge returns the Dogecoin P2PKH address of a public key: version 0x1E
// over the hash of the compressed key, whichever form pub is given in.
func BorgDoge(pub []byte) (string, error) {
	key, err := parsePublicKey(pub)
	if err != nil {
		return "", err
	}
	h := Hash160(key.SerializeCompressed())
	return Base58CheckEncode(VersionDoge, h[:]), nil
}

// ParseMUID validates a MUID (Base58Check, version 0x00, 20-byte hash) and
// returns its hash.
func ParseMUID(s string) ([20]byte, error) {
	return parseP2PKH(s, VersionMUID)
}

// ParseBorgDoge validates a Dogecoin P2PKH address (version 0x1E) and returns
// its hash.
func ParseBorgDoge(s string) ([20]byte, error) {
	return parseP2PKH(s, VersionDoge)
}

func parseP2PKH(s string, want byte) ([20]byte, error) {
	var h [20]byte
	version, payload, err := Base58CheckDecode(s)
	if err != nil {
		return h, err
	}
	if version != want {
		return h, fmt.Errorf("%w: got 0x%02x, want 0x%02x", ErrWrongVersion, version, want)
	}
	if len(payload) != len(h) {
		return h, fmt.Errorf("%w: got %d", ErrInvalidLength, len(payload))
	}
	copy(h[:], payload)
	return h, nil
}
