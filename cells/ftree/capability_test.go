package ftree

import (
	"errors"
	"strings"
	"testing"
)

func TestLinkRoundTrip(t *testing.T) {
	folder := testCap("Photos")
	folder.Folder = true
	tests := []struct {
		name string
		cap  *Capability
	}{
		{"file with name", testCap("holiday.mp4")},
		{"folder", folder},
		{"no name, no size", &Capability{Manifest: hashOf("m"), Key: testCap("").Key}},
		{"longest name", testCap(strings.Repeat("é", MaxNameLen/2))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			link, err := EncodeLink(tt.cap)
			if err != nil {
				t.Fatal(err)
			}
			path, frag, _ := strings.Cut(strings.TrimPrefix(link, LinkPrefix), "#")
			if !strings.HasPrefix(link, LinkPrefix) || path != tt.cap.Manifest.String() || len(link) > MaxLinkLen {
				t.Fatalf("link %q", link)
			}
			if strings.Contains(path, "key") || frag == "" {
				t.Fatalf("link %q: the key must be in the fragment only", link)
			}
			got, err := ParseLink(link)
			if err != nil || !got.Equal(tt.cap) {
				t.Fatalf("ParseLink = %+v, %v", got, err)
			}
		})
	}
}

func TestParseLinkRefuses(t *testing.T) {
	good, err := EncodeLink(testCap("a"))
	if err != nil {
		t.Fatal(err)
	}
	path, frag, _ := strings.Cut(strings.TrimPrefix(good, LinkPrefix), "#")
	tests := map[string]string{
		"other scheme":        "https://cap/" + path + "#" + frag,
		"no fragment":         LinkPrefix + path,
		"short manifest":      LinkPrefix + path[2:] + "#" + frag,
		"uppercase manifest":  LinkPrefix + strings.ToUpper(path) + "#" + frag,
		"padded fragment":     good + "=",
		"standard base64":     LinkPrefix + path + "#" + strings.ReplaceAll(frag, "-", "+") + "+",
		"truncated fragment":  good[:len(good)-2],
		"extra bytes":         good + "AAAA",
		"zero manifest":       LinkPrefix + strings.Repeat("0", 64) + "#" + frag,
		"too long":            good + strings.Repeat("A", MaxLinkLen),
		"query in the middle": LinkPrefix + path + "?x=1#" + frag,
	}
	for name, link := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseLink(link); !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseLink(%q) = %v, want ErrMalformed", link, err)
			}
		})
	}
}

func TestCapabilityChecks(t *testing.T) {
	tests := map[string]*Capability{
		"short key":    {Manifest: hashOf("m"), Key: make([]byte, 16)},
		"no manifest":  {Key: make([]byte, KeyLen)},
		"long name":    {Manifest: hashOf("m"), Key: make([]byte, KeyLen), Name: strings.Repeat("x", MaxNameLen+1)},
		"invalid utf8": {Manifest: hashOf("m"), Key: make([]byte, KeyLen), Name: "\xff"},
	}
	for name, c := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := EncodeLink(c); !errors.Is(err, ErrMalformed) {
				t.Fatalf("EncodeLink: %v", err)
			}
			if _, err := c.MarshalBinary(); !errors.Is(err, ErrMalformed) {
				t.Fatalf("MarshalBinary: %v", err)
			}
		})
	}
}

func TestSealOpen(t *testing.T) {
	b, c := newKey(t), newKey(t)
	capab := testCap("report.pdf")
	sealed, err := SealCapability(capab, b.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	got, err := OpenCapability(sealed, b)
	if err != nil || !got.Equal(capab) {
		t.Fatalf("open = %+v, %v", got, err)
	}
	again, _ := SealCapability(capab, b.PublicKey())
	if string(again) == string(sealed) {
		t.Fatal("two seals of one capability are equal: the ephemeral key is not fresh")
	}
	if _, err := OpenCapability(sealed, c); !errors.Is(err, ErrOpen) {
		t.Fatalf("another key opens the box: %v", err)
	}
	for i := range sealed {
		bad := append([]byte(nil), sealed...)
		bad[i] ^= 0x20
		if _, err := OpenCapability(bad, b); !errors.Is(err, ErrOpen) {
			t.Fatalf("byte %d flipped: %v", i, err)
		}
	}
	for _, n := range []int{0, 1, sealOverhead - 1, len(sealed) - 1} {
		if _, err := OpenCapability(sealed[:n], b); !errors.Is(err, ErrOpen) {
			t.Fatalf("truncated to %d: %v", n, err)
		}
	}
	if _, err := SealCapability(capab, b.PublicKey()[:33]); !errors.Is(err, ErrMalformed) {
		t.Fatalf("sealing to a compressed key: %v", err)
	}
}
