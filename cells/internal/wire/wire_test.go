package wire

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestSig(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{`"` + strings.Repeat("ab", 8) + `"`, true},
		{`"` + strings.Repeat("ab", 72) + `"`, true},
		{`"` + strings.Repeat("ab", 7) + `"`, false},
		{`"` + strings.Repeat("ab", 73) + `"`, false},
		{`"` + strings.Repeat("AB", 8) + `"`, false},
		{`"` + strings.Repeat("ab", 8) + `a"`, false},
	}
	for _, tc := range tests {
		var s Sig
		if err := json.Unmarshal([]byte(tc.in), &s); (err == nil) != tc.ok {
			t.Errorf("%s: %v, want ok = %v", tc.in, err, tc.ok)
		}
		if tc.ok {
			if b, _ := json.Marshal(s); string(b) != tc.in {
				t.Errorf("round trip %s -> %s", tc.in, b)
			}
		}
	}
}

func TestBlob(t *testing.T) {
	for in, ok := range map[string]bool{`"AQID_-8"`: true, `""`: true, `"AQID/+8"`: false, `"AQI="`: false, `"AQJ"`: false} {
		var x Blob
		if err := json.Unmarshal([]byte(in), &x); (err == nil) != ok {
			t.Errorf("%s: %v, want ok = %v", in, err, ok)
		}
	}
}

func TestFixedHex(t *testing.T) {
	var dst [2]byte
	for in, ok := range map[string]bool{"0aff": true, "0AFF": false, "0af": false, "0aff00": false, "0agf": false} {
		if got := FixedHex(dst[:], []byte(in)); got != ok {
			t.Errorf("FixedHex(%q) = %v", in, got)
		}
	}
	if FixedHex(dst[:], []byte("0aff")); dst != [2]byte{0x0a, 0xff} {
		t.Fatalf("decoded %x", dst)
	}
}

func FuzzSig(f *testing.F) {
	f.Add([]byte(strings.Repeat("ab", 8)))
	f.Fuzz(func(t *testing.T, b []byte) {
		var s Sig
		if s.UnmarshalText(b) == nil {
			out, _ := s.MarshalText()
			if string(out) != string(b) {
				t.Fatalf("%q re-encodes as %q", b, out)
			}
		}
	})
}
