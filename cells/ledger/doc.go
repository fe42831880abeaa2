// Package ledger is the peerPaysCell: the Borg Shells ledger. Accounts are
// MUIDs; a transfer is signed by its sender; the root of the ledger tree
// orders pending transfers into signed blocks; every member checks every
// block in full and keeps a replica of the chain. The supply is fixed at
// genesis and never changes.
//
// Three faces, as every cell: the protocol (protocol.go: request types,
// limits, strict decoders; transfer.go, block.go, proof.go: the signed
// objects), the Server (server.go, chain.go, pool.go: mounted on a
// *peer.Cell, over a bbolt store, store.go) and the Client (client.go:
// typed calls through a Caller). Package ledgerbench measures a running
// network from the outside.
//
// # Amounts
//
// Amounts are integers of nano-shells (Amount, uint64): 1 shell = 10^9,
// the legacy BorgPay's nine decimals, never a float. On the wire and in
// signed bytes an amount is its canonical text: the integer part without
// leading zeros ("0" below one shell), a dot, exactly nine digits:
// "123.456000000". Decoders accept that form only. ParseAmount reads what
// a person types ("5", "0.1", ".5") exactly, and refuses signs, exponents,
// spaces, more than nine decimals (the legacy client silently truncated)
// and anything above 2^64-1 nano-shells. A transfer's amount is 1 nano-shell
// to the whole supply; its fee 0 to the whole supply, so amount+fee never
// overflows.
//
// # Genesis and accounts
//
// The genesis block is height 0, no parent, time 0, producer = the network
// wallet's key (Config.NetworkKey), no transfers, no signature, and the
// state in which the network wallet's MUID holds GenesisSupply (20,000,000
// shells = 2·10^16 nano-shells) at seq 0. Every node computes it from the
// key; it is never sent. A node's database remembers its genesis hash and
// refuses to open for another network.
//
// An account is a MUID (wallet/address: Base58Check of 0x00 ‖
// RIPEMD160(SHA256(65-byte key))) with a balance and the seq of its last
// applied transfer (0 before the first). It exists once it has held
// shells. The sending account of a transfer is the MUID of its key.
//
// # Transfers
//
// A Transfer {from, to, amount, fee, seq, time, memo, sig} is signed by
// from (ECDSA secp256k1, RFC 6979, low-S DER when signing; high-S accepted
// when verifying, for legacy signers) over SHA-256 of its canonical bytes,
// the text "BorgIOS/v1/ledger-transfer\n" then RFC 8785 JSON of every
// member but sig, byte for byte:
//
//	BorgIOS/v1/ledger-transfer\n{"amount":"5.000000000","fee":"0.000001000","from":"04<128 hex>","memo":"thanks","seq":1,"time":1700000000000,"to":"1B1xrS6Xi6uhCoXcH8UzSETk81S2pmpWjQ"}
//
// from is the 65-byte uncompressed key as 130 lowercase hex; to a MUID;
// seq and time (ms since the Unix epoch, the sender's clock, informational)
// are decimal integers ≤ 2^53-1; memo is at most MaxMemo (140) bytes of
// UTF-8 without control characters, written as a JCS string (only '"' and
// '\' escaped, by a backslash). The transfer's id is that SHA-256: it does
// not cover the signature, so a re-encoded signature is the same transfer.
// A transfer must carry amount ≥ 1 nano-shell, seq ≥ 1, a valid MUID to,
// and to ≠ the sender's own MUID.
//
// It applies to a state when seq = the sender's seq + 1 and amount+fee ≤
// the sender's balance: the sender loses amount+fee and its seq grows by
// one, the recipient gains amount, the block's producer gains the fee (so
// fees are paid, not burned, and the supply stays constant). Of all
// transfers with one (sender, seq) at most one ever applies; the others are
// refused as "conflict".
//
// # Blocks
//
// A Block {height, prev, time, producer, state, transfers, sig} applies
// 1..MaxBlockTransfers (500) transfers in order on top of block prev. Its
// hash, which the producer signs (same ECDSA rules), is SHA-256 of
//
//	BorgIOS/v1/ledger-block\n{"count":2,"height":7,"prev":"<64 hex>","producer":"04<128 hex>","state":"<64 hex>","time":1700000000000,"transfers":"<64 hex>"}
//
// where transfers is the TxRoot, SHA-256("BorgIOS/v1/ledger-transfers\n" ‖
// id_1 ‖ … ‖ id_n) over the raw 32-byte transfer ids, and state is the
// state hash after the block: SHA-256 of "BorgIOS/v1/ledger-state\n"
// followed, for every account in bytewise order of its MUID, by
// len(MUID) (one byte) ‖ MUID ‖ balance (8 bytes, big-endian) ‖ seq (8
// bytes, big-endian). The wire form of a block is its JSON with the
// transfers as objects (at most MaxBlockBytes, 1 MiB).
//
// A node applies a block only if: its height is its parent's + 1 and prev
// its parent's hash; its time is not before its parent's; the producer's
// signature verifies; every transfer is well formed and validly signed and
// applies, in order, to the state it meets; no transfer appears twice; the
// balances still add up to GenesisSupply and none is negative (unsigned
// arithmetic with overflow checks); and the recomputed state hash equals
// state. Anything else is refused and nothing changes.
//
// # Messages
//
// Every message is a signer envelope of cell "peerPaysCell" on the peer
// transport; every answer is signed by the answering node and verified by
// the caller. JSON bodies are decoded strictly: one object, member names
// of lowercase letters, no unknown or repeated member, nothing after it,
// hashes as 64 lowercase hex, within the size limits. Errors are
// transport error responses with a Code constant: ledger-malformed,
// ledger-bad-signature, ledger-invalid, ledger-busy, ledger-not-found,
// ledger-closed, ledger-internal.
//
//	type            from→to      body                          answer                                 errors
//	ledger.submit   client→node  {transfer}                    {id,status,height,index,reason}        malformed, busy
//	ledger.status   client→node  {id}                          {id,status,height,index,reason}        malformed
//	ledger.balance  client→node  {muid}                        {muid,balance,seq,height}              malformed
//	ledger.history  client→node  {muid,before:{height,index}|null,limit 0..100}
//	                                                           {muid,entries:[{height,index,time,balance,transfer}],more}
//	ledger.state    client→node  {} or empty                   {height,hash,state,supply,accounts}    -
//	ledger.forward  node→node    {transfers: 1..500}           {results:[status answers, in order]}   malformed
//	ledger.head     node→node    {} or empty                   as ledger.state                        -
//	ledger.blocks   node→node    {from ≥ 1,count 1..32}        {blocks:[consecutive from "from"]}     malformed
//	ledger.hashes   node→node    {from ≥ 1,count 1..1024}      {from,hashes:[block hashes]}           malformed
//	ledger.hello    node→node    roster hello (one-way and broadcast "ledger.hello " + JSON)
//	broadcast       root→tree    "ledger.block " + block JSON (≤ 64 KiB), else "ledger.tip " + {height,hash}
//
// A status is "pending" (queued here or at the root), "applied" (in this
// node's chain at height/index), "rejected" with a reason (final: sign a
// new transfer) — bad-signature, conflict (another transfer took its
// (sender, seq) slot, before or after it arrived), insufficient-funds,
// overflow, expired (it waited PendingTTL for a missing earlier seq) — or
// "unknown". (Block refusals name stale-seq and seq-gap too.)
// Submitting a known transfer again answers its status (ids dedup); ErrBusy
// (a full queue, or a seq more than MaxSeqAhead (64) past the account's)
// means retry later. A history entry carries the account's balance right
// after the transfer and the signed transfer itself; entries are newest
// first and a page ends strictly before "before".
//
// # Ordering, forwarding and the root
//
// The root of the ledger tree (peer tree position 1, cell.View().Role) is
// the only node that makes blocks. Any node takes transfers (ledger.submit)
// after checking the signature and that the seq is not already used, and
// queues them; a node that is not the root forwards its queue to the root
// (ledger.forward, batches of up to 500, as soon as they arrive) and
// forwards again what is still not applied after ResendAfter (2 s), also
// to a new root after a change. It keeps each transfer until it sees it
// applied in its own chain, or learns it was refused. The root admits
// forwarded transfers like submitted ones. Every BatchEvery (50 ms), or at
// once when
// 500 are waiting, the root makes a block: senders in the order of their
// oldest ready transfer, each sender's consecutive seqs from its applied
// seq + 1 (a transfer whose predecessor has not arrived waits, up to
// PendingTTL, 2 min); of several transfers for one slot the first to
// arrive that applies wins and the others are refused as conflicts; one
// whose amount+fee exceeds its sender's balance at that point is refused
// (insufficient-funds: balances are checked only here, against the
// root's synced state, never by a node that may be behind). The root
// applies its block, then broadcasts it down the tree. Fees go to the
// producer's MUID (the node key's).
//
// # Sync, forks and root changes
//
// A member applies a broadcast block that extends its tip. A block or tip
// ahead of it, or a different block at a height it holds, makes it sync
// from the sender. Members also compare tips with the root every SyncEvery
// (500 ms, skipped while blocks arrive), the root with one member in turn.
// Syncing from a node asks its tip (ledger.head); if that wins, it finds
// the last common block by comparing block hashes (ledger.hashes, in
// growing windows downwards) and fetches the blocks above it
// (ledger.blocks). Every fetched block is validated in full.
//
// Fork rule: between two chains, the one with the greater height wins; at
// equal heights the one whose tip block hash is lower (bytewise). A node
// switches branch only to a winning chain whose every block it validated:
// it rolls back to the common block and applies the branch in one
// database transaction (at most 4096 blocks deep), and queues again the
// transfers of the rolled-back blocks that the new branch lacks (those
// whose seq it used are refused as conflicts). The rule is deterministic, so
// every node that sees both branches keeps the same one.
//
// When the root changes (it left, died, or the tree healed after a
// split), the new root first asks every member it knows for its tip and
// syncs from the best, so it continues from the highest valid block any
// member holds, and only then makes blocks. A root that leaves
// gracefully (Server.Close) first hands its queue to another member.
// Members forward their queues to the new root. A transfer that only a
// crashed root held (submitted straight to it, in no block yet) is lost:
// its status turns "unknown" everywhere and the client submits it again
// (Client.Submit says so). Two roots at once (a split tree) make two
// branches; the fork rule picks one when the nodes meet again.
//
// # Invariants
//
// On every block a node applies, and in Server.Check: the balances add up
// to GenesisSupply; no balance is negative or above the supply; every
// applied transfer is validly signed by its sender and used its sender's
// next seq (so none applies twice); the state hash is the hash of the
// sorted accounts. Replicas that applied the same blocks hold the same
// state hash. The network tests check these across nodes after a root
// closes mid-load.
//
// # Trust
//
// Members are trusted to order, not to forge: no node can move shells its
// owner did not sign away, create or destroy shells, apply a transfer
// twice or slip in an invalid block — every replica checks every block.
// A root can delay, reorder or drop transfers, and a member that makes
// itself root can force a switch to its own branch (reversing unconfirmed
// history, not creating money). Byzantine-fault-tolerant ordering (several
// signatures per block, finality) is future work; a client that needs
// certainty waits a few blocks (confirmations = tip height − its height +
// 1).
//
// # Storage
//
// <Dir>/ledger.db (bbolt): blocks by height, their hashes and undo
// records, the accounts, the transfer index (id → height, index, block
// time, transfer) and the per-account history; see store.go. Each block,
// and each branch switch, is one write transaction, fsynced on commit: a
// node killed at any point reopens on the last block it committed, checks
// that its accounts hash to its head's state hash, and catches up.
// Rejections and pending transfers are in memory only.
//
// # Earning
//
// The network wallet pays storage holders per GiB-hour held, on signed
// storage proofs. A verifier that knows a shard's content sends a
// Challenge {shard, nonce} (NewChallenge, 32 random bytes); the holder
// answers SHA-256(nonce ‖ content) (Challenge.Answer), which it cannot
// compute without the bytes, in a Proof signed like a transfer over
// SHA-256 of
//
//	BorgIOS/v1/ledger-storage-proof\n{"answer":"<64 hex>","holder":"04<128 hex>","nonce":"<64 hex>","shard":"<64 hex>","size":1048576,"time":1700000000000}
//
// Proof.Verify checks the proof against the challenge and the content (the
// shard id is the content's SHA-256, size its length, the answer, the
// holder's signature). ComputePayouts credits each distinct (holder,
// shard, window = time / ProofPeriod) once, for size bytes held one period:
// floor(rate × Σ bytes×ms / (2^30 × 3,600,000)) nano-shells per holder,
// the rate being Config.Rate, default 0.001 shells (10^6 nano-shells) per
// GiB-hour, ProofPeriod one hour. PayoutTransfers turns the credits into
// transfers from the network wallet; Server.PayStorage does both on the
// node that holds the network wallet key (Config.NetworkSigner), skipping
// windows it already paid (recorded in the database). Wiring the
// challenges to the shard cell (which will answer them with its stored
// bytes) is the conduit's and the shard cell's next step; this package
// only defines and checks the proofs and pays for them.
//
// # Limits
//
// Memo 140 bytes; block 500 transfers and 1 MiB; forward batch 500;
// ledger.blocks 32 blocks (and under 4 MiB); ledger.hashes 1024;
// history page 100; receptor request 8 KiB; forward request 1 MiB;
// queue 100,000 transfers per node, 128 per sender, seqs at most 64 ahead;
// 100,000 remembered rejections; branch switch at most 4096 blocks.
// The state hash costs O(accounts) per block (a Merkle tree would make
// it O(changes); future work).
package ledger
