package mail

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"
	"unicode/utf8"
)

// fuzzRoundTrip checks a decoder never panics, refuses with ErrMalformed
// (or ErrTooLarge), and that what it accepts encodes back to bytes it
// accepts again, unchanged.
func fuzzRoundTrip[T any](f *testing.F, decode func([]byte) (T, error), encode func(T) ([]byte, error), seeds ...[]byte) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"a":[{"b":null}]}`))
	f.Add([]byte{0, 0, 0, 2, '{', '}'})
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := decode(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error wraps neither ErrMalformed nor ErrTooLarge: %v", err)
			}
			return
		}
		enc, err := encode(v)
		if err != nil {
			t.Fatalf("accepted value does not encode: %v", err)
		}
		v2, err := decode(enc)
		if err != nil {
			t.Fatalf("re-encoded body refused: %v", err)
		}
		enc2, _ := encode(v2)
		if !bytes.Equal(enc, enc2) {
			t.Fatalf("round trip changed the value:\n%q\n%q", enc, enc2)
		}
	})
}

// jsonCodec adapts a protocol decoder to fuzzRoundTrip.
func fuzzJSON[T any, P interface {
	*T
	message
}](f *testing.F, decode func([]byte) (*T, error), seeds ...message) {
	var bs [][]byte
	for _, s := range seeds {
		b, err := Encode(s)
		if err != nil {
			f.Fatal(err)
		}
		bs = append(bs, b)
	}
	fuzzRoundTrip(f, decode, func(v *T) ([]byte, error) { return Encode(P(v)) }, bs...)
}

type fuzzSeed struct {
	card  *Card
	msg   *Message
	env   *Envelope
	proof *AckProof
	muid  string
	node  string
}

func seeds(f *testing.F) fuzzSeed {
	alice, bob := newIdentity(f), newIdentity(f)
	card := testCard(f, alice, "alice", 2, 2)
	m := &Message{To: muidOf(f, bob), Date: 1700000000000, Subject: "s\"ubj", Body: "b\x01ody", Attachments: []string{testLink("x")}}
	if err := m.Sign(alice); err != nil {
		f.Fatal(err)
	}
	lt, _ := LongTermKey(bob)
	env := mustSeal(f, m, m.To, lt.PublicKey().Bytes(), LongTerm)
	proof, err := NewAckProof(bob, []MsgID{m.ID}, time.UnixMilli(1700000000000))
	if err != nil {
		f.Fatal(err)
	}
	return fuzzSeed{card: card, msg: m, env: env, proof: proof, muid: m.To, node: card.Owner.String()}
}

func FuzzDecodeCard(f *testing.F) {
	s := seeds(f)
	b, _ := s.card.MarshalJSON()
	fuzzRoundTrip(f, DecodeCard, (*Card).MarshalJSON, b)
}

func FuzzDecodeMessage(f *testing.F) {
	s := seeds(f)
	fuzzRoundTrip(f, DecodeMessage, (*Message).Encode, mustEncode(f, s.msg))
}

func FuzzParseEnvelope(f *testing.F) {
	s := seeds(f)
	b, _ := s.env.MarshalBinary()
	fuzzRoundTrip(f, ParseEnvelope, (*Envelope).MarshalBinary, b[:300], b)
}

func FuzzDecodeReplicate(f *testing.F) {
	s := seeds(f)
	b, _ := EncodeReplicate(s.env, []string{s.node})
	type rep struct {
		env     *Envelope
		holders []string
	}
	fuzzRoundTrip(f, func(b []byte) (rep, error) {
		e, h, err := DecodeReplicate(b)
		return rep{e, h}, err
	}, func(r rep) ([]byte, error) { return EncodeReplicate(r.env, r.holders) }, b)
}

func FuzzDecodeFetchResponse(f *testing.F) {
	s := seeds(f)
	b, _ := EncodeFetchResponse([]*Envelope{s.env, s.env})
	e, _ := EncodeFetchResponse([]*Envelope{})
	fuzzRoundTrip(f, DecodeFetchResponse, EncodeFetchResponse, b, e)
}

func FuzzDecodeCardPutRequest(f *testing.F) {
	s := seeds(f)
	fuzzJSON(f, DecodeCardPutRequest, &CardPutRequest{Card: s.card})
}

func FuzzDecodeCardPutResponse(f *testing.F) {
	s := seeds(f)
	fuzzJSON(f, DecodeCardPutResponse, &CardPutResponse{Status: StatusOK, Copies: 3, Target: 3},
		&CardPutResponse{Status: StatusStale, Current: s.card})
}

func FuzzDecodeCardGetRequest(f *testing.F) {
	s := seeds(f)
	fuzzJSON(f, DecodeCardGetRequest, &CardGetRequest{MUID: s.muid})
}

func FuzzDecodeCardGetResponse(f *testing.F) {
	s := seeds(f)
	fuzzJSON(f, DecodeCardGetResponse, &CardGetResponse{Card: s.card, Left: []PrekeyID{s.card.Prekeys[1].ID}},
		&CardGetResponse{Left: []PrekeyID{}})
}

func FuzzDecodeSearchRequest(f *testing.F) {
	fuzzJSON(f, DecodeSearchRequest, &SearchRequest{Query: "Ali", Limit: 5})
}

func FuzzDecodeSearchResponse(f *testing.F) {
	s := seeds(f)
	fuzzJSON(f, DecodeSearchResponse, &SearchResponse{Cards: []*Card{s.card}}, &SearchResponse{Cards: []*Card{}})
}

func FuzzDecodeTakeRequest(f *testing.F) {
	s := seeds(f)
	fuzzJSON(f, DecodeTakeRequest, &TakeRequest{MUID: s.muid})
}

func FuzzDecodeTakeResponse(f *testing.F) {
	s := seeds(f)
	fuzzJSON(f, DecodeTakeResponse, &TakeResponse{Card: s.card, Key: PrekeyKeyID(s.card.Prekeys[0].ID)},
		&TakeResponse{Card: s.card, Key: LongTerm})
}

func FuzzDecodeDeliverResponse(f *testing.F) {
	s := seeds(f)
	fuzzJSON(f, DecodeDeliverResponse, &DeliverResponse{ID: s.msg.ID, State: CellStored, Copies: 3, Target: 3})
}

func FuzzDecodeListRequest(f *testing.F) {
	s := seeds(f)
	fuzzJSON(f, DecodeListRequest, &ListRequest{MUID: s.muid, After: s.msg.ID, Limit: 10})
}

func FuzzDecodeListResponse(f *testing.F) {
	s := seeds(f)
	fuzzJSON(f, DecodeListResponse, &ListResponse{Items: []Header{s.env.Header()}, More: true})
}

func FuzzDecodeFetchRequest(f *testing.F) {
	s := seeds(f)
	fuzzJSON(f, DecodeFetchRequest, &FetchRequest{MUID: s.muid, IDs: []MsgID{s.msg.ID}})
}

func FuzzDecodeAckRequest(f *testing.F) {
	s := seeds(f)
	fuzzJSON(f, DecodeAckRequest, &AckRequest{Proof: s.proof})
}

func FuzzDecodeAckResponse(f *testing.F) {
	fuzzJSON(f, DecodeAckResponse, &AckResponse{Acked: 2})
}

func FuzzDecodeStatusRequest(f *testing.F) {
	s := seeds(f)
	fuzzJSON(f, DecodeStatusRequest, &StatusRequest{IDs: []MsgID{s.msg.ID}})
}

func FuzzDecodeStatusResponse(f *testing.F) {
	s := seeds(f)
	fuzzJSON(f, DecodeStatusResponse, &StatusResponse{States: []IDState{{ID: s.msg.ID, State: CellDelivered}}})
}

func FuzzDecodeMembersResponse(f *testing.F) {
	s := seeds(f)
	fuzzJSON(f, DecodeMembersResponse, &MembersResponse{Members: []Member{{ID: s.node, Addr: "127.0.0.1:13395"}}, Replicas: 3})
}

func FuzzDecodePrekeyDropRequest(f *testing.F) {
	s := seeds(f)
	fuzzJSON(f, DecodePrekeyDropRequest, &PrekeyDropRequest{MUID: s.muid, IDs: []PrekeyID{s.card.Prekeys[0].ID}})
}

func FuzzDecodePrekeyDropResponse(f *testing.F) {
	fuzzJSON(f, DecodePrekeyDropResponse, &PrekeyDropResponse{Dropped: 1})
}

func FuzzCheckLink(f *testing.F) {
	f.Add(testLink("a.txt"))
	f.Add(LinkPrefix + "00")
	f.Fuzz(func(t *testing.T, s string) {
		if err := CheckLink(s); err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatal(err)
		}
	})
}

func FuzzUnpad(f *testing.F) {
	f.Add(pad([]byte("hello")))
	f.Add(make([]byte, 2048))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := unpad(b)
		if err != nil {
			return
		}
		if !bytes.Equal(pad(p), b) {
			t.Fatal("unpad accepted a non-canonical padding")
		}
	})
}

// FuzzPrekeyFile feeds arbitrary plaintext to the prekey store parser.
func FuzzPrekeyFile(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0})
	f.Add(append([]byte{0, 0, 0, 1}, make([]byte, prekeyEntry)...))
	f.Fuzz(func(t *testing.T, p []byte) {
		s := &PrekeyStore{keys: map[PrekeyID]*storedPrekey{}}
		if err := s.parse(p); err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatal(err)
		}
	})
}

// FuzzOutboxJournal opens arbitrary journal files: never a panic, and
// whatever it keeps reopens the same.
func FuzzOutboxJournal(f *testing.F) {
	s := seeds(f)
	env := s.env
	q, _ := queuedLine(&OutboxItem{ID: env.ID, Envelope: env, Queued: time.UnixMilli(1)})
	ql, _ := encodeLine(q)
	sl, _ := encodeLine(journalLine{Op: "sent", ID: env.ID, Copies: 3})
	f.Add(append(append([]byte(nil), ql...), sl...))
	f.Add(ql[:len(ql)/2])
	f.Add([]byte("{} 00000000\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, "outbox.journal")
		if err := writeFileAtomic(path, b); err != nil {
			t.Fatal(err)
		}
		o, err := OpenOutbox(path, newFakeCell(), OutboxConfig{})
		if err != nil {
			return
		}
		n := len(o.Items())
		o.Close()
		o2, err := OpenOutbox(path, newFakeCell(), OutboxConfig{})
		if err != nil {
			t.Fatalf("a journal it wrote does not reopen: %v", err)
		}
		defer o2.Close()
		if len(o2.Items()) != n {
			t.Fatalf("%d items, then %d", n, len(o2.Items()))
		}
	})
}

// FuzzJCSString checks the RFC 8785 string encoder: any valid UTF-8 string
// encodes to JSON that decodes back to itself.
func FuzzJCSString(f *testing.F) {
	f.Add("a\"b\\c\x01\n\u2028é\x7f")
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		var back string
		if err := json.Unmarshal(appendString(nil, s), &back); err != nil || back != s {
			t.Fatalf("%q → %q: %q %v", s, appendString(nil, s), back, err)
		}
	})
}
