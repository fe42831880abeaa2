// Package shard is the shard cell (shardTreeCell): content-addressed blob
// storage on the PeerTree. "There are no files, only shards": a client
// encrypts a chunk, and the cell stores the ciphertext under its SHA-256.
// The cell never sees plaintext and keeps exactly the bytes it was given.
//
// Three faces, as every cell: the protocol (protocol.go: types, limits,
// strict decoders), the Server (server.go, replicate.go; members from
// package roster; mounts on a peer.Cell) over a Store (store.go, blobfs.go, reconcile.go), and the
// Client (client.go: typed calls through a Caller) with Network
// (network.go: rendezvous node selection, failover, copy counting, repair).
//
// # Protocol
//
// Every message is a signer envelope (cell "shardTreeCell") on the peer
// transport; every response is signed by the answering node and verified
// by the caller. JSON bodies are decoded strictly: at most MaxHeader
// (64 KiB), no unknown members, nothing after the object, ids as 64
// lowercase hex, node IDs as 130 lowercase hex ("04…"). Blob bytes are never
// in JSON: a framed body is
//
//	uint32 big-endian header length H (1..65536) | header JSON (H) | raw blob (≤ MaxBlob)
//
// with MaxBlob = 4 MiB − 64 KiB − 4 (the transport's body limit less the
// header room). The owner of a request is its envelope's sender key (the
// node-ID hex form), taken from the verified envelope, never from a field.
//
//	type            from→to     body                          answer                               errors
//	shard.put       client→cell blob (id = the body hash)     {id,size,copies,target}              too-large, body-hash, quota
//	shard.putone    client→cell blob (id = the body hash)     {id,size,copies:1,target:1}          too-large, body-hash, quota
//	shard.get       client→cell {id}                          frame{id,size,holders,target} + blob malformed, not-found, corrupt
//	shard.has       client→cell {ids: 1..1024}                {held: [ids]}                        malformed
//	shard.delete    client→cell {id}                          {id,released,holders:[node ids]}     malformed, not-found, not-owner
//	shard.repair    client→cell {id}                          {id,copies,target}                   malformed, not-found, corrupt
//	shard.members   client→cell (empty)                       {members:[{id,addr}],target}         -
//	shard.replicate node→node   frame{id,owners,holders}+blob {id}                                 malformed, bad-hash, quota, not-member
//	shard.peerhas   node→node   {ids: 1..1024}                {held} (each copy hash-checked)      malformed, not-member
//	shard.holders   node→node   {id,holders} (one-way)        -                                    -
//	shard.hello     node→node   {id,addr,recp} (one-way; also broadcast as "shard.hello " + JSON)
//
// Errors are transport error responses whose code is one of the Code
// constants; the client maps them back to the sentinels (ErrQuota, …).
// Limits: MaxBatch 1024 ids, MaxOwners 256, MaxHolders 64 (also the
// largest target), MaxMembers 1024, addresses ≤ 256 bytes.
//
// Semantics. A put's body is the blob itself: its id is the envelope's
// body hash, which the transport verified, so the megabyte is hashed once
// on arrival (and once by the client, whose shard ID it is). put charges
// the size to the owner's quota (per node, Config.Quota), and is
// idempotent: the same owner again
// is a no-op success; another owner adds a reference (reference counted,
// each owner charged). delete removes the caller's reference only; a
// caller without one gets not-owner and nothing changes; the blob goes
// (garbage collection) when no reference is left. get checks the hash of
// the stored copy on every read; a copy that fails is moved to the
// quarantine folder, counted (StoreStats.Corrupt) and answered "corrupt".
// holders in a get answer is how many copies this node knows of (itself
// included): the nodes it pushed to or was told of, verified by repair.
//
// # Placement
//
// Rendezvous (highest-random-weight) hashing: for shard id, every member n
// gets weight(id, n) = the first 8 bytes, big-endian, of
// SHA-256("borgios/shard/hrw\n" ‖ id ‖ n's node-ID hex); members sorted by
// falling weight are the shard's order; the first R (Config.Replicas,
// default 3) distinct nodes are its home. A member joining or leaving moves
// only the shards whose home it enters or leaves.
//
// Membership: the runtime's tree view names only the root, parent,
// children and root group, not every member. So each server announces
// itself (Hello: node ID, net and receptor addresses) by tree broadcast when
// it takes its position and every AnnounceEvery (10 s), and greets a member
// it hears of for the first time with a one-way Hello, so a newcomer learns
// everyone in one round; entries unheard for three periods expire. Clients
// ask any node for "shard.members" and rank those. Announcements are hints:
// a node is only reached through the transport, whose card check binds its
// ID to its TLS key; node-to-node requests (replicate, peerhas, holders)
// are accepted only from known members. A replica's owner list is taken
// from the pushing member (a member is trusted to report references, not
// to remove them: deletes always come signed by the owner).
//
// Writes: the client sends put to the first reachable node of the shard's
// order (Network.Put); that node stores it, then pushes it with its owners
// to the next nodes of the order, as many at once as copies are missing,
// passing over nodes that fail, until R copies are confirmed; it answers
// with the confirmed count and tells the holders of each other. Fewer than
// R is reported to the caller (ErrUnderReplicated), never hidden.
//
// Reads: Network.Get fetches from the first node of the order that serves
// good bytes (its own hash check too), asks the other home nodes whether
// they hold it (has), and reports the copies that answered. Below target,
// or when a node failed (corrupt, missing, unreachable), it asks the
// serving node to repair: that node checks each candidate in order
// (peerhas, which hash-checks the copy) and pushes to those without a good
// copy until R are confirmed.
//
// # Storage
//
//	<Dir>/blobs/ab/cd/<64 hex id>   one file per shard, exactly the blob's bytes
//	<Dir>/quarantine/<id>-<ns>      copies that failed their hash check
//	<Dir>/meta.db                   bbolt: shards (id → size, owners, holders),
//	                                usage (owner → bytes), gc (id → when unreferenced)
//
// Durability rules. A blob is written to a temp file in its own folder,
// fsynced, renamed to its name and the folder fsynced; only then is the
// metadata committed (bbolt fsyncs on commit), and only then is the put
// acknowledged. So an acknowledged shard survives kill -9 and power loss.
// Opening a store reconciles: temp files are removed; a blob without
// metadata (a crash between rename and commit: never acknowledged) is
// queued for collection; metadata without its blob is dropped with its
// quota charges (the network's other copies and repair restore it). The
// last reference removed queues the blob; GC (every GCEvery, one minute)
// deletes queued files, re-checking under the shard's lock that nothing
// referenced it again. Operations on one shard are serialised by a lock
// striped over the id's first byte; reads share it.
package shard
