// Package signer is the envelope of BorgIOS protocol v1: canonical signed
// bytes, signing, the framed wire form, and the one verification function
// every layer uses (node to node, client to cell, responses), with its
// freshness window and replay cache. docs/protocol.md is the byte-exact
// specification; testdata/golden_envelopes.json holds vectors that tests
// recompute and that the document quotes.
//
// A message is an Envelope plus a raw body. The envelope names the version,
// cell, type, sender key, recipient, network timestamp, a random nonce, the
// SHA-256 of the body and, for a response, the digest of the request. The
// signed bytes are "BorgIOS/v1\n" followed by the RFC 8785 JSON of all
// fields but the signature; the digest (SHA-256 of those bytes) is also the
// message id of a broadcast and the inReplyTo of a response.
//
// Sending:
//
//	env := signer.Envelope{Cell: "shardTreeCell", Type: "storeShard",
//		Recipient: nodeKeyHex, Timestamp: networkNow.UnixMilli()}
//	err := signer.Sign(key, &env, body, nil) // key: the wallet's signer.Key
//	frame, err := signer.Encode(&env, body)
//
// Receiving:
//
//	env, body, err := signer.Decode(frame, maxBody)
//	err = verifier.Verify(env, body, signer.Expect{Cell: "shardTreeCell",
//		Recipients: []string{myKeyHex, treeID}})
//
// A client checks a response with Expect{Sender: endpointKey, InReplyTo:
// requestDigest}. Large bodies stream with WriteMessage / ReadMessage and
// are checked with VerifyBodyHash once read.
//
// The package never sees a private key except through the Key interface
// (MemKey is for tests and the simulator only), never logs, and its errors
// carry no key material. The legacy verifiers (VerifyLegacy,
// VerifyPeerTree, VerifyBorgToken) check borgHUI / PeerTree signatures for
// imports and interop.
//
// signer imports no package of this module.
package signer
