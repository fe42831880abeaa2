package shard

import "testing"

func seedFrames(f *testing.F) {
	blob := []byte("blob")
	b, _ := EncodeFrame(GetHeader{ID: Sum(blob), Size: 4, Holders: 3, Target: 3}, blob)
	f.Add(b)
	b, _ = EncodeFrame(ReplicateHeader{ID: Sum(blob), Owners: []string{alice}, Holders: []string{bob}}, blob)
	f.Add(b)
	f.Add([]byte{0, 0, 0, 2, '{', '}'})
}

func FuzzDecodeGetReply(f *testing.F) {
	seedFrames(f)
	want := Sum([]byte("blob"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, blob, err := DecodeGetReply(b, want)
		if err == nil && (Sum(blob) != want || h.Size != int64(len(blob))) {
			t.Fatal("accepted a bad answer")
		}
	})
}

func FuzzDecodeReplicate(f *testing.F) {
	seedFrames(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		h, blob, err := DecodeReplicate(b)
		if err == nil && (Sum(blob) != h.ID || len(h.Owners) == 0) {
			t.Fatal("accepted a bad replica")
		}
	})
}

func seedJSON(f *testing.F) {
	id := Sum([]byte("blob")).String()
	for _, s := range []string{
		`{"id":"` + id + `"}`, `{"ids":["` + id + `"]}`, `{"held":["` + id + `"]}`,
		`{"id":"` + id + `","size":4,"copies":3,"target":3}`,
		`{"id":"` + id + `","released":true,"holders":["` + alice + `"]}`,
		`{"id":"` + id + `","copies":3,"target":3}`,
		`{"members":[{"id":"` + alice + `","addr":"127.0.0.1:13355"}],"target":3}`,
		`{"id":"` + alice + `","addr":"127.0.0.1:13350","recp":"127.0.0.1:13355"}`,
		`{"id":"` + id + `","holders":["` + bob + `"]}`, `{}`, `null`, `[]`,
	} {
		f.Add([]byte(s))
	}
}

func FuzzDecodeJSONBodies(f *testing.F) {
	seedJSON(f)
	want := Sum([]byte("blob"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if id, err := DecodeIDRequest(b); err == nil && id == (ID{}) {
			t.Fatal("accepted a zero id")
		}
		if ids, err := DecodeHasRequest(b); err == nil && (len(ids) == 0 || len(ids) > MaxBatch) {
			t.Fatal("accepted a bad batch")
		}
		if held, err := DecodeHasReply(b, []ID{want}); err == nil && len(held) > 1 {
			t.Fatal("accepted more held than asked")
		}
		if r, err := DecodePutReply(b, want); err == nil && r.ID != want {
			t.Fatal("accepted another id")
		}
		if r, err := DecodeDeleteReply(b, want); err == nil && r.ID != want {
			t.Fatal("accepted another id")
		}
		if r, err := DecodeRepairReply(b, want); err == nil && r.ID != want {
			t.Fatal("accepted another id")
		}
		if r, err := DecodeMembersReply(b); err == nil && len(r.Members) == 0 {
			t.Fatal("accepted no members")
		}
		if h, err := DecodeHello(b); err == nil && !validNodeID(h.ID) {
			t.Fatal("accepted a bad hello")
		}
		if n, err := DecodeHoldersNote(b); err == nil && n.ID == (ID{}) {
			t.Fatal("accepted a bad note")
		}
	})
}
