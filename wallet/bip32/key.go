package bip32

import (
	"crypto/hmac"
	"crypto/sha512"
	"encoding/binary"
	"fmt"
	"math"

	"github.com/borgios/borghui/wallet/address"
	"github.com/decred/dcrd/dcrec/secp256k1/v4"
)

// ExtendedKey is a BIP32 extended private key. The zero value is not usable;
// make one with NewMaster and derive from it. Call Zero when done.
type ExtendedKey struct {
	key       [32]byte // private key, big-endian, in [1, n-1]
	chainCode [32]byte
	depth     uint8
	parentFP  [4]byte // first 4 bytes of Hash160 of the parent's public key
	child     uint32  // index this key was derived at
}

// masterKey is the HMAC key BIP32 fixes for the master node.
var masterKey = []byte("Bitcoin seed")

// hmacSHA512 writes HMAC-SHA512(key, data) to out.
func hmacSHA512(key, data []byte, out *[64]byte) {
	mac := hmac.New(sha512.New, key)
	mac.Write(data)
	mac.Sum(out[:0])
	mac.Reset()
}

// publicKey returns the public point of the scalar s.
func publicKey(s *secp256k1.ModNScalar) *secp256k1.PublicKey {
	var p secp256k1.JacobianPoint
	secp256k1.ScalarBaseMultNonConst(s, &p)
	p.ToAffine()
	return secp256k1.NewPublicKey(&p.X, &p.Y)
}

// NewMaster returns the master key of a seed (16..64 bytes, normally the
// 64-byte BIP39 seed): I = HMAC-SHA512("Bitcoin seed", seed), key = IL,
// chain code = IR.
func NewMaster(seed []byte) (*ExtendedKey, error) {
	if len(seed) < 16 || len(seed) > 64 {
		return nil, fmt.Errorf("%w: got %d", ErrSeedLength, len(seed))
	}
	var sum [64]byte
	defer clear(sum[:])
	hmacSHA512(masterKey, seed, &sum)

	var il secp256k1.ModNScalar
	defer il.Zero()
	if overflow := il.SetByteSlice(sum[:32]); overflow || il.IsZero() {
		return nil, ErrInvalidMaster
	}
	k := new(ExtendedKey)
	copy(k.key[:], sum[:32])
	copy(k.chainCode[:], sum[32:])
	return k, nil
}

// Child derives the child at index i (hardened when i >= HardenedOffset).
// Errors: ErrInvalidChild (skip to the next index), ErrDepth, ErrWiped.
func (k *ExtendedKey) Child(i uint32) (*ExtendedKey, error) {
	if k.depth == math.MaxUint8 {
		return nil, ErrDepth
	}
	var kpar secp256k1.ModNScalar
	defer kpar.Zero()
	kpar.SetBytes(&k.key)
	if kpar.IsZero() {
		return nil, ErrWiped
	}
	parentPub := publicKey(&kpar).SerializeCompressed()

	var data [37]byte
	defer clear(data[:])
	if i >= HardenedOffset {
		copy(data[1:33], k.key[:]) // 0x00 ‖ ser256(kpar)
	} else {
		copy(data[:33], parentPub) // serP(point(kpar))
	}
	binary.BigEndian.PutUint32(data[33:], i)

	var sum [64]byte
	defer clear(sum[:])
	hmacSHA512(k.chainCode[:], data[:], &sum)

	var ki secp256k1.ModNScalar
	defer ki.Zero()
	if overflow := ki.SetByteSlice(sum[:32]); overflow {
		return nil, fmt.Errorf("%w: index %d", ErrInvalidChild, i)
	}
	if ki.Add(&kpar).IsZero() {
		return nil, fmt.Errorf("%w: index %d", ErrInvalidChild, i)
	}

	child := &ExtendedKey{depth: k.depth + 1, child: i}
	ki.PutBytes(&child.key)
	copy(child.chainCode[:], sum[32:])
	fp := address.Hash160(parentPub)
	copy(child.parentFP[:], fp[:4])
	return child, nil
}

// Derive follows path from k and returns the resulting key (a copy of k for
// an empty path). Every intermediate key is wiped; k is left unchanged.
func (k *ExtendedKey) Derive(path []uint32) (*ExtendedKey, error) {
	cur := k
	for depth, i := range path {
		next, err := cur.Child(i)
		if cur != k {
			cur.Zero()
		}
		if err != nil {
			return nil, fmt.Errorf("bip32: step %d of the path: %w", depth+1, err)
		}
		cur = next
	}
	if cur == k {
		c := *k
		return &c, nil
	}
	return cur, nil
}

// PrivateKey copies the 32-byte private key into dst.
func (k *ExtendedKey) PrivateKey(dst *[32]byte) {
	*dst = k.key
}

// PublicKeyCompressed returns the 33-byte compressed public key, or nil for
// a wiped key.
func (k *ExtendedKey) PublicKeyCompressed() []byte {
	var s secp256k1.ModNScalar
	defer s.Zero()
	s.SetBytes(&k.key)
	if s.IsZero() {
		return nil
	}
	return publicKey(&s).SerializeCompressed()
}

// Zero wipes the private key and chain code. The key is unusable afterwards.
func (k *ExtendedKey) Zero() {
	clear(k.key[:])
	clear(k.chainCode[:])
}
