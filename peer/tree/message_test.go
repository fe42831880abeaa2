package tree

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func mem(id string) Member { return Member{ID: NodeID(id), Addr: "10.0.0.1:13350"} }

func memp(id string) *Member { m := mem(id); return &m }

// sampleMessages has one valid message of every type.
func sampleMessages() []*Message {
	return []*Message{
		{Type: TypeJoin, Seq: 1, Target: memp("a")},
		{Type: TypeRedirect, Seq: 2, Root: memp("r"), Tree: "t1", Epoch: 3, Size: 9},
		{Type: TypeAssign, Seq: 3, Tree: "t1", Prev: "t0", PrevEpoch: 2, Epoch: 4, Pos: 2, Size: 5, Root: memp("r"), Parent: memp("r"),
			Children: []Member{mem("c1"), mem("c2")}, Group: []Member{mem("a"), mem("b")}},
		{Type: TypeUpdate, Seq: 4, Tree: "t1", Prev: "t0", PrevEpoch: 2, Epoch: 5, Root: memp("r"), Group: []Member{mem("a")}},
		{Type: TypeEvict, Seq: 5, Tree: "t1", Epoch: 6},
		{Type: TypeMigrate, Seq: 6, Tree: "t1", Target: memp("w"), Other: "t2"},
		{Type: TypeHandoff, Seq: 7, Tree: "t1", Epoch: 7},
		{Type: TypeRepl, Seq: 8, Tree: "t1", Epoch: 8, Offset: 1024, Last: true, Members: []Member{mem("x"), {ID: "y", Addr: "relay:x"}}},
		{Type: TypeRepl, Seq: 9, Tree: "t1", Epoch: 10, Commit: 8, Deltas: []Delta{
			{Epoch: 9, Size: 3, Set: []Slot{{Pos: 3, Member: mem("z")}}},
			{Epoch: 10, Size: 2, Gone: []Member{mem("z")}}}},
		{Type: TypeReport, Seq: 10, Tree: "t1", Target: memp("d")},
		{Type: TypeLeave, Seq: 11, Tree: "t1"},
		{Type: TypePing, Seq: 12, Tree: "t1", Epoch: 3, Info: 2},
		{Type: TypePingReq, Seq: 13, Target: memp("d")},
		{Type: TypePong, Seq: 14, Tree: "t1", Epoch: 3, Info: 2, Pos: 7, Neighbour: true, Root: memp("r")},
		{Type: TypeAck, Seq: 15},
		{Type: TypeError, Seq: 16, Code: ReasonStaleEpoch},
		{Type: TypeWhois, Seq: 17},
		{Type: TypeInfo, Seq: 18, Tree: "t1", Epoch: 3, Size: 40, Root: memp("r"), Accept: true},
		{Type: TypeMerge, Seq: 19, Tree: "t1", Epoch: 3, Size: 40, Root: memp("r")},
		{Type: TypeBcast, ID: "0123456789abcdef0123456789abcdef", Origin: "o", Hops: 3, Tree: "t1", Payload: []byte("a\nb\x00c")},
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	for _, m := range sampleMessages() {
		t.Run(m.Type, func(t *testing.T) {
			b, err := m.Encode()
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			got, err := Decode(b)
			if err != nil {
				t.Fatalf("Decode(%s): %v", b, err)
			}
			if !reflect.DeepEqual(got, m) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", got, m)
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	long := strings.Repeat("a", MaxIDLen+1)
	many := func(n int) string {
		var b strings.Builder
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`{"id":"c` + strings.Repeat("x", i%7) + `"}`)
		}
		return b.String()
	}
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"empty", ``, ErrMalformed},
		{"not json", `hello`, ErrMalformed},
		{"null", `null`, ErrUnknownType},
		{"unknown type", `{"type":"tree.nope","seq":1}`, ErrUnknownType},
		{"restart-like rootDeath", `{"type":"tree.rootDeath","seq":1}`, ErrUnknownType},
		{"legacy rootDropThisNode", `{"type":"rootDropThisNode","seq":1}`, ErrUnknownType},
		{"legacy TRANSFER_OK", `{"type":"TRANSFER_OK"}`, ErrUnknownType},
		{"unknown field", `{"type":"tree.ack","seq":1,"restart":true}`, ErrMalformed},
		{"key in other case", `{"type":"tree.ack","SEQ":1}`, ErrMalformed},
		{"duplicate key", `{"type":"tree.ack","seq":1,"seq":2}`, ErrMalformed},
		{"trailing data", `{"type":"tree.ack","seq":1} {}`, ErrMalformed},
		{"missing seq", `{"type":"tree.ack"}`, ErrMalformed},
		{"negative seq", `{"type":"tree.ack","seq":-1}`, ErrMalformed},
		{"float seq", `{"type":"tree.ack","seq":1.5}`, ErrMalformed},
		{"field not allowed", `{"type":"tree.ack","seq":1,"pos":3}`, ErrMalformed},
		{"bad id charset", `{"type":"tree.join","seq":1,"target":{"id":"a b"}}`, ErrMalformed},
		{"id too long", `{"type":"tree.join","seq":1,"target":{"id":"` + long + `"}}`, ErrMalformed},
		{"addr with quote", `{"type":"tree.join","seq":1,"target":{"id":"a","addr":"x\"y"}}`, ErrMalformed},
		{"assign position 0", `{"type":"tree.assign","seq":1,"tree":"t","epoch":1,"pos":0,"size":3,"root":{"id":"r"},"parent":{"id":"r"}}`, ErrMalformed},
		{"assign position 1", `{"type":"tree.assign","seq":1,"tree":"t","epoch":1,"pos":1,"size":3,"root":{"id":"r"},"parent":{"id":"r"}}`, ErrMalformed},
		{"assign size < pos", `{"type":"tree.assign","seq":1,"tree":"t","epoch":1,"pos":5,"size":3,"root":{"id":"r"},"parent":{"id":"r"}}`, ErrMalformed},
		{"assign without parent", `{"type":"tree.assign","seq":1,"tree":"t","epoch":1,"pos":2,"size":3,"root":{"id":"r"}}`, ErrMalformed},
		{"children over MaxFanout", `{"type":"tree.assign","seq":1,"tree":"t","epoch":1,"pos":2,"size":300,"root":{"id":"r"},"parent":{"id":"r"},"children":[` + many(MaxFanout+1) + `]}`, ErrMalformed},
		{"members over MaxChunk", `{"type":"tree.repl","seq":1,"tree":"t","epoch":1,"members":[` + many(MaxChunk+1) + `]}`, ErrMalformed},
		{"prev without prevEpoch", `{"type":"tree.evict","seq":1,"tree":"t","epoch":1,"prev":"s"}`, ErrMalformed},
		{"deltas not consecutive", `{"type":"tree.repl","seq":1,"tree":"t","epoch":3,"deltas":[{"epoch":1,"size":1},{"epoch":3,"size":1}]}`, ErrMalformed},
		{"slot beyond size", `{"type":"tree.repl","seq":1,"tree":"t","epoch":1,"deltas":[{"epoch":1,"size":1,"set":[{"pos":2,"member":{"id":"x"}}]}]}`, ErrMalformed},
		{"deltas and chunk", `{"type":"tree.repl","seq":1,"tree":"t","epoch":1,"last":true,"deltas":[{"epoch":1,"size":1}]}`, ErrMalformed},
		{"payload on a non-broadcast", "{\"type\":\"tree.ack\",\"seq\":1}\nxyz", ErrMalformed},
		{"hops over max", `{"type":"tree.bcast","id":"i","origin":"o","hops":5000}`, ErrMalformed},
		{"tree id charset", `{"type":"tree.leave","seq":1,"tree":"t/1"}`, ErrMalformed},
		{"nesting", `{"type":"tree.ack","seq":1,"root":{"id":{"a":{"b":{"c":{"d":{"e":{"f":1}}}}}}}}`, ErrMalformed},
		{"too large", `{"type":"tree.bcast","id":"i","origin":"o","hops":1}` + "\n" + strings.Repeat("x", MaxMessageSize), ErrTooLarge},
		{"payload over MaxPayload", `{"type":"tree.bcast","id":"i","origin":"o","hops":1}` + "\n" + strings.Repeat("x", MaxPayload+1), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Decode([]byte(tt.in))
			if err == nil {
				t.Fatalf("Decode accepted %+v", m)
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Decode error %v, want %v", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "tree: ") {
				t.Errorf("error %q does not start with \"tree: \"", err)
			}
		})
	}
}

func TestFieldErrorNamesTheField(t *testing.T) {
	_, err := Decode([]byte(`{"type":"tree.assign","seq":1,"tree":"t","epoch":1,"pos":5,"size":3,"root":{"id":"r"},"parent":{"id":"r"}}`))
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "size" || fe.Type != TypeAssign {
		t.Fatalf("error %v, want a FieldError on tree.assign size", err)
	}
}

func TestEncodeRejectsInvalid(t *testing.T) {
	if _, err := (&Message{Type: "tree.restart"}).Encode(); !errors.Is(err, ErrUnknownType) {
		t.Fatalf("Encode of an unknown type: %v", err)
	}
	if _, err := (&Message{Type: TypeAck}).Encode(); !errors.Is(err, ErrMalformed) {
		t.Fatalf("Encode without seq: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	for _, m := range sampleMessages() {
		b, err := m.Encode()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"type":"tree.rootDeath","seq":1}`))
	f.Add([]byte("{\"type\":\"tree.bcast\",\"id\":\"i\",\"origin\":\"o\",\"hops\":1}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			return
		}
		enc, err := m.Encode()
		if err != nil {
			t.Fatalf("accepted %q but cannot re-encode: %v", b, err)
		}
		m2, err := Decode(enc)
		if err != nil {
			t.Fatalf("re-encoding %q does not decode: %v", enc, err)
		}
		if !reflect.DeepEqual(m, m2) {
			t.Fatalf("re-encoding changed the message:\n%+v\n%+v", m, m2)
		}
		if enc2, _ := m2.Encode(); !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding is not stable")
		}
	})
}
