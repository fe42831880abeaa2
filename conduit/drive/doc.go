// Package drive is "My files" of BorgHUI Conduit: the person's encrypted
// folder tree. Files themselves are stored by package files (sealed chunks
// and a sealed manifest on the shard cells); the tree is an index listing
// every folder and file, sealed and stored as one more shard, and the
// owner's signed, versioned root record on the ftree cells points at it.
// Nobody but the owner's identity can read the names, sizes or shape of
// the tree; holders see ciphertext, the ftree cells a hash and a size.
//
// # Index format
//
// The plaintext is one JSON document:
//
//	{"version":1,"entries":[
//	  {"id":"<32 hex>","name":"Photos","folder":true,"modified":"<RFC 3339>"},
//	  {"id":"<32 hex>","parent":"<32 hex>","name":"a.jpg","size":123,"mime":"image/jpeg",
//	   "modified":"<RFC 3339>","file":"<64 hex>","manifest":"<64 hex>"}]}
//
// An entry ID is 16 random bytes in lower-case hex; a missing parent means
// the top folder. A file carries its file ID (its key is
// files.FileKey(identity, file ID)) and the shard ID of its manifest. It is
// sealed with XChaCha20-Poly1305 under a key derived from the identity
// (DeriveKey label "drive-index", no info):
//
//	sealed = nonce (24 random bytes) ‖ ciphertext ‖ tag (16)
//	AAD    = "BorgIOS/v1/drive-index\n"
//
// and stored under its shard ID (SHA-256 of the sealed bytes), which the
// root record names with the sealed size. So the words that restore the
// identity restore the whole tree.
//
// Decoding is strict: unknown members, a version other than 1, trailing
// data, malformed or duplicate IDs, a parent that is missing or a file, a
// cycle, two entries of the same name in one folder, bad names, or a folder
// carrying file fields all refuse the index (ErrCorrupt), and a drive that
// cannot open its index never writes over it. The sealed index is at most
// MaxIndex (4 MiB less 64 KiB): a file entry with an ordinary name takes
// about 300 bytes and a folder about 150, so the tree holds some 13,000
// files, or more entries where many are folders; past that a change fails
// with ErrFull.
//
// Names are 1 to 255 bytes of UTF-8 without "/", NUL or other control
// characters, not "." or "..", unique within their folder by exact bytes.
//
// # Changes and the conflict rule
//
// Every change (Mkdir, Upload, Rename, Move, Delete) is applied to a copy
// of the index, which is sealed and stored; then the next root record
// (version+1, prev = hash of the current one) is signed and written. The
// ftree cells accept a record only on top of the current one, so when the
// same person changes the tree from two devices at once one write loses
// with a conflict: the loser reloads the newest tree and applies the same
// change to it again (it may now fail, say because the name is taken), up
// to 8 attempts, after which it gives up with ErrConflict. The winner's
// change is never overwritten. A replaced index shard, and one written for
// a lost race, is released (Config.Release) once it is no longer the
// newest.
//
// Upload stores the file first (resumable through a files.Journal) and adds
// the entry after; if the entry cannot be added the file's shards are
// released so nothing leaks. Delete removes the entries first and, once the
// new tree is saved, releases every shard of the removed files (chunks,
// erasure parity shards, manifests).
package drive
