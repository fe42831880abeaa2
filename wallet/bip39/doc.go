// Package bip39 implements BIP39 mnemonics over the English word list: the
// 24 words (256 bits of entropy) of a new BorgIOS identity, and the tolerant
// parsing of words a person types back in.
//
// # Secrets
//
// Entropy, word indices, the mnemonic text and the seed are secrets. The API
// never holds them in Go strings: it takes and returns byte slices, uint16
// index slices and fixed arrays that the caller owns and wipes with clear().
// Every internal temporary holding secret material is cleared before a
// function returns. Word returns the list's own static strings, which are not
// secrets. Errors never carry or print a typed word.
//
// # Parsing
//
// Parse and ParseWords are forgiving: the input is NFKD-normalised
// (golang.org/x/text/unicode/norm) and lower-cased; any run of Unicode white
// space (spaces, tabs, newlines, no-break space, ideographic space, ...)
// separates words, and leading or trailing space is ignored. So upper-case
// words, full-width letters, ligatures such as "ﬁ" and words pasted with odd
// spacing are all read. A word may also be abbreviated to any prefix of at
// least four letters ("aban", "aband" and "abandon" all mean abandon): every
// word of the English list is unique in its first four letters, which is why
// steel backup plates keep only those.
//
// Errors are told apart with errors.As / errors.Is: *WordCountError (wrong
// number of words), *UnknownWordError (the 1-based position of the first word
// not in the list, with up to four suggestions) and ErrChecksum (every word is
// valid but the checksum is not). UnknownWordError.Suggestions is meant for
// the person restoring the wallet; its Error text leaves the suggestions out,
// because they point at the secret words and error texts end up in logs.
//
// # Seed
//
// Seed is the BIP39 seed, PBKDF2-HMAC-SHA512 with 2048 iterations of the
// canonical mnemonic (words joined by single ASCII spaces, which is already
// NFKD) salted with "mnemonic" + NFKD(passphrase). PBKDF2 runs over
// crypto/hmac in wallet/internal/pbkdf2 so the password stays in byte slices.
package bip39
