package signer

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
)

func TestSignFills(t *testing.T) {
	k := mustKey(t, privOne)
	body := []byte("body")
	env := &Envelope{Cell: "c", Type: "t", Recipient: "r", Timestamp: t0}
	if err := Sign(k, env, body, nil); err != nil {
		t.Fatal(err)
	}
	if env.Version != 1 || !bytes.Equal(env.Sender[:], k.PublicKey()) || env.Nonce == [NonceLen]byte{} ||
		env.BodyHash != sha256.Sum256(body) || isHighS(t, env.Signature) {
		t.Fatalf("fields not filled: %+v", env)
	}
	// A set nonce is kept; the same inputs give the same signature (RFC 6979).
	again := &Envelope{Cell: "c", Type: "t", Recipient: "r", Timestamp: t0, Nonce: env.Nonce}
	if err := Sign(k, again, body, nil); err != nil {
		t.Fatal(err)
	}
	if again.Nonce != env.Nonce || !bytes.Equal(again.Signature, env.Signature) {
		t.Fatal("deterministic signing broken")
	}
}

// highSKey returns the high-S twin of every signature.
type highSKey struct{ *MemKey }

func (k highSKey) Sign(d [32]byte) ([]byte, error) {
	der, _ := k.MemKey.Sign(d)
	sig, _ := ecdsa.ParseDERSignature(der)
	r, s := sig.R(), sig.S()
	s.Negate()
	return derOf(&r, &s), nil
}

type funcKey struct {
	pub  []byte
	sign func([32]byte) ([]byte, error)
}

func (k funcKey) PublicKey() []byte                   { return k.pub }
func (k funcKey) Sign(d [32]byte) ([]byte, error)     { return k.sign(d) }
func okSign(k *MemKey) func([32]byte) ([]byte, error) { return k.Sign }

func TestSignNormalisesHighS(t *testing.T) {
	k := mustKey(t, privOne)
	env := &Envelope{Cell: "c", Type: "t", Recipient: "r", Timestamp: t0}
	if err := Sign(highSKey{k}, env, nil, nil); err != nil {
		t.Fatal(err)
	}
	if isHighS(t, env.Signature) {
		t.Fatal("Sign emitted high-S")
	}
	if err := newTestVerifier(newClock(t0), 0).Verify(env, nil, Expect{}); err != nil {
		t.Fatal(err)
	}
}

func TestSignErrors(t *testing.T) {
	k := mustKey(t, privOne)
	base := Envelope{Cell: "c", Type: "t", Recipient: "r", Timestamp: t0}
	tests := []struct {
		name string
		key  Key
		env  Envelope
		rand *bytes.Reader
		err  error
	}{
		{"bad cell", k, Envelope{Cell: "c c", Type: "t", Recipient: "r", Timestamp: t0}, nil, ErrMalformed},
		{"no timestamp", k, Envelope{Cell: "c", Type: "t", Recipient: "r"}, nil, ErrMalformed},
		{"version 2", k, Envelope{Version: 2, Cell: "c", Type: "t", Recipient: "r", Timestamp: t0}, nil, ErrMalformed},
		{"compressed public key", funcKey{k.PublicKey()[:33], okSign(k)}, base, nil, ErrMalformed},
		{"off-curve public key", funcKey{append(k.PublicKey()[:64], 0), okSign(k)}, base, nil, ErrMalformed},
		{"key returns garbage", funcKey{k.PublicKey(), func([32]byte) ([]byte, error) { return []byte{1, 2, 3}, nil }}, base, nil, ErrBadSignature},
		{"key fails", funcKey{k.PublicKey(), func([32]byte) ([]byte, error) { return nil, errLocked }}, base, nil, errLocked},
		{"nonce source empty", k, base, bytes.NewReader([]byte{1, 2}), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := tc.env
			before := env
			var err error
			if tc.rand != nil {
				err = Sign(tc.key, &env, nil, tc.rand)
			} else {
				err = Sign(tc.key, &env, nil, nil)
			}
			if err == nil || (tc.err != nil && !errors.Is(err, tc.err)) {
				t.Fatalf("Sign = %v, want %v", err, tc.err)
			}
			if !strings.HasPrefix(err.Error(), "signer: ") || strings.Count(err.Error(), "signer:") != 1 {
				t.Fatalf("error %q lacks the package prefix", err)
			}
			if env.Signature != nil || env.Nonce != before.Nonce {
				t.Fatal("envelope changed on error")
			}
		})
	}
	if err := Sign(k, nil, nil, nil); err == nil {
		t.Fatal("nil envelope signed")
	}
	if err := Sign(nil, &base, nil, nil); err == nil {
		t.Fatal("nil key signed")
	}
	if err := Sign(k, &base, nil, iotest.ErrReader(errLocked)); !errors.Is(err, errLocked) {
		t.Fatalf("nonce read error: %v", err)
	}
}

var errLocked = errors.New("wallet locked")

func TestMemKey(t *testing.T) {
	n := mustHex(t, "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")
	for _, bad := range [][]byte{nil, make([]byte, 31), make([]byte, 32), n, make([]byte, 33)} {
		if _, err := NewMemKey(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("NewMemKey(%x) = %v", bad, err)
		}
	}
	k, err := GenerateMemKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	pub := k.PublicKey()
	pub[1] ^= 1 // a copy: the key must not change
	if _, err := parseSender(k.PublicKey()); err != nil {
		t.Fatal(err)
	}
	if _, err := GenerateMemKey(iotest.ErrReader(errLocked)); err == nil {
		t.Fatal("GenerateMemKey with a failing reader")
	}
}
