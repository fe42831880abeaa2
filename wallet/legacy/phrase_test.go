package legacy

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/borgios/borghui/wallet/bip39"
)

func TestPhraseVectors(t *testing.T) {
	for _, k := range loadVectors(t).Keys {
		t.Run(k.MUID, func(t *testing.T) {
			want := key32(t, k.PrivateKey)
			phrases := []string{k.LegacyMnemonic27}
			if k.LegacyMnemonic27AlsoAccepted != "" {
				phrases = append(phrases, k.LegacyMnemonic27AlsoAccepted)
			}
			for _, p := range phrases {
				var got [32]byte
				if err := DecodePhrase([]byte(p), &got); err != nil {
					t.Fatalf("DecodePhrase(%q): %v", p, err)
				}
				if got != *want {
					t.Fatalf("DecodePhrase: got %x, want %x", got, want)
				}
				pub, muid, err := identity(&got)
				if err != nil || muid != k.MUID || hex.EncodeToString(pub) != k.PublicKeyUncompressed {
					t.Fatalf("identity: %x %q %v; want %s %q", pub, muid, err, k.PublicKeyUncompressed, k.MUID)
				}
			}
			if got := EncodePhrase(want); string(got) != k.LegacyMnemonic27 {
				t.Fatalf("EncodePhrase: got %q, want %q", got, k.LegacyMnemonic27)
			}
		})
	}
}

func TestDecodePhraseTolerance(t *testing.T) {
	k := loadVectors(t).Keys[0]
	want := key32(t, k.PrivateKey)
	words := strings.Fields(k.LegacyMnemonic27)
	prefixes := make([]string, len(words))
	for i, w := range words {
		prefixes[i] = w[:min(4, len(w))]
	}
	tests := []struct{ name, input string }{
		{"upper case", strings.ToUpper(k.LegacyMnemonic27)},
		{"odd spacing", "\n  " + strings.Join(words, " \t ") + "\r\n"},
		{"no-break spaces", strings.Join(words, "\u00a0")},
		{"four-letter prefixes", strings.Join(prefixes, " ")},
		{"other padding bits", strings.Join(append(words[:26:26], "scene"), " ")}, // 1536+x: same top two bits as scale
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got [32]byte
			if err := DecodePhrase([]byte(tt.input), &got); err != nil || got != *want {
				t.Fatalf("got %x, %v; want %x", got, err, want)
			}
		})
	}
}

func TestDecodePhraseErrors(t *testing.T) {
	k := loadVectors(t).Keys[0]
	words := strings.Fields(k.LegacyMnemonic27)
	with := func(i int, w string) string {
		c := append([]string(nil), words...)
		c[i] = w
		return strings.Join(c, " ")
	}
	var zero, order [32]byte
	// n, the group order: out of range, and so is zero.
	copy(order[:], []byte{
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
		0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
	})
	isCount := func(n int) func(error) bool {
		return func(err error) bool {
			var wc *bip39.WordCountError
			return errors.As(err, &wc) && wc.Got == n
		}
	}
	tests := []struct {
		name  string
		input string
		check func(error) bool
	}{
		{"empty", "", isCount(0)},
		{"26 words", strings.Join(words[:26], " "), isCount(26)},
		{"28 words", k.LegacyMnemonic27 + " zoo", isCount(28)},
		{"24-word BIP39 mnemonic", strings.Repeat("abandon ", 23) + "art", isCount(24)},
		{"unknown word", with(4, "radiox"), func(err error) bool {
			var uw *bip39.UnknownWordError
			return errors.As(err, &uw) && uw.Position == 5
		}},
		{"checksum", with(4, "rabbit"), func(err error) bool { return errors.Is(err, ErrChecksum) }},
		{"wrong top bits in last word", with(26, "abandon"), func(err error) bool { return errors.Is(err, ErrChecksum) }},
		{"zero key", string(EncodePhrase(&zero)), func(err error) bool { return errors.Is(err, ErrInvalidKey) }},
		{"key = n", string(EncodePhrase(&order)), func(err error) bool { return errors.Is(err, ErrInvalidKey) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := [32]byte{1}
			err := DecodePhrase([]byte(tt.input), &dst)
			if !tt.check(err) {
				t.Fatalf("unexpected error %v", err)
			}
			if dst != [32]byte{1} {
				t.Fatal("dst written on error")
			}
			if strings.Contains(err.Error(), "radiox") {
				t.Fatal("error shows the typed word")
			}
		})
	}
}

func FuzzDecodePhrase(f *testing.F) {
	for _, k := range loadVectors(f).Keys {
		f.Add([]byte(k.LegacyMnemonic27))
	}
	f.Add([]byte(strings.Repeat("zoo ", 27)))
	f.Add([]byte(strings.Repeat("aban\u00a0", 27)))
	f.Add([]byte("\xff"))
	f.Fuzz(func(t *testing.T, input []byte) {
		var key [32]byte
		err := DecodePhrase(input, &key)
		if err != nil {
			var wc *bip39.WordCountError
			var uw *bip39.UnknownWordError
			if !errors.As(err, &wc) && !errors.As(err, &uw) && !errors.Is(err, ErrChecksum) && !errors.Is(err, ErrInvalidKey) {
				t.Fatalf("unexpected error %v", err)
			}
			if key != [32]byte{} {
				t.Fatal("dst written on error")
			}
			return
		}
		var again [32]byte
		if err := DecodePhrase(EncodePhrase(&key), &again); err != nil || again != key {
			t.Fatalf("canonical phrase does not round-trip: %v", err)
		}
	})
}
