package mail

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	mrand "math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/borgios/borghui/peer"
)

func newIdentity(t testing.TB) *MemIdentity {
	t.Helper()
	id, err := NewMemIdentity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func muidOf(t testing.TB, id Identity) string {
	t.Helper()
	m, err := MUIDOf(id.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// keyringOf returns id's keyring with a prekey store in a temp folder.
func keyringOf(t testing.TB, id Identity) *Keyring {
	t.Helper()
	lt, err := LongTermKey(id)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := OpenPrekeyStore(filepath.Join(t.TempDir(), "prekeys.bin"), id)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ps.Close() })
	return &Keyring{LongTerm: lt, Prekeys: ps}
}

// testLink builds a well-formed capability link (as cells/ftree
// EncodeLink would).
func testLink(name string) string {
	sec := []byte{1, 0}
	for i := range 32 {
		sec = append(sec, byte(i+3))
	}
	sec = binary.BigEndian.AppendUint64(sec, 4242)
	sec = append(sec, byte(len(name)))
	sec = append(sec, name...)
	return LinkPrefix + strings.Repeat("ab", 32) + "#" + base64.RawURLEncoding.EncodeToString(sec)
}

// newMessage signs a letter from `from` to `to`.
func newMessage(t testing.TB, from Identity, to, subject, body string) *Message {
	t.Helper()
	m := &Message{To: to, Date: time.Now().UnixMilli(), Subject: subject, Body: body}
	if err := m.Sign(from); err != nil {
		t.Fatal(err)
	}
	return m
}

func mustSeal(t testing.TB, m *Message, mailbox string, pub []byte, key KeyID) *Envelope {
	t.Helper()
	pk, err := ParseHPKEPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	env, err := Seal(m, mailbox, pk, key, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func testCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func waitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// testIPs returns n loopback addresses in a block unlikely to be used by
// another test at the same time.
func testIPs(n int) []string {
	b, c := 100+mrand.IntN(150), mrand.IntN(250)
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("127.%d.%d.%d", b, c, 10+i)
	}
	return out
}

type testNet struct {
	nodes   []*peer.Node
	servers []*Server
}

// startNet starts n in-process nodes of the mail cell (real TLS on
// 127.x.y.z), mounts a server on each and waits until every server knows
// every member.
func startNet(t testing.TB, n int, cfg Config) *testNet {
	t.Helper()
	tn := &testNet{}
	var first string
	for _, ip := range testIPs(n) {
		key := newIdentity(t).MemKey
		pc := peer.Config{Key: key, Cells: []peer.DNA{peer.MailCell}, IP: ip}
		if first != "" {
			pc.Join = map[string][]string{CellName: {first}}
		}
		node, err := peer.Start(context.Background(), pc)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { node.Close() })
		cell := node.Cell(CellName)
		if first == "" {
			first = cell.Addr()
		}
		c := cfg
		c.Dir = t.TempDir()
		if c.Poll == 0 {
			c.Poll = 10 * time.Millisecond
		}
		srv, err := Mount(cell, c)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		tn.nodes, tn.servers = append(tn.nodes, node), append(tn.servers, srv)
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		var counts []int
		all := true
		for _, s := range tn.servers {
			counts = append(counts, len(s.Members()))
			all = all && len(s.Members()) == n
		}
		if all {
			break
		}
		if time.Now().After(deadline) {
			views := ""
			for _, nd := range tn.nodes {
				v := nd.Cell(CellName).View()
				views += fmt.Sprintf(" [pos %d tree %.8s]", v.Pos, v.Tree)
			}
			t.Fatalf("timed out waiting for every server to know every member: %v%s", counts, views)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return tn
}

// multi returns a Multi over tn whose requests key signs.
func (tn *testNet) multi(t testing.TB, key Identity) *Multi {
	t.Helper()
	pool := NewPool(key)
	t.Cleanup(pool.Close)
	return NewMulti(pool.Dial, tn.servers[0].Members(), tn.servers[0].cfg.Replicas)
}

// holders lists the servers storing message id.
func (tn *testNet) holders(id MsgID) []string {
	var out []string
	for _, s := range tn.servers {
		if s.Holds(id) {
			out = append(out, s.ID())
		}
	}
	return out
}
