package address

import (
	"bytes"
	"errors"
	"testing"
)

func TestBase58(t *testing.T) {
	// Bitcoin Core src/test/data/base58_encode_decode.json.
	tests := []struct{ hex, text string }{
		{"", ""},
		{"61", "2g"},
		{"626262", "a3gV"},
		{"636363", "aPEr"},
		{"73696d706c792061206c6f6e6720737472696e67", "2cFupjhnEsSn59qHXstmK2ffpLv2"},
		{"00eb15231dfceb60925886b67d065299925915aeb172c06647", "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L"},
		{"516b6fcd0f", "ABnLTmg"},
		{"bf4f89001e670274dd", "3SEo3LWLoPntC"},
		{"572e4794", "3EFU7m"},
		{"ecac89cad93923c02321", "EJDM8drfXA6uyA"},
		{"10c8511e", "Rt5zm"},
		{"00000000000000000000", "1111111111"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			data := unhex(t, tt.hex)
			if got := string(appendBase58(nil, data)); got != tt.text {
				t.Fatalf("encode: got %q, want %q", got, tt.text)
			}
			back, err := decodeBase58(tt.text)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(back, data) {
				t.Fatalf("decode: got %x, want %x", back, data)
			}
		})
	}
}

func TestAppendBase58CheckKeepsPrefix(t *testing.T) {
	dst := []byte("x=")
	got := AppendBase58Check(dst, []byte{0x00, 1, 2, 3})
	if !bytes.HasPrefix(got, []byte("x=")) {
		t.Fatalf("prefix lost: %q", got)
	}
	if want := "x=" + Base58CheckEncode(0x00, []byte{1, 2, 3}); string(got) != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestBase58CheckDecodeErrors(t *testing.T) {
	valid := Base58CheckEncode(VersionMUID, make([]byte, 20))
	flipped := []byte(valid)
	if flipped[10] == 'a' {
		flipped[10] = 'b'
	} else {
		flipped[10] = 'a'
	}
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"empty", "", ErrTooShort},
		{"four bytes", "1111", ErrTooShort},
		{"zero", "0", ErrInvalidCharacter},
		{"capital O", "1O1", ErrInvalidCharacter},
		{"capital I", "I", ErrInvalidCharacter},
		{"lower l", "l", ErrInvalidCharacter},
		{"non ascii", "1B1xr\u00e9", ErrInvalidCharacter},
		{"space", " " + valid, ErrInvalidCharacter},
		{"checksum", string(flipped), ErrChecksum},
		{"too long", string(bytes.Repeat([]byte{'2'}, MaxEncodedLen+1)), ErrTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Base58CheckDecode(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func FuzzBase58CheckDecode(f *testing.F) {
	f.Add("1B1xrS6Xi6uhCoXcH8UzSETk81S2pmpWjQ")
	f.Add("DL1DoPj4HvpnRT9n3YfCkhHXe5287wMyWD")
	f.Add("xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoCu1Rupje8YtGqsefD265TMg7usUDFdp6W1EGMcet8")
	f.Add("1111111111")
	f.Add("")
	f.Add("0OIl")
	f.Fuzz(func(t *testing.T, s string) {
		version, payload, err := Base58CheckDecode(s)
		if err != nil {
			return
		}
		// Base58 is bijective, so a string that decodes re-encodes to itself.
		if again := Base58CheckEncode(version, payload); again != s {
			t.Fatalf("round trip: %q -> %q", s, again)
		}
	})
}

func FuzzBase58CheckEncode(f *testing.F) {
	f.Add(byte(0x00), []byte{})
	f.Add(byte(0x1E), bytes.Repeat([]byte{0xFF}, 20))
	f.Add(byte(0x00), []byte{0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, version byte, payload []byte) {
		s := Base58CheckEncode(version, payload)
		if len(s) > MaxEncodedLen {
			return
		}
		v, p, err := Base58CheckDecode(s)
		if err != nil {
			t.Fatalf("decode(%q): %v", s, err)
		}
		if v != version || !bytes.Equal(p, payload) {
			t.Fatalf("round trip: got %x %x, want %x %x", v, p, version, payload)
		}
	})
}
