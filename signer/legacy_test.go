package signer

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/borgios/borghui/internal/testvec"
)

type legacyVectors struct {
	Keys []struct {
		PrivateKey            string `json:"privateKey"`
		PublicKeyUncompressed string `json:"publicKeyUncompressed"`
		MUID                  string `json:"muid"`
		BorgToken             struct {
			SesTok        string `json:"sesTok"`
			SesSig        string `json:"sesSig"`
			SesSigIsHighS bool   `json:"sesSigIsHighS"`
		} `json:"borgToken"`
	} `json:"keys"`
	PeerTree []struct {
		SignedString string `json:"signedString"`
		SHA256       string `json:"sha256"`
		PublicKey    string `json:"publicKeyUncompressed"`
		Signature    string `json:"signature"`
		HighS        bool   `json:"signatureIsHighS"`
		MUID         string `json:"muid"`
	} `json:"peerTreeEnvelopeSignatures"`
}

// muidTable stands in for the wallet's MUID function, which signer may not
// import: it maps the vectors' public keys to their MUIDs.
func muidTable(m map[string]string) func([]byte) (string, error) {
	return func(pub []byte) (string, error) {
		if a, ok := m[hex.EncodeToString(pub)]; ok {
			return a, nil
		}
		return "", fmt.Errorf("unknown key")
	}
}

// Appendix A token inputs.
const (
	tokReqTime = int64(1700000000000)
	tokReqID   = "00000000-0000-4000-8000-000000000000"
)

func TestVerifyBorgTokenVectors(t *testing.T) {
	var v legacyVectors
	testvec.Load(t, "legacy-borghui.json", &v)
	if len(v.Keys) != 3 {
		t.Fatalf("%d keys in the vectors, want 3", len(v.Keys))
	}
	muids := map[string]string{}
	for _, k := range v.Keys {
		muids[k.PublicKeyUncompressed] = k.MUID
	}
	muidOf := muidTable(muids)
	sawHighS := false
	for _, k := range v.Keys {
		tok := &BorgToken{ReqID: tokReqID, ReqTime: tokReqTime, Address: k.MUID,
			SesTok: k.BorgToken.SesTok, PubKey: k.PublicKeyUncompressed, SesSig: k.BorgToken.SesSig}
		t.Run(k.MUID, func(t *testing.T) {
			if err := VerifyBorgToken(tok, muidOf); err != nil {
				t.Fatalf("VerifyBorgToken: %v", err)
			}
			if isHighS(t, mustHex(t, tok.SesSig)) != k.BorgToken.SesSigIsHighS {
				t.Fatal("high-S flag of the vector disagrees with the signature")
			}
			// The same key signs the same token string with our Key: low-S,
			// and equal to the vector when the vector is low-S (RFC 6979).
			mk := mustKey(t, k.PrivateKey)
			if hex.EncodeToString(mk.PublicKey()) != k.PublicKeyUncompressed {
				t.Fatal("public key differs")
			}
			der, err := mk.Sign(sha256.Sum256([]byte(tok.SesTok)))
			if err != nil {
				t.Fatal(err)
			}
			if !k.BorgToken.SesSigIsHighS && hex.EncodeToString(der) != tok.SesSig {
				t.Fatal("RFC 6979 signature differs from the reference")
			}
			if isHighS(t, der) {
				t.Fatal("MemKey produced high-S")
			}
			bad := []struct {
				name   string
				mutate func(*BorgToken)
				err    error
			}{
				{"reqId changed", func(b *BorgToken) { b.ReqID = "00000000-0000-4000-8000-000000000001" }, ErrMalformed},
				{"reqTime changed", func(b *BorgToken) { b.ReqTime++ }, ErrMalformed},
				{"sesTok and reqTime changed", func(b *BorgToken) {
					b.ReqTime++
					b.SesTok = b.Address + "-" + strconv.FormatInt(b.ReqTime, 10) + "-" + b.ReqID
				}, ErrBadSignature},
				{"address of another key", func(b *BorgToken) { b.Address = "1BShhoWbKX5JE29v46mb1awpqyAzp4XTb7" }, ErrMalformed},
				{"signature of another key", func(b *BorgToken) {
					for _, o := range v.Keys {
						if o.MUID != b.Address {
							b.SesSig = o.BorgToken.SesSig
						}
					}
				}, ErrBadSignature},
				{"sesSig not hex", func(b *BorgToken) { b.SesSig = "zz" }, ErrMalformed},
				{"pubKey not hex", func(b *BorgToken) { b.PubKey = "zz" }, ErrMalformed},
				{"pubKey unknown to muidOf", func(b *BorgToken) { b.PubKey = v.PeerTree[0].PublicKey }, ErrMalformed},
			}
			for _, tc := range bad {
				b := *tok
				tc.mutate(&b)
				if err := VerifyBorgToken(&b, muidOf); !errors.Is(err, tc.err) || strings.Count(err.Error(), "signer:") != 1 {
					t.Errorf("%s: %v, want %v", tc.name, err, tc.err)
				}
			}
			// Address that is not the MUID of the key (muidOf disagrees).
			b := *tok
			wrongMUID := func([]byte) (string, error) { return "1BShhoWbKX5JE29v46mb1awpqyAzp4XTb7", nil }
			if err := VerifyBorgToken(&b, wrongMUID); !errors.Is(err, ErrUnexpected) {
				t.Errorf("address mismatch: %v, want ErrUnexpected", err)
			}
			if err := VerifyBorgToken(&b, nil); !errors.Is(err, ErrMalformed) {
				t.Errorf("nil muidOf: %v", err)
			}
		})
		sawHighS = sawHighS || k.BorgToken.SesSigIsHighS
	}
	if !sawHighS {
		t.Fatal("no high-S token in the vectors")
	}
}

func TestVerifyPeerTreeVectors(t *testing.T) {
	var v legacyVectors
	testvec.Load(t, "legacy-borghui.json", &v)
	if len(v.PeerTree) != 2 {
		t.Fatalf("%d peerTree vectors, want 2", len(v.PeerTree))
	}
	sawHighS := false
	for _, p := range v.PeerTree {
		// signedString = ip + msgTime; msgTime is the 13 trailing digits.
		ip, msgTime := p.SignedString[:len(p.SignedString)-13], p.SignedString[len(p.SignedString)-13:]
		ms, err := strconv.ParseInt(msgTime, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		if d := sha256.Sum256([]byte(ip + msgTime)); hex.EncodeToString(d[:]) != p.SHA256 {
			t.Fatal("vector digest")
		}
		sig, pub := mustHex(t, p.Signature), mustHex(t, p.PublicKey)
		if err := VerifyPeerTree(ip, ms, sig, pub); err != nil {
			t.Fatalf("%s: %v", p.SignedString, err)
		}
		if isHighS(t, sig) != p.HighS {
			t.Fatal("high-S flag disagrees")
		}
		sawHighS = sawHighS || p.HighS
		if err := VerifyPeerTree(ip, ms+1, sig, pub); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("other msgTime: %v", err)
		}
		if err := VerifyPeerTree("127.0.0.9", ms, sig, pub); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("other IP: %v", err)
		}
	}
	if !sawHighS {
		t.Fatal("no high-S PeerTree vector")
	}
}

// Appendix A.4 of the borgHUI reference (signer = key A.1).
func TestVerifyLegacyAppendixA4(t *testing.T) {
	const pubA1 = "04b883f2113230450532687aa9a9758d5eb9d9765b5a8e6849c2037b9ffaaf09567f7fc5683b2db887709fee72b5ef0fba1df83b586d91e8b5b8cf7f51a5348294"
	const payment = `{"pacID":1,"to":"1B1xrS6Xi6uhCoXcH8UzSETk81S2pmpWjQ","from":"12oA2EuJzDFshybkA7CNN7w1PJVrnEGU8d","amount":"5.000000000","unixTime":1700000000000,"date":"2023-11-14 22:13:20.000"}`
	if d := sha256.Sum256([]byte(payment)); hex.EncodeToString(d[:]) != "343e358ebe219660f812666e6c43a056e4c406668b5cdc30e5d73292597d8326" {
		t.Fatal("payment auth.tx differs: the payment bytes are wrong")
	}
	tests := []struct {
		name, msg, sig string
	}{
		{"payment", payment, "304502204071111d85f58e4465b0dad383d60c098c404961a67196792b19f64a379ef4100221009e4a9f795b94b0dffafbce63099504be81f2c66d662c810cb9687020f1c4c73f"},
		{"memory store token", "aea3cb3c9692033a0ed7468890468c00d2ade0472ba29c99bc9f35eb82e4ea4f", "3044022023143dfcb3132d9916f2c31b2667961e881b00662e2a476b51aba1beab282347022032d6d99edb70a4708cf7a1fa1d8f690f5c83f5bcb83a58f01332cd144f19e908"},
		{"shard hashSig", "2297beb44fba49d3c533addc1fe9a2ba7af9b3c0affa1217e723ef21b0b06dc6", "3045022100b67a0ed9fd84c5531a50435f82c0d14c5052dde21002f63a873de764b37926a50220132505d721a3550dc0cf296d0cca5c0dc8f9c7ba8107a8e60a173c2d99cde397"},
	}
	pub := mustHex(t, pubA1)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sig := mustHex(t, tc.sig)
			if err := VerifyLegacy(tc.msg, sig, pub); err != nil {
				t.Fatalf("VerifyLegacy: %v", err)
			}
			if err := VerifyLegacy(strings.Replace(tc.msg, "5", "6", 1), sig, pub); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("changed message: %v", err)
			}
		})
	}
	// The memory token is SHA256hex(MUID + memHash).
	tok := sha256.Sum256([]byte("12oA2EuJzDFshybkA7CNN7w1PJVrnEGU8d" + "1fc16c19195845ee898cd2abb70e94ab1450178ac2702df3dbe2dc78b345e3e4"))
	if hex.EncodeToString(tok[:]) != tests[1].msg {
		t.Fatal("memory token derivation")
	}
}

func TestVerifyLegacyInputs(t *testing.T) {
	k := mustKey(t, privA1)
	der, _ := k.Sign(sha256.Sum256([]byte("m")))
	pub := k.PublicKey()
	c, err := parseSender(pub)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyLegacy("m", der, c.SerializeCompressed()); err != nil {
		t.Fatalf("compressed key: %v", err)
	}
	tests := []struct {
		name string
		sig  []byte
		pub  []byte
		err  error
	}{
		{"empty key", der, nil, ErrMalformed},
		{"hybrid key", der, append([]byte{0x06 | pub[64]&1}, pub[1:]...), ErrMalformed},
		{"off-curve key", der, append(append([]byte{}, pub[:64]...), pub[64]^1), ErrMalformed},
		{"trailing byte on sig", append(append([]byte{}, der...), 0), pub, ErrBadSignature},
		{"empty sig", nil, pub, ErrBadSignature},
	}
	for _, tc := range tests {
		if err := VerifyLegacy("m", tc.sig, tc.pub); !errors.Is(err, tc.err) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.err)
		}
	}
}
