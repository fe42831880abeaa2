package address

import (
	"encoding/hex"
	"testing"
)

type identityFile struct {
	Vectors []struct {
		PublicKeyCompressed   string `json:"publicKeyCompressed"`
		PublicKeyUncompressed string `json:"publicKeyUncompressed"`
		MUID                  string `json:"muid"`
		BorgDogeAddress       string `json:"borgDogeAddress"`
	} `json:"vectors"`
}

type legacyFile struct {
	Keys []struct {
		PublicKeyUncompressed       string `json:"publicKeyUncompressed"`
		MUID                        string `json:"muid"`
		MUIDIfCompressedKeyWereUsed string `json:"muidIfCompressedKeyWereUsed"`
		WalletCipher                string `json:"walletCipher"`
	} `json:"keys"`
	PeerTreeEnvelopeSignatures []struct {
		PublicKeyUncompressed string `json:"publicKeyUncompressed"`
		MUID                  string `json:"muid"`
	} `json:"peerTreeEnvelopeSignatures"`
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex in vector: %v", err)
	}
	return b
}
