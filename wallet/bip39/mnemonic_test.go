package bip39

import "testing"

func TestAppendMnemonic(t *testing.T) {
	tests := []struct {
		name    string
		dst     []byte
		indices []uint16
		want    string
	}{
		{"empty", nil, nil, ""},
		{"one", nil, []uint16{2047}, "zoo"},
		{"three", nil, []uint16{0, 1, 3}, "abandon ability about"},
		{"keeps prefix", []byte("> "), []uint16{19, 2047}, "> act zoo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AppendMnemonic(tt.dst, tt.indices)
			if string(got) != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			if len(got) != cap(got) && tt.dst == nil {
				t.Fatalf("grown to %d for %d bytes: not exactly once", cap(got), len(got))
			}
		})
	}
}

func TestAppendMnemonicPanicsOnBadIndex(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	AppendMnemonic(nil, []uint16{listSize})
}
