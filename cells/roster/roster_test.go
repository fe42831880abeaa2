package roster

import (
	"context"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/borgios/borghui/peer"
	"github.com/borgios/borghui/signer"
)

// startRosters starts n in-process nodes of the crono cell on loopback
// (real TLS) with a roster on each.
func startRosters(t *testing.T, n int, joins *atomic.Int32) []*Roster {
	t.Helper()
	b, c := 100+mrand.IntN(150), mrand.IntN(250)
	var first string
	var out []*Roster
	for i := range n {
		key, err := signer.GenerateMemKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		pc := peer.Config{Key: key, Cells: []peer.DNA{peer.CronoCell}, IP: fmt.Sprintf("127.%d.%d.%d", b, c, 10+i)}
		if first != "" {
			pc.Join = map[string][]string{peer.CronoCell.Name: {first}}
		}
		node, err := peer.Start(context.Background(), pc)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { node.Close() })
		cell := node.Cell(peer.CronoCell.Name)
		if first == "" {
			first = cell.Addr()
		}
		r, err := Start(cell, Config{Type: "test.hello", Poll: 10 * time.Millisecond, OnJoin: func(Member) { joins.Add(1) }})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(r.Close)
		out = append(out, r)
	}
	return out
}

func TestEveryoneLearnsEveryone(t *testing.T) {
	var joins atomic.Int32
	rs := startRosters(t, 5, &joins)
	deadline := time.Now().Add(30 * time.Second)
	for {
		all := true
		for _, r := range rs {
			if len(r.Members()) != len(rs) {
				all = false
			}
		}
		if all {
			break
		}
		if time.Now().After(deadline) {
			for i, r := range rs {
				t.Logf("node %d knows %d", i, len(r.Members()))
			}
			t.Fatal("the members did not all learn each other")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, r := range rs {
		if got := len(r.Others()); got != len(rs)-1 {
			t.Fatalf("Others: %d", got)
		}
		for _, o := range rs {
			m, ok := r.Lookup(o.Self().ID)
			if !ok || m.Recp != o.Self().Recp || m.Addr != o.Self().Addr {
				t.Fatalf("lookup of %.12s: %+v %v", o.Self().ID, m, ok)
			}
		}
	}
	time.Sleep(50 * time.Millisecond) // OnJoin runs on its own goroutine
	if got := joins.Load(); got < int32(len(rs)*(len(rs)-1)) {
		t.Fatalf("OnJoin called %d times, want at least %d", got, len(rs)*(len(rs)-1))
	}
}

func TestDecodeHello(t *testing.T) {
	id := "04" + strings.Repeat("ab", 64)
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"good", `{"id":"` + id + `","addr":"127.0.0.1:1","recp":"127.0.0.1:2"}`, true},
		{"no recp", `{"id":"` + id + `","addr":"127.0.0.1:1"}`, true},
		{"no addr", `{"id":"` + id + `","recp":"127.0.0.1:2"}`, false},
		{"upper hex", `{"id":"` + strings.ToUpper(id) + `","addr":"a"}`, false},
		{"short id", `{"id":"04ab","addr":"a"}`, false},
		{"unknown field", `{"id":"` + id + `","addr":"a","x":1}`, false},
		{"trailing", `{"id":"` + id + `","addr":"a"}{}`, false},
		{"long addr", `{"id":"` + id + `","addr":"` + strings.Repeat("a", 300) + `"}`, false},
		{"not json", `hello`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := DecodeHello([]byte(tc.in)); (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok = %v", err, tc.ok)
			}
		})
	}
}

func FuzzDecodeHello(f *testing.F) {
	f.Add([]byte(`{"id":"04` + strings.Repeat("ab", 64) + `","addr":"127.0.0.1:1","recp":"x"}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeHello(b)
		if err == nil && (len(m.ID) != nodeIDLen || m.Addr == "") {
			t.Fatalf("accepted %+v", m)
		}
	})
}
