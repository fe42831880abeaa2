// Package ftree is the ftreeFileMgrCell: the file maps of BorgIOS. It keeps
// each owner's signed, versioned root record (a pointer to the owner's
// encrypted root manifest, stored as a shard by the shard cell) and inboxes
// of shared read capabilities. It never sees a file, a manifest or a key.
//
// Three faces, as every cell: protocol.go (request types and strict
// decoders), server.go (receptor handlers over a bbolt store, mounted on a
// peer.Cell), client.go (typed calls through a Caller).
//
// # Root records
//
// A RootRecord is signed by its owner with ECDSA-secp256k1 (DER, low-S when
// signing, high-S accepted when verifying) over SHA-256 of its canonical
// bytes: the text "BorgIOS/v1/ftree-root\n" followed by RFC 8785 JSON of
// every member but the signature, byte for byte:
//
//	BorgIOS/v1/ftree-root\n{"manifest":"<64 hex>","owner":"<130 hex>","prev":"<64 hex>","size":<n>,"time":<n>,"version":<n>}
//
// owner is the 65-byte uncompressed key (04‖X‖Y); manifest is the shard id
// (SHA-256 of the manifest ciphertext) and size its length; prev is the
// previous version's record hash (64 zeros for version 1); time is ms since
// the Unix epoch; integers are decimal without leading zeros, at most
// 2^53-1; hex is lowercase. The record hash, RootRecord.Hash, is that same
// SHA-256: it does not cover the signature, so re-encoding a signature
// cannot fork a chain. On the wire a record is the JSON object of those
// members plus "sig" (lowercase hex DER).
//
// Rules a node enforces, in one bbolt write transaction per put:
//   - the envelope sender must be the record's owner, and the record's own
//     signature must verify (independently of the envelope);
//   - the first record a node holds for an owner may carry any version (this
//     seeds a new replica); after that a put must carry version = current+1
//     and prev = hash(current), otherwise the answer is "conflict" with the
//     current record, so the losing writer can merge and retry: two writers
//     racing from the same base never both succeed and nothing is silently
//     overwritten. The current record itself may be put again (a retry);
//   - the last MaxHistory (16) versions are kept for recovery (root.history).
//
// Readers asking several nodes keep the highest version that verifies
// (Newest). Replication is the client's job: it writes the same record to
// each of its R ftree nodes; a node that missed versions answers "conflict"
// with an older current record and is brought forward by putting the
// missing versions in order (from another node's history; every record is
// self-authenticating, so anyone may replay them). Nodes do not forward
// records to each other.
//
// # Capabilities and shares
//
// A Capability is the right to read one file or folder: the manifest's
// shard id and its 32-byte symmetric key, with optional folder flag, size
// and name. Binary form (Capability.MarshalBinary):
//
//	manifest(32) ‖ 0x01 ‖ flags(1; bit 0 = folder) ‖ key(32) ‖ size(8, big-endian) ‖ nameLen(1) ‖ name(UTF-8)
//
// Sealed to an identity (SealCapability / OpenCapability): a fresh
// ephemeral secp256k1 key E; shared = X coordinate of e·R (R the
// recipient's key); key = HKDF-SHA256(ikm = shared, salt = E‖R, info =
// "BorgIOS/v1/ftree-capability-seal", 32 bytes); box = 0x01 ‖ E(65) ‖
// nonce(24, random) ‖ XChaCha20-Poly1305(key, nonce, capability, aad =
// label ‖ E ‖ R ‖ 0x01). The recipient opens it through an ECDHKey, so its
// private key may stay in locked memory.
//
// A Share puts a sealed capability in the recipient's inbox on a node. It is
// signed by the sharer like a record, over
//
//	BorgIOS/v1/ftree-share\n{"recipient":"<130 hex>","sealed":"<base64url, unpadded>","sharer":"<130 hex>","time":<n>}
//
// and its id is the SHA-256 of those bytes. Recipients are addressed by
// their 65-byte public key (the key sealing needs; the MUID derives from
// it). A node stores a share only from its sharer (envelope sender = sharer,
// signature verified), lists an inbox only to its owner (share.list has no
// recipient field: the recipient is the envelope sender), and deletes a
// share on share.revoke by its sharer or its recipient. An inbox holds at
// most ServerConfig.MaxInbox shares. Revoking removes the inbox entry; it
// cannot take back a key the recipient already opened — to really revoke,
// re-encrypt the manifest under a new key.
//
// As a link (EncodeLink / ParseLink):
//
//	borg://cap/<manifest, 64 lowercase hex>#<base64url(0x01 ‖ flags ‖ key ‖ size ‖ nameLen ‖ name), unpadded>
//
// The key is only in the fragment, which a browser never sends to a server;
// a gateway resolving the path learns which manifest is read, not its key.
// The link is the read right itself: anyone who sees it can read.
//
// # Threat model: what a cell learns
//
// A node sees owners' public keys, how often and when each root changes
// (version, time), the shard id and size of each root manifest, who shares
// with whom and when, and the size of each sealed capability. It never sees
// a manifest key, a file name inside a manifest, or a capability in clear.
// It cannot forge or alter a record or share (signatures are checked by the
// node and again by the client), cannot write a record for an owner, and
// cannot make a client accept another owner's record. It can withhold or
// serve stale data (a reader asking several nodes keeps the newest valid
// version), drop shares, or refuse service; anyone can fill an inbox up to
// its limit (spam costs a signature per share, and recipients revoke).
// Root records are public: anyone may read any owner's current record and
// history.
package ftree
