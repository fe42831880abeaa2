// Package bip32 implements BIP32 hierarchical deterministic private-key
// derivation on secp256k1, as far as BorgIOS identities need it: a master key
// from a BIP39 seed, hardened and normal child keys, the identity path
// m/44'/3'/0'/0/0 (BIP44, coin type 3 = Dogecoin), and the standard xprv/xpub
// serialisation (mainnet versions, so vectors compare with other tools).
//
// # Secrets
//
// An ExtendedKey holds its private key and chain code in fixed arrays; Zero
// wipes them. Derive wipes every intermediate key it creates; Child and
// NewMaster wipe their HMAC output and scalar temporaries. PrivateKey copies
// into a caller-owned array and XPrv returns a caller-owned byte slice, never
// a string. The scalar arithmetic uses decred's secp256k1 ModNScalar; the
// public key (needed for normal children and fingerprints) comes from its
// ScalarBaseMultNonConst, the only base-point multiplication that library
// offers, which is not constant-time. crypto/hmac keeps key-derived pads
// inside its own value, out of reach for wiping; they become garbage when
// the call returns.
//
// # Invalid keys
//
// BIP32 says to skip an index whose derivation gives IL >= n or a zero key
// (probability about 2^-127). Child instead returns ErrInvalidChild and lets
// the caller decide; NewMaster returns ErrInvalidMaster for an unusable seed.
package bip32
