// Package keystore stores the one user identity of a BorgHUI stick in an
// encrypted, versioned file, BorgData/identity.keystore.
//
// The payload is opaque secret bytes defined by the wallet layer. A small
// public header (Meta: MUID, BorgDoge address, kind, creation time) is
// readable without the passphrase so the unlock page can say whose
// identity it is. Secrets (passphrase, payload, derived keys) are only ever
// []byte, never strings, never in errors or logs; derived keys and plaintext
// temporaries are wiped with clear. Open returns a payload the caller wipes.
//
// # File format, version 1
//
// All integers are big-endian. Offsets in bytes; H is the header length,
// C the ciphertext length.
//
//	off    size  field
//	0      8     magic 89 42 4F 52 47 4B 53 0A ("\x89BORGKS\n")
//	8      2     format version = 1
//	10     4     H, header length (≤ 3190)
//	14     H     header:
//	               1   kdf id = 1 (Argon2id)
//	               4   time     ┐ Argon2id cost, checked against
//	               4   memory   │ MaxTime, MaxMemoryKiB, MaxThreads and
//	               1   threads  ┘ MaxWork before the KDF runs
//	               1   salt length S (16..32; 32 written), then S salt bytes
//	               32  passphrase check = HKDF-SHA256-Expand(A, "borghui/keystore/v1/passphrase-check", 32)
//	               1   aead id = 1 (XChaCha20-Poly1305)
//	               24  nonce (random)
//	               8+4 Created: Unix seconds (int64), nanoseconds (uint32 < 1e9)
//	               2+n MUID, 2+n BorgDoge, 2+n Kind (uint16 length + UTF-8, n ≤ 1024)
//	14+H   4     C = len(payload) + 16 (17..65552)
//	18+H   C     XChaCha20-Poly1305(key, nonce, payload, additional data = bytes 0..18+H)
//	end-32 32    SHA-256 of every preceding byte
//
// A = Argon2id(passphrase, salt, time, memory, threads, 32 bytes);
// key = HKDF-SHA256-Expand(A, "borghui/keystore/v1/aead-key", 32). The whole
// public header is additional data, so editing the MUID, the cost or any
// other header byte makes Open fail.
//
// Frozen for every future version: the magic, the version at offset 8 and
// the trailing SHA-256 of all preceding bytes; files are at most 1 MiB.
//
// # Reading, in order (no KDF before step 4)
//
//  1. First 8 bytes: the magic → go on. At most one byte in four different
//     from the magic (e.g. a flipped byte, or a truncation inside it) →
//     ErrCorrupt; otherwise → ErrForeign (JSON, random bytes, other formats).
//  2. Shorter than the frozen frame, longer than 1 MiB, or SHA-256 mismatch →
//     ErrCorrupt (flipped bytes and truncations anywhere, including 0 bytes).
//  3. Version 0 → ErrCorrupt; above 1 → ErrUnsupportedVersion. Then every
//     length and field is checked (exact sizes, UTF-8, cost limits) →
//     ErrCorrupt. ReadMeta stops here.
//  4. Argon2id; check value differs (constant-time) → ErrWrongPassphrase;
//     AEAD fails though the check matched → ErrCorrupt.
//
// # Writing and recovery
//
// Every write seals into a new temp file identity.keystore.<random>.tmp in
// the data folder (0600), fsyncs and closes it, re-reads it and decrypts it
// with the passphrase (the read-back must equal what was written), then
// renames it over identity.keystore and fsyncs the folder (skipped on
// Windows and where unsupported). Any failure removes the temp file and
// leaves the existing file untouched. Where renaming over an existing file
// fails (some FAT/exFAT drivers), the fallback is: identity.keystore →
// identity.keystore.old, temp → identity.keystore, delete .old (rolling
// back if the middle step fails). Replace and ChangePassphrase first copy
// the existing file to backups/identity-<UTC>.keystore and verify the copy.
//
// Every call first repairs leftovers of an interrupted write:
//
//   - a *.tmp was never committed: deleted (unless this process is writing it);
//   - .old and an intact identity.keystore: the replace completed; .old deleted;
//   - .old intact and identity.keystore missing or damaged: the replace did not
//     complete; the damaged file is moved to backups/identity-<UTC>-damaged.keystore
//     and .old renamed back; the last completed state wins;
//   - .old damaged: nothing is touched.
//
// Repairs are best effort: on a read-only stick the keystore is read where it
// is. Within a process, calls are serialised where needed; two processes
// writing one stick at once are not supported.
package keystore
