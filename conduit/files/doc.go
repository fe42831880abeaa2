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
// Optionally (Service.Erasure), each group of Data chunks gets Parity
// Reed–Solomon shards (klauspost/reedsolomon) over the sealed chunks,
// padded to the longest in the group; any Data of the Data+Parity shards of
// a group rebuild it. Each shard is stored once, on a node chosen by the
// group (SpreadStore.PutAt): slot s of group g goes to the s-th node of the
// rendezvous order of GroupID(file, g), so a group's shards sit on distinct
// nodes while there are at least Data+Parity of them, and the group
// survives the loss of any Parity nodes at an overhead of Parity/Data
// (4+2: 50%, against 200% for three copies; with fewer nodes than shards,
// slots wrap and one node may hold two). A reader that cannot get a chunk
// (dead or lying holder) rebuilds it from the group, each shard checked
// against its ID, and stores the rebuilt shard again one lap further along
// the group's order. The journal records a group only once all its shards
// are stored.
package files
