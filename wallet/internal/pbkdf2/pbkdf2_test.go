package pbkdf2

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"hash"
	"testing"
)

func TestKey(t *testing.T) {
	tests := []struct {
		name       string
		h          func() hash.Hash
		password   string
		salt       string
		iterations int
		want       string
	}{
		// RFC 6070 (PBKDF2-HMAC-SHA1). The 16777216-iteration case is left out
		// to keep the race-enabled run fast; the 4096 cases cover the loop.
		{"rfc6070/1", sha1.New, "password", "salt", 1, "0c60c80f961f0e71f3a9b524af6012062fe037a6"},
		{"rfc6070/2", sha1.New, "password", "salt", 2, "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957"},
		{"rfc6070/4096", sha1.New, "password", "salt", 4096, "4b007901b765489abead49d926f721d065a429c1"},
		{"rfc6070/long", sha1.New, "passwordPASSWORDpassword", "saltSALTsaltSALTsaltSALTsaltSALTsalt", 4096, "3d2eec4fe41c849b80c8d83662c0e44a8b291a964cf2f07038"},
		{"rfc6070/nul", sha1.New, "pass\x00word", "sa\x00lt", 4096, "56fa6aa75548099dcc37d7f03425e0c3"},
		// RFC 7914 section 11 (PBKDF2-HMAC-SHA256), two output blocks.
		{"rfc7914/1", sha256.New, "passwd", "salt", 1, "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"},
		{"rfc7914/80000", sha256.New, "Password", "NaCl", 80000, "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d"},
		// PBKDF2-HMAC-SHA512 (the BIP39 PRF).
		{"sha512/1", sha512.New, "password", "salt", 1, "867f70cf1ade02cff3752599a3a53dc4af34c7a669815ae5d513554e1c8cf252c02d470a285a0501bad999bfe943c08f050235d7d68b1da55e63f73b60a57fce"},
		{"sha512/2", sha512.New, "password", "salt", 2, "e1d9c16aa681708a45f5c7c4e215ceb66e011a2e9f0040713f18aefdb866d53cf76cab2868a39b9f7840edce4fef5a82be67335c77a6068e04112754f27ccf4e"},
		{"sha512/4096", sha512.New, "password", "salt", 4096, "d197b1b33db0143e018b12f3d1d1479e6cdebdcc97c5c0f87f6902e072f457b5143f30602641b3d55cd335988cb36b84376060ecd532e039b742a239434af2d5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := hex.DecodeString(tt.want)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]byte, len(want))
			Key(tt.h, []byte(tt.password), []byte(tt.salt), tt.iterations, got)
			if !bytes.Equal(got, want) {
				t.Fatalf("got %x, want %x", got, want)
			}
		})
	}
}

func TestKeyPanicsOnZeroIterations(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	Key(sha256.New, nil, nil, 0, make([]byte, 32))
}
