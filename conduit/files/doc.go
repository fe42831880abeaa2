// Package files is the cryptographic core of the Files service: "there are
// no files, only shards". It turns a file into encrypted, content-addressed
// chunks and an encrypted manifest, and back, with no network in sight; the
// Files service moves the results through the shard and ftree cells.
//
// # Keys
//
// Every file has a random 32-byte file ID. Its key is derived from the
// identity (HKDF over the BIP39 seed, label "files", info = file ID), so the
// owner's words restore every file key; a file shared with someone travels
// as a capability (manifest ID + file key) instead.
//
// # Chunks
//
// The plaintext is cut into fixed-size chunks (1 MiB by default). Chunk i of
// n is sealed with XChaCha20-Poly1305 under the file key:
//
//	sealed = nonce (24 random bytes) ‖ ciphertext ‖ tag (16)
//	AAD    = "BorgIOS/v1/chunk\n" ‖ file ID ‖ uint32 i ‖ uint32 n   (big-endian)
//
// so a chunk cannot be moved to another position or another file, and a
// truncated or extended file fails to open. A chunk's shard ID is the
// SHA-256 of its sealed bytes: holders store ciphertext only, and any reader
// checks what it got against the ID before opening it.
//
// # Manifest
//
// The manifest (name, size, type, chunk size, the chunks' shard IDs, the
// erasure layout) is JSON sealed the same way under a subkey of the file key
// (label "manifest"), AAD "BorgIOS/v1/manifest\n". It is stored as a shard
// itself; its shard ID and the file key are the file's capability (the file
// ID is inside the manifest).
//
// # Erasure coding
//
// Optionally, each group of Data chunks gets Parity Reed–Solomon shards
// (klauspost/reedsolomon) over the sealed chunks, padded to the longest in
// the group; any Data of the Data+Parity shards of a group rebuild it, so a
// group survives the loss of Parity holders. Overhead is Parity/Data.
package files
