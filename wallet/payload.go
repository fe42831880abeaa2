package wallet

import (
	"errors"
	"fmt"
)

// The keystore holds an opaque secret payload; this file defines it.
//
//	byte 0     payload version (1)
//	byte 1     kind: 1 = BIP39 words, 2 = legacy key
//	kind 1:    byte n = entropy length (16..32), n bytes entropy, 64 bytes BIP39 seed
//	kind 2:    32 bytes private key (a legacy identity)
//	kind 3:    32 bytes private key (a node key)
//
// The seed is stored rather than the BIP39 passphrase, so the passphrase
// never has to be kept; the entropy is kept so the words can be shown again.
const payloadVersion = 1

const (
	payloadWords  = 1
	payloadLegacy = 2
	payloadNode   = 3
)

var errPayload = errors.New("wallet: the identity inside the keystore is malformed")

// MarshalSecret returns the identity's secret payload for the keystore. The
// caller wipes it.
func (id *Identity) MarshalSecret() ([]byte, error) {
	switch id.kind {
	case KindLegacy, KindNode:
		k, err := id.key.open()
		if err != nil {
			return nil, ErrLocked
		}
		defer k.destroy()
		kind := byte(payloadLegacy)
		if id.kind == KindNode {
			kind = payloadNode
		}
		out := make([]byte, 0, 2+32)
		out = append(out, payloadVersion, kind)
		return append(out, k.bytes()...), nil
	case KindWords:
		e, err := id.entropy.open()
		if err != nil {
			return nil, ErrLocked
		}
		defer e.destroy()
		s, err := id.seed.open()
		if err != nil {
			return nil, ErrLocked
		}
		defer s.destroy()
		out := make([]byte, 0, 3+len(e.bytes())+64)
		out = append(out, payloadVersion, payloadWords, byte(len(e.bytes())))
		out = append(out, e.bytes()...)
		return append(out, s.bytes()...), nil
	}
	return nil, fmt.Errorf("wallet: unknown identity kind %q", id.kind)
}

// UnmarshalSecret rebuilds an identity of a keystore payload. The payload is
// left for the caller to wipe.
func UnmarshalSecret(p []byte) (*Identity, error) {
	if len(p) < 2 || p[0] != payloadVersion {
		return nil, errPayload
	}
	switch p[1] {
	case payloadLegacy, payloadNode:
		if len(p) != 2+32 {
			return nil, errPayload
		}
		var key [32]byte
		copy(key[:], p[2:])
		kind := KindLegacy
		if p[1] == payloadNode {
			kind = KindNode
		}
		return fromKey(&key, kind)
	case payloadWords:
		if len(p) < 3 {
			return nil, errPayload
		}
		n := int(p[2])
		if n < 16 || n > 32 || n%4 != 0 || len(p) != 3+n+64 {
			return nil, errPayload
		}
		return fromSeed(p[3:3+n], p[3+n:])
	}
	return nil, errPayload
}
