package ledger

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// fuzzDecoder checks a decoder never panics, refuses with ErrMalformed
// (or ErrBadSignature), and that what it accepts encodes back to a body it
// accepts again unchanged.
func fuzzDecoder[T any](f *testing.F, decode func([]byte) (*T, error), seeds ...message) {
	for _, s := range seeds {
		b, err := Encode(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"a":[{"b":null}]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := decode(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrBadSignature) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		enc, err := Encode(any(v).(message))
		if err != nil {
			t.Fatalf("accepted value does not encode: %v", err)
		}
		v2, err := decode(enc)
		if err != nil {
			t.Fatalf("re-encoded body refused: %v", err)
		}
		enc2, _ := Encode(any(v2).(message))
		if !bytes.Equal(enc, enc2) {
			t.Fatalf("round trip changed the value:\n%s\n%s", enc, enc2)
		}
	})
}

type fuzzSeed struct {
	tr    *Transfer
	block *Block
	proof *Proof
}

func seeds(f *testing.F) fuzzSeed {
	netKey, producer := newKey(f), newKey(f)
	c := newChain(f, netKey)
	tr, err := NewTransfer(netKey, muidB, uint64(Shells(3)), 5, 1, time.UnixMilli(1700000000000), "memo \"é\"")
	if err != nil {
		f.Fatal(err)
	}
	b := c.makeBlock(f, producer, []*Transfer{tr}, nil)
	ch, _ := NewChallenge(Hash{1}, nil)
	p, err := ch.Prove(producer, []byte("x"), time.UnixMilli(1))
	if err != nil {
		f.Fatal(err)
	}
	return fuzzSeed{tr: tr, block: b, proof: p}
}

func FuzzDecodeSubmitRequest(f *testing.F) {
	s := seeds(f)
	fuzzDecoder(f, DecodeSubmitRequest, &SubmitRequest{Transfer: s.tr})
}

func FuzzDecodeStatusRequest(f *testing.F) {
	fuzzDecoder(f, DecodeStatusRequest, &StatusRequest{ID: Hash{9}})
}

func FuzzDecodeStatusResponse(f *testing.F) {
	fuzzDecoder(f, DecodeStatusResponse,
		&StatusResponse{ID: Hash{1}, Status: StatusApplied, Height: 3, Index: 2},
		&StatusResponse{ID: Hash{1}, Status: StatusRejected, Reason: ReasonConflict},
		&StatusResponse{ID: Hash{1}, Status: StatusPending})
}

func FuzzDecodeBalanceRequest(f *testing.F) {
	fuzzDecoder(f, DecodeBalanceRequest, &BalanceRequest{MUID: muidA})
}

func FuzzDecodeBalanceResponse(f *testing.F) {
	fuzzDecoder(f, DecodeBalanceResponse, &BalanceResponse{MUID: muidA, Balance: 12345, Seq: 3, Height: 9})
}

func FuzzDecodeHistoryRequest(f *testing.F) {
	fuzzDecoder(f, DecodeHistoryRequest, &HistoryRequest{MUID: muidA, Before: &Cursor{Height: 5, Index: 1}, Limit: 10},
		&HistoryRequest{MUID: muidB})
}

func FuzzDecodeHistoryResponse(f *testing.F) {
	s := seeds(f)
	fuzzDecoder(f, DecodeHistoryResponse, &HistoryResponse{MUID: muidB, More: true,
		Entries: []*HistoryEntry{{Height: 1, Index: 0, Time: 5, Balance: Shells(3), Transfer: s.tr}}})
}

func FuzzDecodeStateRequest(f *testing.F) {
	f.Add([]byte{})
	fuzzDecoder(f, DecodeStateRequest, &StateRequest{})
}

func FuzzDecodeStateResponse(f *testing.F) {
	fuzzDecoder(f, DecodeStateResponse, &StateResponse{Height: 4, Hash: Hash{1}, State: Hash{2}, Supply: GenesisSupply, Accounts: 7})
}

func FuzzDecodeForwardRequest(f *testing.F) {
	s := seeds(f)
	fuzzDecoder(f, DecodeForwardRequest, &ForwardRequest{Transfers: []*Transfer{s.tr, s.tr}})
}

func FuzzDecodeForwardResponse(f *testing.F) {
	fuzzDecoder(f, DecodeForwardResponse, &ForwardResponse{Results: []*StatusResponse{
		{ID: Hash{1}, Status: StatusPending}, {ID: Hash{2}, Status: StatusRejected, Reason: ReasonFunds}}})
}

func FuzzDecodeBlocksRequest(f *testing.F) {
	fuzzDecoder(f, DecodeBlocksRequest, &BlocksRequest{From: 1, Count: MaxBlocksPage})
}

func FuzzDecodeBlocksResponse(f *testing.F) {
	s := seeds(f)
	fuzzDecoder(f, DecodeBlocksResponse, &BlocksResponse{Blocks: []*Block{s.block}}, &BlocksResponse{})
}

func FuzzDecodeHashesRequest(f *testing.F) {
	fuzzDecoder(f, DecodeHashesRequest, &HashesRequest{From: 3, Count: 10})
}

func FuzzDecodeHashesResponse(f *testing.F) {
	fuzzDecoder(f, DecodeHashesResponse, &HashesResponse{From: 3, Hashes: []Hash{{1}, {2}}})
}

func FuzzDecodeTip(f *testing.F) {
	fuzzDecoder(f, DecodeTip, &Tip{Height: 3, Hash: Hash{7}})
}

func FuzzDecodeBlock(f *testing.F) {
	s := seeds(f)
	raw, err := s.block.Encode()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add([]byte(`{"height":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		blk, err := DecodeBlock(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		enc, err := blk.Encode()
		if err != nil {
			t.Fatalf("accepted block does not encode: %v", err)
		}
		blk2, err := DecodeBlock(enc)
		if err != nil || blk2.Hash() != blk.Hash() {
			t.Fatalf("round trip: %v", err)
		}
		_ = blk.VerifySignatures() // must not panic
	})
}

func FuzzDecodeTransfer(f *testing.F) {
	s := seeds(f)
	raw, err := s.tr.Encode()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add([]byte(`{"amount":"1.000000000"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		tr, err := DecodeTransfer(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		enc, err := tr.Encode()
		if err != nil {
			t.Fatalf("accepted transfer does not encode: %v", err)
		}
		tr2, err := DecodeTransfer(enc)
		if err != nil || tr2.ID() != tr.ID() || !bytes.Equal(tr2.Canonical(), tr.Canonical()) {
			t.Fatalf("round trip: %v", err)
		}
		_ = tr.Verify() // must not panic
	})
}

func FuzzDecodeProof(f *testing.F) {
	s := seeds(f)
	f.Add(mustJSON(s.proof))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodeProof(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrBadSignature) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		if p.VerifySignature() != nil {
			t.Fatal("accepted a proof that does not verify")
		}
	})
}

func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"5", "0.1", ".5", "18446744073.709551615", "1.1234567891", "-3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAmount(s)
		if err != nil {
			return
		}
		b, err := ParseAmount(FormatAmount(a))
		if err != nil || b != a {
			t.Fatalf("%q → %d → %q → %d %v", s, uint64(a), FormatAmount(a), uint64(b), err)
		}
	})
}
