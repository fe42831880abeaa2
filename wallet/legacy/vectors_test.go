package legacy

import (
	"encoding/hex"
	"testing"

	"github.com/borgios/borghui/internal/testvec"
)

type legacyKey struct {
	PrivateKey                   string `json:"privateKey"`
	PublicKeyUncompressed        string `json:"publicKeyUncompressed"`
	MUID                         string `json:"muid"`
	MUIDIfCompressedKeyWereUsed  string `json:"muidIfCompressedKeyWereUsed"`
	LegacyMnemonic27             string `json:"legacyMnemonic27"`
	LegacyMnemonic27AlsoAccepted string `json:"legacyMnemonic27AlsoAccepted"`
	WalletCipher                 string `json:"walletCipher"`
	BorgToken                    struct {
		SesTok        string `json:"sesTok"`
		SHA256        string `json:"sha256"`
		SesSig        string `json:"sesSig"`
		SesSigIsHighS bool   `json:"sesSigIsHighS"`
	} `json:"borgToken"`
}

type walletV3Vector struct {
	Passphrase string `json:"passphrase"`
	Salt       string `json:"salt"`
	IV         string `json:"iv"`
	DerivedKey string `json:"derivedKey"`
	Plaintext  string `json:"plaintext"`
	Encrypted  string `json:"encrypted"`
	AuthTag    string `json:"authTag"`
}

type legacyVectors struct {
	Keys         []legacyKey    `json:"keys"`
	WalletFileV3 walletV3Vector `json:"walletFileV3"`
	Envelopes    []struct {
		SignedString          string `json:"signedString"`
		SHA256                string `json:"sha256"`
		PublicKeyUncompressed string `json:"publicKeyUncompressed"`
		Signature             string `json:"signature"`
		SignatureIsHighS      bool   `json:"signatureIsHighS"`
		MUID                  string `json:"muid"`
	} `json:"peerTreeEnvelopeSignatures"`
}

func loadVectors(t testing.TB) legacyVectors {
	t.Helper()
	var v legacyVectors
	testvec.Load(t, "legacy-borghui.json", &v)
	if len(v.Keys) == 0 || v.WalletFileV3.Encrypted == "" || len(v.Envelopes) == 0 {
		t.Fatal("vectors missing")
	}
	return v
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex in vector: %v", err)
	}
	return b
}

func key32(t testing.TB, s string) *[32]byte {
	t.Helper()
	var k [32]byte
	if b := unhex(t, s); len(b) != 32 || copy(k[:], b) != 32 {
		t.Fatalf("vector key %q is not 32 bytes", s)
	}
	return &k
}
