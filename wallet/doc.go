// Package wallet holds a person's identity: the secp256k1 key that signs for
// them, where it comes from and how it is kept.
//
// # Where the key comes from
//
// A new identity is 24 BIP39 English words (256 bits of system randomness)
// and an optional BIP39 passphrase. The words give a BIP39 seed; BIP32
// derivation along m/44'/3'/0'/0/0 gives the identity key. Its MUID is the
// P2PKH address of the uncompressed public key (version 0x00), as the
// network has always used; its BorgDoge address is the Dogecoin P2PKH
// address of the compressed key (version 0x1E), so the same words restore the
// same receive address in any BIP44 Dogecoin wallet. The primitives live in
// the sub-packages bip39, bip32 and address.
//
// A legacy identity (the borgHUI 27-word phrase, a borgHUI or bmgpPassport
// wallet file, a PeerTree key file; see package legacy) is a bare key: it has
// no words and no seed, and keeps the MUID it always had.
//
// # How it is kept
//
// On the stick the identity is sealed in the keystore file (package
// keystore) under the person's passphrase. In memory the key, the seed and
// the entropy live only sealed (a memguard Enclave); they are opened into
// locked memory for the few microseconds a signature or a derivation takes
// and wiped straight after. If the operating system refuses to lock memory,
// [PrepareMemory] says so and the secrets are still sealed, but could reach
// swap; the conduit warns the person.
//
// Secrets never travel in Go strings: every API here takes and returns byte
// slices that the caller wipes.
package wallet
