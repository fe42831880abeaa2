package conduit

import (
	"crypto/hpke"
	"crypto/sha256"
	"encoding/hex"
	"math/big"
	"slices"
	"strings"
	"testing"

	"github.com/borgios/borghui/cells/mail"
	"github.com/borgios/borghui/wallet/bip39"
)

// secp256k1's generator, uncompressed: a valid identity key anyone can
// write down.
const generatorHex = "0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798" +
	"483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8"

// fingerprintCard is a card of the generator and the X-Wing key derived
// from ikm.
func fingerprintCard(t *testing.T, ikm byte) *mail.Card {
	t.Helper()
	pub, err := hex.DecodeString(generatorHex)
	if err != nil {
		t.Fatal(err)
	}
	owner, err := mail.PubKeyOf(pub)
	if err != nil {
		t.Fatal(err)
	}
	seed := make([]byte, 32)
	for i := range seed {
		seed[i] = ikm
	}
	k, err := hpke.MLKEM768X25519().DeriveKeyPair(seed)
	if err != nil {
		t.Fatal(err)
	}
	return &mail.Card{Owner: owner, Nick: "golden", Key: k.PublicKey().Bytes()}
}

// wordsOf is the fingerprint's definition, spelled out with big numbers.
func wordsOf(card *mail.Card) []string {
	h := sha256.Sum256(append(append([]byte("BorgIOS/v1/fingerprint\n"), card.Owner[:]...), card.Key...))
	n := new(big.Int).SetBytes(h[:11]) // 88 bits
	var out []string
	for i := 7; i >= 0; i-- {
		idx := new(big.Int).Rsh(n, uint(11*i))
		out = append(out, bip39.Word(int(idx.Int64()&2047)))
	}
	return out
}

func TestFingerprintGolden(t *testing.T) {
	card := fingerprintCard(t, 1)
	got, err := Fingerprint(card)
	if err != nil {
		t.Fatal(err)
	}
	const golden = "penalty document ride please pass book awesome toddler"
	if strings.Join(got, " ") != golden {
		t.Errorf("fingerprint %q, want %q", strings.Join(got, " "), golden)
	}
	if want := wordsOf(card); !slices.Equal(got, want) {
		t.Errorf("fingerprint %q, by definition %q", got, want)
	}
	// The nickname, prekeys and version do not count.
	other := *card
	other.Nick, other.Version, other.Prekeys = "someone else", 7, []mail.Prekey{{Key: card.Key}}
	if again, _ := Fingerprint(&other); !slices.Equal(again, got) {
		t.Errorf("the nickname or version changed the fingerprint: %q", again)
	}
}

func TestFingerprintChangesWithEitherKey(t *testing.T) {
	card := fingerprintCard(t, 1)
	base, err := Fingerprint(card)
	if err != nil {
		t.Fatal(err)
	}
	// Another long-term key.
	otherKey := fingerprintCard(t, 2)
	// Another identity key: 2G.
	otherOwner := *card
	twoG, _ := hex.DecodeString("04c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5" +
		"1ae168fea63dc339a3c58419466ceaeef7f632653266d0e1236431a950cfe52a")
	otherOwner.Owner, _ = mail.PubKeyOf(twoG)
	for name, c := range map[string]*mail.Card{"long-term key": otherKey, "identity key": &otherOwner} {
		got, err := Fingerprint(c)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if slices.Equal(got, base) || !slices.Equal(got, wordsOf(c)) {
			t.Errorf("another %s: %q (base %q)", name, got, base)
		}
	}
}

func TestFingerprintRefusesBadCards(t *testing.T) {
	good := fingerprintCard(t, 1)
	noOwner := *good
	noOwner.Owner = mail.PubKey{}
	shortKey := *good
	shortKey.Key = good.Key[:32]
	for name, c := range map[string]*mail.Card{"nil": nil, "no identity key": &noOwner, "short long-term key": &shortKey} {
		if w, err := Fingerprint(c); err == nil {
			t.Errorf("%s: %q, want an error", name, w)
		}
	}
}
