package mail

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func testCard(t testing.TB, id Identity, nick string, version uint64, prekeys int) *Card {
	t.Helper()
	lt, err := LongTermKey(id)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := OpenPrekeyStore(filepath.Join(t.TempDir(), "p.bin"), id)
	if err != nil {
		t.Fatal(err)
	}
	defer ps.Close()
	pks, err := ps.Generate(prekeys, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCard(id, nick, "", lt.PublicKey().Bytes(), pks, version, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCardSignVerify(t *testing.T) {
	alice, mallory := newIdentity(t), newIdentity(t)
	base := testCard(t, alice, "Alice \"A\" \\ é", 1, 2)
	other := testCard(t, mallory, "mallory", 1, 0)
	cases := []struct {
		name   string
		change func(c *Card)
		want   error
	}{
		{"valid", func(*Card) {}, nil},
		{"bad signature byte", func(c *Card) { c.Signature[len(c.Signature)-1] ^= 1 }, ErrBadSignature},
		{"not DER", func(c *Card) { c.Signature[0] ^= 0x10 }, ErrBadSignature},
		{"nick changed after signing", func(c *Card) { c.Nick = "Eve" }, ErrBadSignature},
		{"version changed after signing", func(c *Card) { c.Version = 9 }, ErrBadSignature},
		{"prekey dropped after signing", func(c *Card) { c.Prekeys = c.Prekeys[:1] }, ErrBadSignature},
		{"key swapped after signing", func(c *Card) { c.Key = other.Key }, ErrBadSignature},
		{"wrong owner, address kept", func(c *Card) { c.Owner = other.Owner }, ErrForged},
		{"wrong owner and address", func(c *Card) { c.Owner, c.MUID = other.Owner, other.MUID }, ErrBadSignature},
		{"another owner's signature", func(c *Card) { c.Signature = other.Signature }, ErrBadSignature},
		{"nick too long", func(c *Card) { c.Nick = strings.Repeat("n", MaxNick+1) }, ErrMalformed},
		{"empty nick", func(c *Card) { c.Nick = "" }, ErrMalformed},
		{"control in nick", func(c *Card) { c.Nick = "a\nb" }, ErrMalformed},
		{"bad avatar", func(c *Card) { c.Avatar = "https://example.com/x.png" }, ErrMalformed},
		{"duplicate prekey", func(c *Card) { c.Prekeys[1].ID = c.Prekeys[0].ID }, ErrMalformed},
		{"short key", func(c *Card) { c.Key = c.Key[:100] }, ErrMalformed},
		{"version zero", func(c *Card) { c.Version = 0 }, ErrMalformed},
		{"bad MUID", func(c *Card) { c.MUID = "1abc" }, ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := *base
			c.Signature = append(Sig(nil), base.Signature...)
			c.Prekeys = append([]Prekey(nil), base.Prekeys...)
			tc.change(&c)
			err := c.Verify()
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestCardWireRoundTrip(t *testing.T) {
	alice := newIdentity(t)
	c := testCard(t, alice, "Ålice <&> \"quotes\" \\ \u2028", 3, 3)
	c.Avatar = testLink("me.png")
	if err := c.Sign(alice); err != nil {
		t.Fatal(err)
	}
	b, err := c.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(c.Canonical()), CardDomain+`{"avatar":"borg://cap/`) {
		t.Fatalf("canonical form: %.80s", c.Canonical())
	}
	got, err := DecodeCard(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := got.Verify(); err != nil {
		t.Fatal(err)
	}
	if got.Hash() != c.Hash() {
		t.Fatal("hash changed over the wire")
	}
	// Duplicate and unknown members are refused.
	for _, bad := range []string{
		strings.Replace(string(b), `{"avatar"`, `{"nick":"x","avatar"`, 1),
		strings.Replace(string(b), `{"avatar"`, `{"extra":1,"avatar"`, 1),
		string(b) + " {}",
	} {
		if _, err := DecodeCard([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Fatalf("accepted %.60s…: %v", bad, err)
		}
	}
}

func TestCardVersions(t *testing.T) {
	alice := newIdentity(t)
	st, err := openStore(t.TempDir(), 10, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	v1 := testCard(t, alice, "alice", 1, 2)
	v2 := testCard(t, alice, "alice2", 2, 2)
	v2b := testCard(t, alice, "alice2b", 2, 2)
	steps := []struct {
		name    string
		card    *Card
		ok      bool
		current uint64
	}{
		{"first", v1, true, 0},
		{"same again", v1, true, 0},
		{"newer", v2, true, 0},
		{"old version loses", v1, false, 2},
		{"same version, other content loses", v2b, false, 2},
	}
	for _, s := range steps {
		ok, cur, err := st.putCard(s.card)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if ok != s.ok || !ok && cur.Version != s.current {
			t.Fatalf("%s: ok=%v cur=%v", s.name, ok, cur)
		}
	}
	got, left, err := st.card(v1.MUID)
	if err != nil || got.Nick != "alice2" || len(left) != 2 {
		t.Fatalf("card %v left %v err %v", got, left, err)
	}
	if !Newer(v2, v1) || Newer(v1, v2) || Newer(v2, v2) || Newer(v2, v2b) == Newer(v2b, v2) {
		t.Fatal("Newer is not an order")
	}
	// Search by nick prefix (case-insensitive) and exact MUID.
	for _, q := range []string{"ALI", "alice2", v1.MUID} {
		cs, err := st.search(q, 5)
		if err != nil || len(cs) != 1 || cs[0].MUID != v1.MUID {
			t.Fatalf("search %q: %v %v", q, cs, err)
		}
	}
	if cs, _ := st.search("bob", 5); len(cs) != 0 {
		t.Fatalf("search bob: %v", cs)
	}
	if cs, _ := st.search("alice2b", 5); len(cs) != 0 {
		t.Fatal("the index kept a refused nick")
	}
}

func TestPrekeyHandOut(t *testing.T) {
	alice := newIdentity(t)
	st, err := openStore(t.TempDir(), 10, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	c := testCard(t, alice, "alice", 1, 3)
	if _, _, err := st.putCard(c); err != nil {
		t.Fatal(err)
	}
	seen := map[KeyID]bool{}
	for range 3 {
		_, key, err := st.take(c.MUID, time.Now(), 0, 1)
		if err != nil || key == LongTerm || seen[key] {
			t.Fatalf("take: %v %v (seen %v)", key, err, seen)
		}
		seen[key] = true
	}
	if _, key, _ := st.take(c.MUID, time.Now(), 0, 1); key != LongTerm {
		t.Fatalf("fourth take: %v, want longterm", key)
	}
	// A newer card keeping one old prekey: the old one stays handed out.
	c2 := &Card{Nick: "alice", Key: c.Key, Prekeys: append([]Prekey{c.Prekeys[0]}, testCard(t, alice, "x", 1, 1).Prekeys...), Version: 2}
	if err := c2.Sign(alice); err != nil {
		t.Fatal(err)
	}
	if ok, _, err := st.putCard(c2); !ok || err != nil {
		t.Fatal(ok, err)
	}
	_, left, _ := st.card(c.MUID)
	if len(left) != 1 || left[0] != c2.Prekeys[1].ID {
		t.Fatalf("left %v", left)
	}
	if card, _, _ := st.take("1BoatSLRHtKNngkdXEeobR76b53LETtpyT", time.Now(), 0, 1); card != nil {
		t.Fatal("take for an unknown address answered a card")
	}
}
