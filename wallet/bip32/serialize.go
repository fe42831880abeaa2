package bip32

import (
	"encoding/binary"

	"github.com/borgios/borghui/wallet/address"
)

// Mainnet version prefixes of serialised extended keys.
const (
	versionXPrv uint32 = 0x0488ADE4
	versionXPub uint32 = 0x0488B21E
)

// serializedLen is the BIP32 serialisation size before Base58Check.
const serializedLen = 78

// header writes version, depth, parent fingerprint, child index and chain
// code (the first 45 bytes) of the serialisation.
func (k *ExtendedKey) header(buf *[serializedLen]byte, version uint32) {
	binary.BigEndian.PutUint32(buf[0:4], version)
	buf[4] = k.depth
	copy(buf[5:9], k.parentFP[:])
	binary.BigEndian.PutUint32(buf[9:13], k.child)
	copy(buf[13:45], k.chainCode[:])
}

// XPrv returns the Base58Check "xprv…" serialisation. It is a secret: the
// caller wipes the returned slice.
func (k *ExtendedKey) XPrv() []byte {
	var buf [serializedLen]byte
	defer clear(buf[:])
	k.header(&buf, versionXPrv)
	copy(buf[46:], k.key[:]) // buf[45] = 0x00
	return address.AppendBase58Check(make([]byte, 0, 112), buf[:])
}

// XPub returns the Base58Check "xpub…" serialisation, or "" for a wiped key.
func (k *ExtendedKey) XPub() string {
	pub := k.PublicKeyCompressed()
	if pub == nil {
		return ""
	}
	var buf [serializedLen]byte
	k.header(&buf, versionXPub)
	copy(buf[45:], pub)
	return string(address.AppendBase58Check(nil, buf[:]))
}
