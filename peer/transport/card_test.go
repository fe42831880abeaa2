package transport

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/borgios/borghui/signer"
)

func testCard(t *testing.T, now time.Time) (*NodeCard, *signer.MemKey) {
	t.Helper()
	k := newKey(t)
	c := &NodeCard{TLSKeyHash: [32]byte{1, 2, 3}, Addrs: []string{"127.0.0.1:13350", "[::1]:13350"},
		Cells: []string{"shardTreeCell", "mailTreeCell"}, Issued: now.UnixMilli(), Expires: now.Add(time.Hour).UnixMilli()}
	if err := c.Sign(k); err != nil {
		t.Fatal(err)
	}
	return c, k
}

func TestCardSignVerifyTamper(t *testing.T) {
	now := time.UnixMilli(1700000000000)
	other := newKey(t)
	tests := []struct {
		name   string
		mutate func(c *NodeCard)
		at     time.Time
		ok     bool
	}{
		{"valid", func(*NodeCard) {}, now, true},
		{"valid at expiry", func(*NodeCard) {}, now.Add(time.Hour), true},
		{"valid within skew", func(*NodeCard) {}, now.Add(-CardSkew), true},
		{"expired", func(*NodeCard) {}, now.Add(time.Hour + time.Millisecond), false},
		{"from the future", func(*NodeCard) {}, now.Add(-CardSkew - time.Millisecond), false},
		{"address changed", func(c *NodeCard) { c.Addrs[0] = "127.0.0.2:13350" }, now, false},
		{"address added", func(c *NodeCard) { c.Addrs = append(c.Addrs, "127.0.0.3:1") }, now, false},
		{"cell changed", func(c *NodeCard) { c.Cells[1] = "peerPaysCell" }, now, false},
		{"tls key changed", func(c *NodeCard) { c.TLSKeyHash[0] ^= 1 }, now, false},
		{"expiry extended", func(c *NodeCard) { c.Expires += 1 }, now, false},
		{"issued moved", func(c *NodeCard) { c.Issued -= 1 }, now, false},
		{"other node key", func(c *NodeCard) { copy(c.NodeKey[:], other.PublicKey()) }, now, false},
		{"signature flipped", func(c *NodeCard) { c.Sig[len(c.Sig)-1] ^= 1 }, now, false},
		{"version 2", func(c *NodeCard) { c.Version = 2 }, now, false},
		{"zero tls hash", func(c *NodeCard) { c.TLSKeyHash = [32]byte{} }, now, false},
		{"too long validity", func(c *NodeCard) { c.Expires = c.Issued + MaxCardTTL.Milliseconds() + 1 }, now, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := testCard(t, now)
			tc.mutate(c)
			err := c.Verify(tc.at)
			if tc.ok && err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !tc.ok && !errors.Is(err, ErrBadCard) {
				t.Fatalf("Verify = %v, want ErrBadCard", err)
			}
		})
	}
}

func TestCardEncodeDecode(t *testing.T) {
	now := time.UnixMilli(1700000000000)
	c, _ := testCard(t, now)
	b, err := c.Encode()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"addrs":["127.0.0.1:13350","[::1]:13350"],"cells":["shardTreeCell","mailTreeCell"],"expires":1700003600000,"issued":1700000000000,"nodeKey":"` +
		string(c.ID()) + `","sig":"`
	if !strings.HasPrefix(string(b), want) {
		t.Fatalf("encoding\n%s\nwant prefix\n%s", b, want)
	}
	d, err := DecodeCard(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Verify(now); err != nil {
		t.Fatal(err)
	}
	b2, _ := d.Encode()
	if !bytes.Equal(b, b2) {
		t.Fatal("re-encoding differs")
	}
	signed, _ := c.SignedBytes()
	if !bytes.HasPrefix(signed, []byte(CardDomain+`{"addrs":`)) || bytes.Contains(signed, []byte(`"sig"`)) {
		t.Fatalf("signed bytes: %s", signed)
	}

	s := string(b)
	bad := []struct{ name, in string }{
		{"empty", ""},
		{"whitespace", strings.Replace(s, `{"addrs"`, `{ "addrs"`, 1)},
		{"trailing", s + " "},
		{"trailing garbage", s + "{}"},
		{"member order", strings.Replace(strings.Replace(s, `"addrs":["127.0.0.1:13350","[::1]:13350"],`, "", 1), `,"expires"`, `,"addrs":["127.0.0.1:13350","[::1]:13350"],"expires"`, 1)},
		{"unknown member", strings.Replace(s, `{"addrs"`, `{"x":1,"addrs"`, 1)},
		{"duplicate member", strings.Replace(s, `"cells":`, `"addrs":[],"cells":`, 1)},
		{"upper hex", strings.Replace(s, string(c.ID()), strings.ToUpper(string(c.ID())), 1)},
		{"escaped string", strings.Replace(s, `"shardTreeCell"`, `"shard\u0054reeCell"`, 1)},
		{"null addrs", strings.Replace(s, `"addrs":["127.0.0.1:13350","[::1]:13350"]`, `"addrs":null`, 1)},
		{"bad address", strings.Replace(s, `127.0.0.1:13350`, `127.0.0.1:99999`, 1)},
		{"address without port", strings.Replace(s, `127.0.0.1:13350`, `127.0.0.1`, 1)},
		{"leading zero", strings.Replace(s, `"version":1`, `"version":01`, 1)},
		{"float", strings.Replace(s, `"issued":1700000000000`, `"issued":1700000000000.0`, 1)},
		{"too large", `{"addrs":["` + strings.Repeat("a", MaxCardBytes) + `"]}`},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := DecodeCard([]byte(tc.in)); !errors.Is(err, ErrBadCard) {
				t.Fatalf("DecodeCard = %v, want ErrBadCard", err)
			}
		})
	}
}

func TestNodeIDKey(t *testing.T) {
	k := newKey(t)
	id := IDOf(k.PublicKey())
	got, err := id.Key()
	if err != nil || !bytes.Equal(got[:], k.PublicKey()) {
		t.Fatalf("Key() = %x, %v", got, err)
	}
	for _, bad := range []NodeID{"", "04", NodeID(strings.ToUpper(string(id))), id[:128] + "zz", NodeID("04" + strings.Repeat("0", 128))} {
		if _, err := bad.Key(); err == nil {
			t.Errorf("Key(%q) accepted", bad)
		}
	}
}
