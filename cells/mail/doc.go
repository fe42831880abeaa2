// Package mail is the mail cell (mailTreeCell) of BorgIOS and its client:
// signed mail cards (a registry of who can be written to and how), sealed
// messages with forward secrecy, stored on R cells until their recipient
// collects and acknowledges them.
//
// The old borgHUI mail sealed with a random RSA key (lost on every restore
// from the words), had no forward secrecy, no sender signature, unsigned
// registry entries and no Sent copy. Here: the long-term key is derived
// from the words (restore keeps mail readable), one-time prekeys give
// forward secrecy, every message is signed by its sender inside the
// ciphertext, cards are signed by their owner and checked by every client,
// and the sender keeps a Sent copy sealed to itself.
//
// Three faces, as every cell: the protocol (protocol.go: types, limits,
// strict decoders), the Server (server.go: receptor and node-to-node
// handlers over a bbolt store, store.go, mounted on a peer.Cell), and the
// client side: Client (one cell, over a Caller), Multi (rendezvous
// placement and failover over many cells), and for the conduit Account,
// which composes Multi with the three files kept on the stick: the
// PrekeyStore, the Outbox and the Mailbox.
//
// # Cryptography
//
// HPKE (RFC 9180, base mode, crypto/hpke) with the suite
//
//	KEM  MLKEM768-X25519 (X-Wing, hybrid post-quantum)  0x647a
//	KDF  HKDF-SHA256                                     0x0001
//	AEAD ChaCha20-Poly1305                               0x0003
//
// Public keys are 1216 bytes, the encapsulation 1120 bytes.
//
//   - Long-term key pair: the KEM's DeriveKeyPair over 32 bytes of
//     Identity.DeriveKey("mail-hpke-longterm", nil) (HKDF-SHA256 of the BIP39
//     seed, salt "BorgIOS/v1/derive/mail-hpke-longterm"): the same 24 words
//     give the same key, so a restored identity opens mail sealed to it.
//   - One-time prekeys: random key pairs; the private halves live only in
//     the PrekeyStore file on the stick (sealed with XChaCha20-Poly1305 under
//     DeriveKey("mail-prekeys", "v1")), the public halves on the card.
//   - Sealing: hpke.NewSender(recipient key, info = "BorgIOS/v1/mail"), one
//     Seal with aad = "BorgIOS/v1/mail-envelope\n" ‖
//     {"id":"<32 hex>","key":"<key id>","time":<ms>,"to":"<MUID>"} (RFC
//     8785). The envelope's sealed bytes are encapsulation(1120) ‖
//     ciphertext. The plaintext is the signed message's JSON, padded:
//     uint32 big-endian length ‖ JSON ‖ zeros to 1 KiB, then the next power
//     of two up to 64 KiB, then the next multiple of 64 KiB.
//   - Signatures (cards, messages, acknowledgements): ECDSA secp256k1 by the
//     identity key, DER, low-S when signing (high-S accepted when
//     verifying), over SHA-256 of a domain line followed by RFC 8785 JSON of
//     every member but "sig". Integers are decimal (at most 2^53-1), keys
//     and ids lowercase hex, binary keys unpadded base64url, strings JCS
//     escaped ('"', '\', and control characters only).
//   - Local files: the Mailbox seals each message (XChaCha20-Poly1305, key
//     DeriveKey("mail-store", "v1"), folder and id in the AAD); the prekey
//     store is one sealed file. Both are written atomically (temp file,
//     fsync, rename, folder fsync).
//
// # Canonical encodings
//
// Card (CardDomain "BorgIOS/v1/mail-card\n"):
//
//	{"avatar":"<link or empty>","key":"<b64url 1216 bytes>","muid":"<MUID>","nick":"<1..64 bytes>",
//	 "owner":"<130 hex>","prekeys":[{"id":"<16 hex>","key":"<b64url>"},…],"time":<ms>,"version":<n>}
//
// The wire form adds "sig":"<hex DER>" between "prekeys" and "time". muid
// must be the owner key's address; at most 32 prekeys; avatar is a file
// capability link (cells/ftree EncodeLink), which anyone reading the card
// can follow: it makes the picture public.
//
// Message (MessageDomain "BorgIOS/v1/mail-message\n"):
//
//	{"attachments":["<link>",…],"body":"…","date":<ms>,"from":"<130 hex>","frommuid":"<MUID>",
//	 "id":"<32 hex>","inreplyto":"<32 hex or empty>","kind":"mail|receipt","subject":"…","to":"<MUID>"}
//
// with "sig" between "kind" and "subject" on the wire (the sealed
// plaintext is exactly the wire form). A receipt (kind "receipt") names
// the message read in inreplyto and carries no body or attachments.
// Opening checks, in order: the AEAD (any altered byte of header or
// ciphertext: ErrOpen), the padding and JSON, the signature by "from"
// (ErrBadSignature), "frommuid" = address of "from" (ErrForged: a message
// re-signed by another key cannot keep its claimed sender), "id" = the
// envelope id and the envelope's mailbox = "to" or "frommuid" (ErrForged).
//
// Ack proof (AckDomain "BorgIOS/v1/mail-ack\n"):
//
//	{"ids":["<32 hex>",…],"muid":"<MUID>","owner":"<130 hex>","time":<ms>}
//
// Envelope (what cells store) as a frame, the protocol's rule for binary
// bodies (raw, never base64 in JSON):
//
//	uint32 big-endian H ‖ {"id":…,"key":"longterm"|"<16 hex>","size":<n>,"time":<ms>,"to":"<MUID>"} (H bytes) ‖ sealed (size bytes)
//
// JSON bodies are decoded strictly: at most MaxRequest (128 KiB) per
// request and MaxResponse (2 MiB) per answer, one object, member names of
// lowercase letters, no unknown or repeated member, nothing after it.
//
// # Messages
//
// Every message is a signer envelope (cell "mailTreeCell") on the peer
// transport; every answer is signed by the answering node and verified by
// the caller. The requester is the envelope's sender key.
//
//	type                 from→to      body                         answer                          errors
//	mail.card.put        client→cell  {card}                       {status:"ok",copies,target}     malformed, bad-signature, forbidden (not the owner);
//	                                                               | {status:"stale",current}      stale = a card not newer than the cell's
//	mail.card.get        client→cell  {muid}                       {card|null, left:[prekey ids]}  malformed
//	mail.card.search     client→cell  {query,limit}                {cards:[…]} ≤ 20                malformed
//	mail.prekey.take     client→cell  {muid}                       {card, key:"<prekey id>"|"longterm"}  malformed, not-found
//	mail.deliver         client→cell  envelope frame               {id,state,copies,target}        malformed, too-large, conflict, mailbox-full
//	mail.list            client→cell  {muid,after,limit}           {items:[headers],more}          malformed, forbidden (not the mailbox owner)
//	mail.fetch           client→cell  {muid,ids:1..256}            frame {items:[headers]} ‖ sealed bytes  malformed, forbidden
//	mail.ack             client→cell  {proof}                      {acked}                         malformed, bad-signature, forbidden
//	mail.status          client→cell  {ids:1..256}                 {states:[{id,state}]}           malformed
//	mail.members         client→cell  (empty)                      {members:[{id,addr}],replicas}  -
//	mail.replicate       node→node    frame {header,holders} ‖ sealed  {id,state,copies:1,target}  malformed, conflict, mailbox-full, not-member
//	mail.card.replicate  node→node    {card}                       as mail.card.put                malformed, bad-signature, not-member
//	mail.prekey.drop     node→node    {muid,ids}                   {dropped: newly marked}         malformed, not-member
//	mail.drop            node→node    {proof}                      {acked}                         malformed, bad-signature, forbidden, not-member
//	mail.card.find       node→node    {query,limit}                {cards}                         malformed, not-member
//	mail.hello           node→node    roster Hello (one-way, also broadcast "mail.hello " + JSON)
//
// Error codes (transport error responses) are "mail-" + malformed,
// too-large, bad-signature, forbidden, stale, not-found, conflict,
// mailbox-full, not-member, closed, internal; the client maps them back
// to the sentinels (ErrStale, …). Cell states of a message: stored,
// delivered (acknowledged by its recipient), expired (dropped unread after
// MaxAge, 90 days), unknown.
//
// # Placement and replication
//
// A mailbox's home is R (Config.Replicas, default 3) cells chosen by
// rendezvous hashing of its MUID over the members (weight = first 8 bytes
// of SHA-256("borgios/mail/hrw\n" ‖ MUID ‖ 0x00 ‖ node ID), highest
// first; members are learnt with cells/roster, type "mail.hello"). The
// card and the messages of an address live on its home cells.
//
// Chosen: the cell replicates. The client sends each card put and each
// delivery once, to the first reachable cell of the order (the stick
// uploads a message once); that cell stores it and pushes it to the next
// cells of the order until R copies are confirmed, passing over cells
// that fail, and answers with the confirmed count (fewer than R is
// reported, never hidden). Every cell pushed to is recorded as a holder,
// confirmed or not (a push that timed out may have landed), so the drop
// of an acknowledgement reaches it. A delivery is idempotent by message id: the
// same id and bytes again is a no-op answered "stored" (or "delivered"
// once acknowledged; acknowledged ids are remembered for TombstoneTTL,
// 30 days), the same id with other bytes is "conflict".
//
// Collecting: the client lists its mailbox on every home cell, fetches
// each missing message from one holder, opens and stores it locally, then
// acknowledges with the signed AckProof to every cell that listed it; each
// cell deletes its copy and forwards the proof (mail.drop) to the other
// holders it knows and the home cells, which verify it again before
// deleting. A cell therefore deletes mail only with its owner's
// signature, and the delivery state "delivered" is visible on every home
// cell the sender asks (mail.status; any holder saying delivered wins).
//
// # Forward secrecy
//
//   - A card lists up to 32 one-time prekeys. mail.prekey.take picks a
//     prekey the cell has not marked (a home cell starts from its own share,
//     the prekeys whose index is its rank modulo R, so cells taking at once
//     do not contend), marks it, and asks the other
//     home cells to mark it too (mail.prekey.drop answers dropped = 1 when
//     the mark is new). It hands the prekey out only when a majority of the
//     home cells (its own mark counting if it is one) marked it newly;
//     otherwise it passes to the next prekey, and answers "longterm" when
//     none reaches a majority. Any two majorities share a cell, and a cell
//     marks a prekey newly only once, so no two cells hand out the same
//     prekey — barring cells that disagree about the membership, or a
//     dishonest one. One home cell down still leaves a majority of three. A
//     newer card keeps the marks of the prekeys it still lists.
//   - The sender first reads the card from every home cell and takes from a
//     cell holding the newest version (Multi.Take), so a cell that missed a
//     card update does not hand out superseded prekeys.
//   - The sender seals to the prekey; with none left, to the long-term key.
//     The envelope's key id says which; SendResult.ForwardSecret and
//     Stored.ForwardSecret tell the person.
//   - The recipient destroys the prekey's private half (PrekeyStore.Destroy,
//     the file rewritten atomically without it) once the message is stored
//     in the local Mailbox, then acknowledges. From then on the ciphertext,
//     wherever it was copied, opens with nothing the recipient holds, not
//     even with the words and the stick.
//   - When fewer than RefillBelow prekeys are left on the cells, the
//     recipient publishes a new card version with fresh ones. Prekeys no
//     longer on the card (taken by a sender who may yet send) are destroyed
//     unused after PrekeyGrace (30 days).
//   - No forward secrecy: mail sealed to the long-term key (restorable from
//     the words, by design), and the Sent copies (sealed to the sender's
//     own long-term key; they stay on the stick). Mail sealed to prekeys
//     of a lost stick cannot be opened after a restore: Receive reports it
//     as Unreadable and leaves it on the cells.
//
// # What a cell learns
//
// Cards are public: any cell (and anyone) sees the owner key, address,
// nickname, avatar link, long-term and prekey public keys, version and
// time of every card, and which requester key asks for which card and
// when.
//
// Per message, a cell learns exactly: the recipient's mailbox (MUID); the
// random message id; the key id (a prekey or "longterm", so whether the
// message has forward secrecy); the envelope time (the sender's clock when
// sealing); the padded sealed size (1 KiB, powers of two to 64 KiB, then
// 64 KiB steps); when it arrived; which key signed the take, delivery and
// status requests and from which network address; and when the recipient
// lists, fetches and acknowledges (its key signs those, proving the
// mailbox is its own).
//
// It never sees the subject, body, attachments (capability links),
// in-reply-to, the date written inside, the message kind (letter or read
// receipt), the exact size, or the sender's identity inside the
// ciphertext. But a delivery signed with the sender's identity key names
// the sender: the conduit should carry takes, deliveries and status
// queries over a Multi dialled with a throw-away key
// (AccountConfig.SendNet; NewPool takes any key), which leaves the cell
// only timing and network addresses to correlate.
//
// A cell cannot read, forge or alter a message, card or acknowledgement
// (the client checks every signature and the AEAD), cannot delete mail
// without the owner's signed proof, and cannot read another's mailbox
// listing through the protocol (list and fetch require the owner's key).
// It can withhold, delay or drop messages, serve an old card, deny
// forward secrecy (answer "longterm") or hand a prekey out twice (the
// second message then cannot be opened once the first consumed the
// prekey: Unreadable). Anyone — not only a cell — can take a card's
// prekeys until none is left (senders then fall back to the long-term key
// until the owner collects and refills), and anyone can fill a mailbox up
// to its per-node limits.
//
// # Limits
//
// A message's signed JSON is at most MaxMessage (1 MiB); a sealed one at
// most MaxSealed (1 MiB + 64 KiB padding + 1136 bytes). Attachments are
// capability links (at most 64, each ≤ 512 bytes), never file bytes: the
// files stay in the shard cells and the link carries the read key.
// Subjects ≤ 1 KiB, nicknames ≤ 64 bytes, queries ≤ 64 bytes, 20 search
// results, 256 ids per fetch, ack or status, 512 headers per list page,
// 3 MiB of sealed bytes per fetch answer. Per node and mailbox: at most
// Config.MaxMailbox messages (10000) and MaxMailboxBytes (512 MiB). A
// nickname search asks every member (at most 64) and is meant for trees
// of hundreds of cells, not millions.
//
// # Files on the stick (Account)
//
//	<dir>/prekeys.bin        PrekeyStore: sealed; private prekeys only
//	<dir>/outbox.journal     Outbox: JSON lines with CRC-32C; sealed messages and their states
//	<dir>/mailbox/inbox/*.msg Mailbox: one sealed file per message
//	<dir>/mailbox/sent/*.msg
//	<dir>/mailbox/drafts/*.msg letters being written (unsigned; only what was typed)
package mail
