package mail

import (
	"bytes"
	"crypto/hpke"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/borgios/borghui/wallet"
)

func TestSealOpenRoundTrip(t *testing.T) {
	alice, bob := newIdentity(t), newIdentity(t)
	bobKeys := keyringOf(t, bob)
	pks, err := bobKeys.Prekeys.Generate(1, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	bobMUID := muidOf(t, bob)
	cases := []struct {
		name    string
		subject string
		body    string
		attach  []string
		prekey  bool
	}{
		{"empty", "", "", nil, false},
		{"plain", "hello", "Hi Bob,\nlunch?", nil, false},
		{"unicode and escapes", "ünï \"cödé\" \\ \x01", "tab\there <b>&</b> \u2028 \x7f 🙂", nil, true},
		{"attachments", "files", "see attached", []string{testLink("a.txt"), testLink("")}, true},
		{"half a megabyte", "big", strings.Repeat("0123456789abcdef", 32<<10), nil, false},
		{"near the limit", "max", strings.Repeat("x", MaxMessage-2048), nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := &Message{To: bobMUID, Date: time.Now().UnixMilli(), Subject: tc.subject, Body: tc.body, Attachments: tc.attach}
			if err := m.Sign(alice); err != nil {
				t.Fatal(err)
			}
			key, pub := LongTerm, bobKeys.LongTerm.PublicKey().Bytes()
			if tc.prekey {
				key, pub = PrekeyKeyID(pks[0].ID), pks[0].Key
			}
			env := mustSeal(t, m, bobMUID, pub, key)
			if len(env.Sealed) != EncLen+paddedLen(len(mustEncode(t, m)))+tagLen {
				t.Fatalf("sealed %d bytes", len(env.Sealed))
			}
			wire, err := env.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			back, err := ParseEnvelope(wire)
			if err != nil {
				t.Fatal(err)
			}
			op, err := Open(back, bobKeys)
			if err != nil {
				t.Fatal(err)
			}
			got := op.Message
			if got.Subject != tc.subject || got.Body != tc.body || len(got.Attachments) != len(tc.attach) ||
				got.FromMUID != muidOf(t, alice) || op.ForwardSecret != tc.prekey || got.Hash() != m.Hash() {
				t.Fatalf("opened %+v", op)
			}
			if bytes.Contains(env.Sealed, []byte(tc.body)) && tc.body != "" {
				t.Fatal("plaintext visible in the envelope")
			}
		})
	}
	t.Run("too large", func(t *testing.T) {
		m := &Message{To: bobMUID, Body: strings.Repeat("x", MaxMessage)}
		if err := m.Sign(alice); !errors.Is(err, ErrTooLarge) {
			t.Fatalf("err = %v", err)
		}
	})
}

func mustEncode(t testing.TB, m *Message) []byte {
	t.Helper()
	b, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTamper flips one byte at a time across the whole wire envelope
// (header and ciphertext) and changes each header field: nothing may open.
func TestTamper(t *testing.T) {
	alice, bob := newIdentity(t), newIdentity(t)
	bobKeys := keyringOf(t, bob)
	pks, _ := bobKeys.Prekeys.Generate(2, time.Now())
	bobMUID := muidOf(t, bob)
	m := newMessage(t, alice, bobMUID, "secret", "the body")
	env := mustSeal(t, m, bobMUID, bobKeys.LongTerm.PublicKey().Bytes(), LongTerm)
	wire, _ := env.MarshalBinary()
	if _, err := Open(env, bobKeys); err != nil {
		t.Fatal(err)
	}
	positions := []int{}
	for i := 0; i < len(wire); i++ {
		if i < 300 || i%61 == 0 || i >= len(wire)-40 {
			positions = append(positions, i)
		}
	}
	for _, i := range positions {
		b := bytes.Clone(wire)
		b[i] ^= 0x20
		e, err := ParseEnvelope(b)
		if err == nil {
			_, err = Open(e, bobKeys)
		}
		if err == nil {
			t.Fatalf("byte %d flipped: still opens", i)
		}
	}
	other, _ := NewMsgID()
	fields := []struct {
		name   string
		change func(e *Envelope)
		want   error
	}{
		{"id", func(e *Envelope) { e.ID = other }, ErrOpen},
		{"mailbox", func(e *Envelope) { e.To = muidOf(t, alice) }, ErrOpen},
		{"time", func(e *Envelope) { e.Time++ }, ErrOpen},
		{"key to a prekey", func(e *Envelope) { e.Key = PrekeyKeyID(pks[0].ID) }, ErrOpen},
		{"key to an unknown prekey", func(e *Envelope) { e.Key = PrekeyKeyID(PrekeyID{1}) }, ErrNoKey},
		{"truncated below the minimum", func(e *Envelope) { e.Sealed = e.Sealed[:len(e.Sealed)-1] }, ErrMalformed},
		{"extended", func(e *Envelope) { e.Sealed = append(e.Sealed, 0) }, ErrOpen},
		{"encapsulation", func(e *Envelope) { e.Sealed[5] ^= 1 }, ErrOpen},
		{"tag", func(e *Envelope) { e.Sealed[len(e.Sealed)-1] ^= 1 }, ErrOpen},
	}
	for _, f := range fields {
		t.Run(f.name, func(t *testing.T) {
			e := *env
			e.Sealed = bytes.Clone(env.Sealed)
			f.change(&e)
			if _, err := Open(&e, bobKeys); !errors.Is(err, f.want) {
				t.Fatalf("err = %v, want %v", err, f.want)
			}
		})
	}
}

func TestThirdIdentityCannotOpen(t *testing.T) {
	alice, bob, carol := newIdentity(t), newIdentity(t), newIdentity(t)
	bobKeys, carolKeys := keyringOf(t, bob), keyringOf(t, carol)
	pks, _ := bobKeys.Prekeys.Generate(1, time.Now())
	bobMUID := muidOf(t, bob)
	m := newMessage(t, alice, bobMUID, "for bob", "only")
	for _, env := range []*Envelope{
		mustSeal(t, m, bobMUID, bobKeys.LongTerm.PublicKey().Bytes(), LongTerm),
		mustSeal(t, m, bobMUID, pks[0].Key, PrekeyKeyID(pks[0].ID)),
	} {
		if _, err := Open(env, carolKeys); !errors.Is(err, ErrOpen) && !errors.Is(err, ErrNoKey) {
			t.Fatalf("carol: %v", err)
		}
		// Carol's long-term key under the envelope's label: still no.
		forced := &forcedKeys{carolKeys.LongTerm}
		if _, err := Open(env, forced); !errors.Is(err, ErrOpen) {
			t.Fatalf("carol forced: %v", err)
		}
	}
	// The sender cannot open what it sealed to bob either.
	if _, err := Open(mustSeal(t, m, bobMUID, bobKeys.LongTerm.PublicKey().Bytes(), LongTerm), keyringOf(t, alice)); !errors.Is(err, ErrOpen) {
		t.Fatalf("alice: %v", err)
	}
}

// forcedKeys answers every key id with one private key.
type forcedKeys struct{ k hpke.PrivateKey }

func (f *forcedKeys) PrivateKey(KeyID) (hpke.PrivateKey, error) { return f.k, nil }

func TestSenderSignatureChecked(t *testing.T) {
	alice, bob, mallory := newIdentity(t), newIdentity(t), newIdentity(t)
	bobKeys := keyringOf(t, bob)
	bobMUID, aliceMUID := muidOf(t, bob), muidOf(t, alice)
	lt := bobKeys.LongTerm.PublicKey().Bytes()
	orig := newMessage(t, alice, bobMUID, "from alice", "really")

	// Mallory re-signs Alice's letter with its own key but keeps Alice as
	// the claimed sender address.
	resigned := *orig
	resigned.Signature = make(Sig, minSigLen)
	mk, _ := PubKeyOf(mallory.PublicKey())
	resigned.From = mk
	resigned.Signature, _ = signLowS(mallory, resigned.Hash())

	// Mallory's signature over Alice's letter, Alice's key left in place.
	swapped := *orig
	swapped.Signature, _ = signLowS(mallory, orig.Hash())

	// Alice's letter with its body changed after signing.
	edited := *orig
	edited.Body = "really not"

	// Mallory signs the letter fully as itself: it opens, as Mallory's.
	own := &Message{ID: orig.ID, To: bobMUID, Date: orig.Date, Subject: orig.Subject, Body: orig.Body}
	if err := own.Sign(mallory); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		m    *Message
		want error
	}{
		{"genuine", orig, nil},
		{"re-signed by another key, sender address kept", &resigned, ErrForged},
		{"another key's signature", &swapped, ErrBadSignature},
		{"edited after signing", &edited, ErrBadSignature},
		{"signed by mallory as mallory", own, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := mustSeal(t, tc.m, bobMUID, lt, LongTerm)
			op, err := Open(env, bobKeys)
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				if tc.m == own && op.Message.FromMUID == aliceMUID {
					t.Fatal("mallory's letter passes as alice's")
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestForwardSecrecy(t *testing.T) {
	alice, bob := newIdentity(t), newIdentity(t)
	bobKeys := keyringOf(t, bob)
	pks, err := bobKeys.Prekeys.Generate(3, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	bobMUID := muidOf(t, bob)
	m := newMessage(t, alice, bobMUID, "fs", "forward secret")
	captured := mustSeal(t, m, bobMUID, pks[1].Key, PrekeyKeyID(pks[1].ID))
	op, err := Open(captured, bobKeys)
	if err != nil || !op.ForwardSecret {
		t.Fatalf("open before destroy: %v %+v", err, op)
	}
	if err := bobKeys.Prekeys.Destroy(pks[1].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(captured, bobKeys); !errors.Is(err, ErrNoKey) {
		t.Fatalf("open after destroy: %v", err)
	}
	// Every key Bob still has, tried on the captured ciphertext: none opens.
	current := []hpke.PrivateKey{bobKeys.LongTerm}
	for _, id := range bobKeys.Prekeys.IDs() {
		k, err := bobKeys.Prekeys.Private(id)
		if err != nil {
			t.Fatal(err)
		}
		current = append(current, k)
	}
	if len(current) != 3 {
		t.Fatalf("%d keys left", len(current))
	}
	for i, k := range current {
		if _, err := Open(captured, &forcedKeys{k}); !errors.Is(err, ErrOpen) {
			t.Fatalf("key %d: %v", i, err)
		}
	}
	// Nor after reopening the store from its file (with the same identity).
	ps, err := OpenPrekeyStore(bobKeys.Prekeys.path, bob)
	if err != nil {
		t.Fatal(err)
	}
	defer ps.Close()
	if ps.Has(pks[1].ID) || ps.Len() != 2 {
		t.Fatal("the destroyed prekey came back from the file")
	}
}

func TestRestoreFromWords(t *testing.T) {
	entropy, err := wallet.NewEntropy()
	if err != nil {
		t.Fatal(err)
	}
	first, err := wallet.FromEntropy(entropy, nil)
	if err != nil {
		t.Fatal(err)
	}
	words, err := first.AppendWords(nil)
	if err != nil {
		t.Fatal(err)
	}
	alice := newIdentity(t)
	lt, err := LongTermKey(first)
	if err != nil {
		t.Fatal(err)
	}
	to := first.MUID()
	m := newMessage(t, alice, to, "before the restore", "still readable")
	env := mustSeal(t, m, to, lt.PublicKey().Bytes(), LongTerm)
	first.Destroy()

	restored, err := wallet.FromWords(words, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Destroy()
	lt2, err := LongTermKey(restored)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(lt2.PublicKey().Bytes(), lt.PublicKey().Bytes()) {
		t.Fatal("the words gave another long-term key")
	}
	op, err := Open(env, &Keyring{LongTerm: lt2})
	if err != nil || op.Message.Body != "still readable" {
		t.Fatalf("restored identity: %v", err)
	}
	// A passphrase makes another identity, with another key.
	other, err := wallet.FromWords(words, []byte("pass"))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Destroy()
	lt3, _ := LongTermKey(other)
	if _, err := Open(env, &Keyring{LongTerm: lt3}); !errors.Is(err, ErrOpen) {
		t.Fatalf("other identity: %v", err)
	}
}

func TestPadding(t *testing.T) {
	cases := []struct{ n, want int }{
		{0, 1024}, {1020, 1024}, {1021, 2048}, {5000, 8192}, {65532, 65536}, {65533, 131072},
		{200000, 262144}, {MaxMessage, MaxMessage + padStep},
	}
	for _, c := range cases {
		if got := paddedLen(c.n); got != c.want {
			t.Fatalf("paddedLen(%d) = %d, want %d", c.n, got, c.want)
		}
		p := pad(make([]byte, c.n))
		if u, err := unpad(p); err != nil || len(u) != c.n {
			t.Fatalf("unpad %d: %d %v", c.n, len(u), err)
		}
	}
	p := pad([]byte("abc"))
	p[len(p)-1] = 1
	if _, err := unpad(p); !errors.Is(err, ErrMalformed) {
		t.Fatal("non-zero padding accepted")
	}
}

func TestReceiptForm(t *testing.T) {
	alice, bob := newIdentity(t), newIdentity(t)
	m := newMessage(t, alice, muidOf(t, bob), "hi", "there")
	r, err := NewReceipt(bob, m, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if r.Kind != KindReceipt || r.InReplyTo != m.ID || r.To != m.FromMUID || r.Verify() != nil {
		t.Fatalf("receipt %+v", r)
	}
	r.Body = "x"
	if err := r.Sign(bob); !errors.Is(err, ErrMalformed) {
		t.Fatalf("receipt with a body: %v", err)
	}
}
