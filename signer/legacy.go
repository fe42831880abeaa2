package signer

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
)

// Legacy verifiers for data made by the borgHUI / PeerTree reference code:
// ECDSA-secp256k1 over SHA-256 of a UTF-8 string, DER, S not normalised.
// They check authenticity only: no freshness, no replay, no binding to a
// payload. Use them for imports and interop, never to authorise a v1 action.

// VerifyLegacy checks sigDER, a strict-DER ECDSA signature (high-S
// accepted), over SHA-256(message) by pub (65-byte uncompressed or 33-byte
// compressed). Errors wrap ErrMalformed (bad key) or ErrBadSignature.
func VerifyLegacy(message string, sigDER []byte, pub []byte) error {
	k, err := parseAnyKey(pub)
	if err != nil {
		return err
	}
	d := sha256.Sum256([]byte(message))
	if err := verifyDER(k, d[:], sigDER); err != nil {
		return err
	}
	return nil
}

// VerifyPeerTree checks a PeerTree core-message signature: the reference
// signs signerIP followed by the decimal msgTime (no separator). It proves
// only that the key holder once signed that IP and time.
func VerifyPeerTree(signerIP string, msgTime int64, sigDER, pub []byte) error {
	return VerifyLegacy(signerIP+strconv.FormatInt(msgTime, 10), sigDER, pub)
}

// BorgToken is the borgHUI client token {reqId, reqTime, Address, sesTok,
// pubKey, sesSig}; pubKey and sesSig are lowercase hex.
type BorgToken struct {
	ReqID   string `json:"reqId"`
	ReqTime int64  `json:"reqTime"`
	Address string `json:"Address"`
	SesTok  string `json:"sesTok"`
	PubKey  string `json:"pubKey"`
	SesSig  string `json:"sesSig"`
}

// VerifyBorgToken checks a borgToken: sesTok == Address-reqTime-reqId,
// Address == muidOf(pubKey), and sesSig is pubKey's signature of sesTok.
// muidOf computes the MUID (Base58Check P2PKH) of a public key; it lives in
// the wallet, which this package may not import, so the caller passes it
// and it is required. Freshness (the reference used about ±175 s) and
// replay (Address:reqId) are the caller's; the token binds no payload.
func VerifyBorgToken(t *BorgToken, muidOf func(pub []byte) (string, error)) error {
	if t == nil || muidOf == nil {
		return fmt.Errorf("%w: borgToken: nil token or muidOf", ErrMalformed)
	}
	if want := t.Address + "-" + strconv.FormatInt(t.ReqTime, 10) + "-" + t.ReqID; t.SesTok != want {
		return fmt.Errorf("%w: borgToken: sesTok is not Address-reqTime-reqId", ErrMalformed)
	}
	pub, err := hex.DecodeString(t.PubKey)
	if err != nil {
		return fmt.Errorf("%w: borgToken: pubKey is not hex", ErrMalformed)
	}
	sig, err := hex.DecodeString(t.SesSig)
	if err != nil {
		return fmt.Errorf("%w: borgToken: sesSig is not hex", ErrMalformed)
	}
	muid, err := muidOf(pub)
	if err != nil {
		return fmt.Errorf("%w: borgToken: address of pubKey: %v", ErrMalformed, err)
	}
	if muid != t.Address {
		return fmt.Errorf("%w: borgToken: Address is not the MUID of pubKey", ErrUnexpected)
	}
	return VerifyLegacy(t.SesTok, sig, pub)
}
