// Package legacy imports identities made by the old Node.js software, so a
// user keeps the same secp256k1 key and therefore the same MUID:
//
//   - the 27-word borgHUI phrase (DecodePhrase), a reversible encoding of
//     the raw private key over the BIP39 English list — not a BIP39 mnemonic;
//   - the files OpenFile reads: borgHUI wallet v3 (keys/myBMGPWallet.key,
//     plaintext or PBKDF2-SHA256 + AES-256-GCM encrypted), the older
//     bmgpPassport wallet (no version field) and the PeerTree node key
//     (keys/peerTreeNet.key).
//
// The formats are described in the borgHUI reference (sections 2.1-2.5,
// Appendix A) and the PeerTree reference (section 2.6).
//
// # Secrets
//
// Phrases, passphrases and private keys come in as byte slices and go out
// into a caller-owned [32]byte; they are never turned into Go strings.
// OpenFile reads the private key's hex digits straight from the JSON bytes
// (a json.RawMessage, not a string), and wipes every copy it makes: the raw
// field, the padded hex, the decrypted plaintext and the AES key. Error texts
// never contain key material or typed words. Residual exposure: crypto/aes
// and crypto/hmac keep expanded key schedules inside values this package
// cannot reach; they become garbage when OpenFile returns.
//
// Decoding is deliberately more forgiving than the reference where that is
// safe: the phrase gets the tolerant word handling of bip39.ParseWords
// (NFKD, any case, any white space, four-letter prefixes), the 9 padding bits
// of the last word are ignored as the reference ignores them (so "scale" and
// "zoo" end the same phrase), and a hex private key shorter than 64 digits
// (leading zeros dropped by elliptic or bn.js) is left-padded.
package legacy
