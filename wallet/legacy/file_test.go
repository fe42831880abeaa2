package legacy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/borgios/borghui/wallet/address"
	"github.com/borgios/borghui/wallet/internal/pbkdf2"
	"github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// fileJSON marshals a key file built from fields.
func fileJSON(t testing.TB, fields map[string]any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(fields, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// with returns a copy of m with the changes applied (nil deletes).
func with(m map[string]any, changes map[string]any) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	for k, v := range changes {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

// testFiles returns the v3 encrypted file of the walletFileV3 vector (key 1
// of the vectors), a plaintext v3 file and a passport file of the same key.
func testFiles(t testing.TB) (v legacyVectors, encrypted, plain, passport map[string]any) {
	v = loadVectors(t)
	k, w := v.Keys[0], v.WalletFileV3
	rsa := map[string]any{"publicKey": "-----BEGIN PUBLIC KEY-----\n...", "privateKey": "-----BEGIN ENCRYPTED PRIVATE KEY-----\n..."}
	encrypted = map[string]any{
		"version": 3, "ownMUID": k.MUID, "publicKey": k.PublicKeyUncompressed, "created": 1700000000000,
		"encrypted": w.Encrypted, "salt": w.Salt, "iv": w.IV, "authTag": w.AuthTag,
	}
	plain = map[string]any{
		"version": 3, "ownMUID": k.MUID, "publicKey": k.PublicKeyUncompressed, "created": 1700000000000,
		"privateKey": k.PrivateKey, "walletCipher": k.WalletCipher, "rsaKeys": rsa,
	}
	passport = map[string]any{
		"ownMUID": k.MUID, "publicKey": k.PublicKeyUncompressed,
		"privateKey": k.PrivateKey, "walletCipher": "1SomeOtherRandomCipherAddress", "rsaKeys": rsa,
	}
	return v, encrypted, plain, passport
}

func TestWalletV3Vector(t *testing.T) {
	w := loadVectors(t).WalletFileV3
	var key [32]byte
	pbkdf2.Key(sha256.New, []byte(w.Passphrase), unhex(t, w.Salt), v3Iterations, key[:])
	if got := hex.EncodeToString(key[:]); got != w.DerivedKey {
		t.Fatalf("derived key %s, want %s", got, w.DerivedKey)
	}
	f := walletFile{Encrypted: &w.Encrypted, Salt: &w.Salt, IV: &w.IV, AuthTag: &w.AuthTag}
	plain, err := decryptV3(&f, []byte(w.Passphrase))
	if err != nil {
		t.Fatal(err)
	}
	if string(plain) != w.Plaintext {
		t.Fatalf("plaintext %q, want %q", plain, w.Plaintext)
	}
}

func TestOpenFile(t *testing.T) {
	v, encrypted, plain, passport := testFiles(t)
	k1 := v.Keys[0]
	pass := []byte(v.WalletFileV3.Passphrase)

	// PeerTree keys: bn.js drops leading zeros, so "1" is key 1 and a key
	// with a leading zero byte has 62 digits.
	k2 := v.Keys[1]
	peerOne := map[string]any{"publicKey": k2.PublicKeyUncompressed, "privateKey": "1", "peerMUID": k2.MUID}
	short := "c4b6a1f1e8d5a9b0c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1"
	shortKey := key32(t, "00"+short)
	shortPub := secp256k1.PrivKeyFromBytes(shortKey[:]).PubKey().SerializeUncompressed()
	shortMUID, err := address.MUID(shortPub)
	if err != nil {
		t.Fatal(err)
	}
	peer62 := map[string]any{"publicKey": hex.EncodeToString(shortPub), "privateKey": short, "peerMUID": shortMUID}

	tests := []struct {
		name     string
		data     []byte
		pass     string
		kind     FileKind
		wantKey  *[32]byte
		wantMUID string
		wantErr  error
	}{
		{"v3 encrypted", fileJSON(t, encrypted), string(pass), V3Encrypted, key32(t, k1.PrivateKey), k1.MUID, nil},
		{"v3 encrypted without publicKey", fileJSON(t, with(encrypted, map[string]any{"publicKey": nil, "ownMUID": nil})), string(pass), V3Encrypted, key32(t, k1.PrivateKey), k1.MUID, nil},
		{"v3 plaintext", fileJSON(t, plain), "", V3Plain, key32(t, k1.PrivateKey), k1.MUID, nil},
		{"v3 plaintext ignores passphrase", fileJSON(t, plain), "anything", V3Plain, key32(t, k1.PrivateKey), k1.MUID, nil},
		{"v3 plaintext upper-case hex", fileJSON(t, with(plain, map[string]any{"privateKey": strings.ToUpper(k1.PrivateKey)})), "", V3Plain, key32(t, k1.PrivateKey), k1.MUID, nil},
		{"passport", fileJSON(t, passport), "", Passport, key32(t, k1.PrivateKey), k1.MUID, nil},
		{"peertree key 1", fileJSON(t, peerOne), "", PeerTreeKey, key32(t, k2.PrivateKey), k2.MUID, nil},
		{"peertree 62 hex digits", fileJSON(t, peer62), "", PeerTreeKey, shortKey, shortMUID, nil},

		{"wrong passphrase", fileJSON(t, encrypted), "Correct horse battery staple", 0, nil, "", ErrWrongPassphrase},
		{"empty passphrase", fileJSON(t, encrypted), "", 0, nil, "", ErrPassphraseRequired},
		{"tampered tag", fileJSON(t, with(encrypted, map[string]any{"authTag": "6519b83a4d80908bed4cddb45afe5146"})), string(pass), 0, nil, "", ErrWrongPassphrase},
		{"tampered ciphertext", fileJSON(t, with(encrypted, map[string]any{"encrypted": "b2" + v.WalletFileV3.Encrypted[2:]})), string(pass), 0, nil, "", ErrWrongPassphrase},
		{"12-byte iv", fileJSON(t, with(encrypted, map[string]any{"iv": "020202020202020202020202"})), string(pass), 0, nil, "", ErrCorrupt},
		{"missing salt", fileJSON(t, with(encrypted, map[string]any{"salt": nil})), string(pass), 0, nil, "", ErrCorrupt},
		{"salt not hex", fileJSON(t, with(encrypted, map[string]any{"salt": "zz"})), string(pass), 0, nil, "", ErrCorrupt},
		{"encrypted and plaintext key", fileJSON(t, with(encrypted, map[string]any{"privateKey": k1.PrivateKey})), string(pass), 0, nil, "", ErrCorrupt},
		{"wrong ownMUID", fileJSON(t, with(plain, map[string]any{"ownMUID": k2.MUID})), "", 0, nil, "", ErrMismatch},
		{"wrong publicKey", fileJSON(t, with(passport, map[string]any{"publicKey": k2.PublicKeyUncompressed})), "", 0, nil, "", ErrMismatch},
		{"wrong peerMUID", fileJSON(t, with(peerOne, map[string]any{"peerMUID": k1.MUID})), "", 0, nil, "", ErrMismatch},
		{"encrypted wrong ownMUID", fileJSON(t, with(encrypted, map[string]any{"ownMUID": k2.MUID})), string(pass), 0, nil, "", ErrMismatch},
		{"publicKey not hex", fileJSON(t, with(passport, map[string]any{"publicKey": "04xyz"})), "", 0, nil, "", ErrCorrupt},
		{"privateKey not hex", fileJSON(t, with(plain, map[string]any{"privateKey": "5fa8f0f782cb0d144c5022e3ce40d7a46e33097372e6799b8208aa22fcc35d3g"})), "", 0, nil, "", ErrCorrupt},
		{"privateKey 65 digits", fileJSON(t, with(plain, map[string]any{"privateKey": "0" + k1.PrivateKey})), "", 0, nil, "", ErrCorrupt},
		{"privateKey empty", fileJSON(t, with(plain, map[string]any{"privateKey": ""})), "", 0, nil, "", ErrCorrupt},
		{"privateKey number", fileJSON(t, with(plain, map[string]any{"privateKey": 5})), "", 0, nil, "", ErrCorrupt},
		{"privateKey escaped", []byte(`{"peerMUID":"x","privateKey":"\u0031"}`), "", 0, nil, "", ErrCorrupt},
		{"privateKey zero", fileJSON(t, with(passport, map[string]any{"privateKey": "0"})), "", 0, nil, "", ErrInvalidKey},
		{"privateKey n", fileJSON(t, with(passport, map[string]any{"privateKey": "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"})), "", 0, nil, "", ErrInvalidKey},
		{"version 2", fileJSON(t, with(plain, map[string]any{"version": 2})), "", 0, nil, "", ErrUnknownFormat},
		{"version as text", fileJSON(t, with(plain, map[string]any{"version": "3"})), "", 0, nil, "", ErrUnknownFormat},
		{"foreign JSON", []byte(`{"name":"my-app","version":"1.0.0","dependencies":{}}`), "", 0, nil, "", ErrUnknownFormat},
		{"key without identity", []byte(`{"privateKey":"01"}`), "", 0, nil, "", ErrUnknownFormat},
		{"both MUIDs", fileJSON(t, with(passport, map[string]any{"peerMUID": k1.MUID})), "", 0, nil, "", ErrUnknownFormat},
		{"JSON array", []byte(`[1,2,3]`), "", 0, nil, "", ErrUnknownFormat},
		{"JSON null", []byte(`null`), "", 0, nil, "", ErrUnknownFormat},
		{"wrong field type", []byte(`{"ownMUID":5,"privateKey":"01"}`), "", 0, nil, "", ErrUnknownFormat},
		{"not JSON", []byte("-----BEGIN PRIVATE KEY-----\nMIIE..."), "", 0, nil, "", ErrUnknownFormat},
		{"empty", nil, "", 0, nil, "", ErrUnknownFormat},
		{"truncated", fileJSON(t, plain)[:120], "", 0, nil, "", ErrCorrupt},
		{"truncated encrypted", fileJSON(t, encrypted)[:200], string(pass), 0, nil, "", ErrCorrupt},
		{"too large", append(fileJSON(t, plain), bytes.Repeat([]byte(" "), MaxFileSize)...), "", 0, nil, "", ErrUnknownFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := [32]byte{0xAA}
			info, err := OpenFile(tt.data, []byte(tt.pass), &dst)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("got %v, want %v", err, tt.wantErr)
				}
				if dst != [32]byte{} {
					t.Fatal("dst not zeroed on error")
				}
				if strings.Contains(err.Error(), k1.PrivateKey[:8]) {
					t.Fatalf("error shows key material: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if dst != *tt.wantKey {
				t.Fatalf("key %x, want %x", dst, tt.wantKey)
			}
			if info.Kind != tt.kind || info.MUID != tt.wantMUID {
				t.Fatalf("info %v %q, want %v %q", info.Kind, info.MUID, tt.kind, tt.wantMUID)
			}
			if muid, err := address.MUID(info.PublicKey); len(info.PublicKey) != 65 || err != nil || muid != tt.wantMUID {
				t.Fatalf("public key %x gives %q, %v", info.PublicKey, muid, err)
			}
		})
	}
}

func FuzzOpenFile(f *testing.F) {
	v, encrypted, plain, passport := testFiles(f)
	f.Add(fileJSON(f, encrypted), []byte(v.WalletFileV3.Passphrase))
	f.Add(fileJSON(f, plain), []byte{})
	f.Add(fileJSON(f, passport), []byte{})
	f.Add([]byte(`{"publicKey":"04","privateKey":"1","peerMUID":"1EHNa6Q4Jz2uvNExL497mE43ikXhwF6kZm"}`), []byte{})
	f.Add([]byte(`{"version":3,"privateKey":"\u0030"}`), []byte{})
	f.Add([]byte(`{"name":"x"}`), []byte{})
	f.Add(fileJSON(f, plain)[:50], []byte{})
	f.Fuzz(func(t *testing.T, data, passphrase []byte) {
		var key [32]byte
		info, err := OpenFile(data, passphrase, &key)
		if err != nil {
			if key != [32]byte{} {
				t.Fatal("dst not zeroed on error")
			}
			return
		}
		if !validKey(&key) {
			t.Fatalf("accepted invalid key %x", key)
		}
		pub, muid, err := identity(&key)
		if err != nil || info.MUID != muid || !bytes.Equal(info.PublicKey, pub) || info.Kind == 0 {
			t.Fatalf("info %+v does not describe the key", info)
		}
	})
}
