package ftree

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// fuzzDecoder checks a decoder never panics, refuses with ErrMalformed, and
// that what it accepts encodes back to a body it accepts again unchanged.
func fuzzDecoder[T any](f *testing.F, decode func([]byte) (*T, error), seeds ...any) {
	for _, s := range seeds {
		if m, ok := s.(message); ok {
			b, err := Encode(m)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"a":[{"b":null}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := decode(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
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

type seeds struct {
	owner PubKey
	rec   *RootRecord
	share *Share
}

func fuzzSeeds(f *testing.F) seeds {
	a, b := newKey(f), newKey(f)
	rec := next(f, a, next(f, a, nil, "one"), "two")
	sealed, err := SealCapability(testCap("x"), b.PublicKey())
	if err != nil {
		f.Fatal(err)
	}
	sh, err := NewShare(a, b.PublicKey(), sealed, time.Now())
	if err != nil {
		f.Fatal(err)
	}
	return seeds{owner: pub(f, a), rec: rec, share: sh}
}

func FuzzDecodeRootGetRequest(f *testing.F) {
	s := fuzzSeeds(f)
	fuzzDecoder(f, DecodeRootGetRequest, &RootGetRequest{Owner: s.owner})
}

func FuzzDecodeRootGetResponse(f *testing.F) {
	s := fuzzSeeds(f)
	fuzzDecoder(f, DecodeRootGetResponse, &RootGetResponse{Record: s.rec}, &RootGetResponse{})
}

func FuzzDecodeRootPutRequest(f *testing.F) {
	s := fuzzSeeds(f)
	fuzzDecoder(f, DecodeRootPutRequest, &RootPutRequest{Record: s.rec})
}

func FuzzDecodeRootPutResponse(f *testing.F) {
	s := fuzzSeeds(f)
	fuzzDecoder(f, DecodeRootPutResponse, &RootPutResponse{Status: StatusOK}, &RootPutResponse{Status: StatusConflict, Current: s.rec})
}

func FuzzDecodeRootHistoryRequest(f *testing.F) {
	s := fuzzSeeds(f)
	fuzzDecoder(f, DecodeRootHistoryRequest, &RootHistoryRequest{Owner: s.owner})
}

func FuzzDecodeRootHistoryResponse(f *testing.F) {
	s := fuzzSeeds(f)
	fuzzDecoder(f, DecodeRootHistoryResponse, &RootHistoryResponse{Records: []*RootRecord{s.rec, s.rec}})
}

func FuzzDecodeSharePutRequest(f *testing.F) {
	s := fuzzSeeds(f)
	fuzzDecoder(f, DecodeSharePutRequest, &SharePutRequest{Share: s.share})
}

func FuzzDecodeSharePutResponse(f *testing.F) {
	s := fuzzSeeds(f)
	fuzzDecoder(f, DecodeSharePutResponse, &SharePutResponse{ID: s.share.ID()})
}

func FuzzDecodeShareListRequest(f *testing.F) {
	s := fuzzSeeds(f)
	fuzzDecoder(f, DecodeShareListRequest, &ShareListRequest{After: s.share.ID(), Limit: 3})
}

func FuzzDecodeShareListResponse(f *testing.F) {
	s := fuzzSeeds(f)
	fuzzDecoder(f, DecodeShareListResponse, &ShareListResponse{Shares: []*Share{s.share}, More: true})
}

func FuzzDecodeShareRevokeRequest(f *testing.F) {
	s := fuzzSeeds(f)
	fuzzDecoder(f, DecodeShareRevokeRequest, &ShareRevokeRequest{Recipient: s.share.Recipient, ID: s.share.ID()})
}

func FuzzDecodeShareRevokeResponse(f *testing.F) {
	fuzzDecoder(f, DecodeShareRevokeResponse, &ShareRevokeResponse{Revoked: true})
}

func FuzzParseLink(f *testing.F) {
	link, err := EncodeLink(testCap("seed"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(link)
	f.Add(LinkPrefix)
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseLink(s)
		if err != nil {
			return
		}
		again, err := EncodeLink(c)
		if err != nil || again != s {
			t.Fatalf("accepted link %q re-encodes to %q, %v", s, again, err)
		}
	})
}

func FuzzParseCapability(f *testing.F) {
	b, err := testCap("seed").MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCapability(b)
		if err != nil {
			return
		}
		again, err := c.MarshalBinary()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("accepted capability re-encodes differently: %v", err)
		}
	})
}

// FuzzOpenCapability: opening never panics, and a box changed in any way
// never opens.
func FuzzOpenCapability(f *testing.F) {
	k := newKey(f)
	orig, err := SealCapability(testCap("secret"), k.PublicKey())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(orig)
	f.Add(orig[:sealOverhead])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := OpenCapability(b, k)
		if err == nil && !bytes.Equal(b, orig) {
			t.Fatalf("a box other than the sealed one opened: %+v", c)
		}
		if err != nil && !errors.Is(err, ErrOpen) {
			t.Fatalf("error does not wrap ErrOpen: %v", err)
		}
	})
}
