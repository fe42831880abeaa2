package signer_test

import (
	"bytes"
	"fmt"
	"time"

	"github.com/borgios/borghui/signer"
)

// The worked example of docs/protocol.md: sign, frame, decode, verify, and
// answer with a signed response that the client checks against the key it
// expected.
func Example() {
	priv := make([]byte, 32)
	priv[31] = 1 // private key 1: for examples only
	client, _ := signer.NewMemKey(priv)
	node, _ := signer.GenerateMemKey(nil)
	now := time.UnixMilli(1700000000000)
	clock := func() time.Time { return now }

	// Client: sign and frame a request.
	req := signer.Envelope{Cell: "shardTreeCell", Type: "storeShard",
		Recipient: "991be736-5075-4a4f-adc5-0f86f2088a3b", Timestamp: now.UnixMilli()}
	copy(req.Nonce[:], []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
	if err := signer.Sign(client, &req, []byte("hello"), nil); err != nil {
		panic(err)
	}
	frame, _ := signer.Encode(&req, []byte("hello"))
	id, _ := req.Digest()
	fmt.Println("message id:", id)

	// Node: decode and verify.
	nodeV := signer.NewVerifier(signer.VerifierConfig{Clock: clock})
	env, body, err := signer.Decode(frame, 1<<20)
	if err != nil {
		panic(err)
	}
	err = nodeV.Verify(env, body, signer.Expect{Cell: "shardTreeCell",
		Recipients: []string{"991be736-5075-4a4f-adc5-0f86f2088a3b"}})
	fmt.Println("request:", err)
	fmt.Println("again:", signer.ErrorCode(nodeV.Verify(env, body, signer.Expect{})))

	// Node: answer.
	reqID, _ := env.Digest()
	resp := signer.Envelope{Cell: env.Cell, Type: "storeShardResult",
		Recipient: fmt.Sprintf("%x", env.Sender), Timestamp: now.UnixMilli(), InReplyTo: reqID}
	if err := signer.Sign(node, &resp, []byte(`{"ok":true}`), nil); err != nil {
		panic(err)
	}
	var wire bytes.Buffer
	_ = signer.WriteMessage(&wire, &resp, bytes.NewReader([]byte(`{"ok":true}`)), 11)

	// Client: read the response, hashing the body as it streams, and verify
	// it against the node's key and the request it sent.
	clientV := signer.NewVerifier(signer.VerifierConfig{Clock: clock})
	renv, rbody, _ := signer.ReadMessage(&wire, 1<<20)
	var got bytes.Buffer
	_, _ = got.ReadFrom(rbody)
	sum, _ := rbody.Sum()
	err = clientV.VerifyBodyHash(renv, sum, signer.Expect{Sender: node.PublicKey(), InReplyTo: id})
	fmt.Println("response:", err, got.String())
	// Output:
	// message id: da9201f5584ba31d972757f03a44ec6434ed4c847a7cc600d13262b386deee6d
	// request: <nil>
	// again: replay
	// response: <nil> {"ok":true}
}
