package shard

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestDecoders(t *testing.T) {
	blob := []byte("ciphertext")
	id := Sum(blob)
	good, _ := EncodeFrame(ReplicateHeader{ID: id, Owners: []string{alice}}, blob)
	wrong, _ := EncodeFrame(ReplicateHeader{ID: Sum([]byte("x")), Owners: []string{alice}}, blob)
	tests := []struct {
		name string
		body []byte
		want error
	}{
		{"good replica", good, nil},
		{"wrong hash", wrong, ErrHashMismatch},
		{"short", []byte{0, 0}, ErrMalformed},
		{"zero header", []byte{0, 0, 0, 0}, ErrMalformed},
		{"header past end", []byte{0, 0, 0, 9, '{', '}'}, ErrMalformed},
		{"unknown field", append([]byte{0, 0, 0, 20}, `{"id":"00","x":1}   `...), ErrMalformed},
		{"trailing json", frame(`{"id":"` + id.String() + `"}{}`), ErrMalformed},
		{"upper hex", frame(`{"id":"` + strings.ToUpper(id.String()) + `"}`), ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, gotBlob, err := DecodeReplicate(tc.body)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if err == nil && (h.ID != id || !bytes.Equal(gotBlob, blob)) {
				t.Fatal("decoded the wrong thing")
			}
		})
	}
}

func frame(h string) []byte {
	return append([]byte{0, 0, 0, byte(len(h))}, h...)
}

func TestRankIsStableAndDistinct(t *testing.T) {
	ms := []Member{{ID: alice, Addr: "a:1"}, {ID: bob, Addr: "b:1"}, {ID: alice, Addr: "a:1"},
		{ID: "04" + strings.Repeat("cc", 64), Addr: "c:1"}}
	id := Sum([]byte("x"))
	r1 := RankMembers(id, ms)
	r2 := RankMembers(id, []Member{ms[3], ms[1], ms[0]})
	if len(r1) != 3 {
		t.Fatalf("%d ranked, want 3 distinct", len(r1))
	}
	for i := range r1 {
		if r1[i].ID != r2[i].ID {
			t.Fatal("rank depends on input order")
		}
	}
}

func TestMessageIsUserText(t *testing.T) {
	for _, err := range []error{ErrQuota, ErrNotOwner, ErrCorrupt, errors.New("x")} {
		if m := Message(err); m == "" || strings.Contains(m, "shard:") {
			t.Fatalf("%v → %q", err, m)
		}
	}
}
