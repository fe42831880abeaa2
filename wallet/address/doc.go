// Package address turns secp256k1 public keys into the two address forms
// BorgIOS uses, and parses them back.
//
//   - MUID, the network identity: Base58Check(0x00 ‖ RIPEMD160(SHA256(pub65)))
//     where pub65 is always the 65-byte uncompressed key, as in the legacy
//     borgHUI / PeerTree code, so a legacy identity keeps its address.
//   - BorgDoge, the standard Dogecoin P2PKH receive address:
//     Base58Check(0x1E ‖ RIPEMD160(SHA256(pub33))) of the compressed key, the
//     address any BIP44 Dogecoin wallet shows for m/44'/3'/0'/0/0.
//
// It also holds the Base58Check codec they share. AppendBase58Check is the
// one entry point meant for secret payloads (a BIP32 xprv): it appends to a
// caller-owned byte slice and wipes its working buffers. Addresses themselves
// are public and handled as strings.
//
// Decoding is bounded (MaxEncodedLen) so hostile input cannot make the
// quadratic Base58 conversion expensive.
package address
