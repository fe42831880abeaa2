package bip32

import (
	"errors"
	"math"
	"testing"
)

func testMaster(t *testing.T) *ExtendedKey {
	t.Helper()
	k, err := NewMaster([]byte("0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestNewMasterSeedLength(t *testing.T) {
	tests := []struct {
		n  int
		ok bool
	}{{0, false}, {15, false}, {16, true}, {32, true}, {64, true}, {65, false}}
	for _, tt := range tests {
		t.Run("", func(t *testing.T) {
			k, err := NewMaster(make([]byte, tt.n))
			if tt.ok != (err == nil) || (err != nil && !errors.Is(err, ErrSeedLength)) {
				t.Fatalf("%d bytes: %v", tt.n, err)
			}
			if tt.ok && k == nil {
				t.Fatal("nil key")
			}
		})
	}
}

func TestChildErrors(t *testing.T) {
	tests := []struct {
		name  string
		setup func(*ExtendedKey)
		want  error
	}{
		{"max depth", func(k *ExtendedKey) { k.depth = math.MaxUint8 }, ErrDepth},
		{"wiped", (*ExtendedKey).Zero, ErrWiped},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := testMaster(t)
			tt.setup(k)
			if _, err := k.Child(0); !errors.Is(err, tt.want) {
				t.Fatalf("Child: got %v, want %v", err, tt.want)
			}
			if _, err := k.Derive([]uint32{1, 2}); !errors.Is(err, tt.want) {
				t.Fatalf("Derive: got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestDerive(t *testing.T) {
	k := testMaster(t)
	before := *k
	same, err := k.Derive(nil)
	if err != nil {
		t.Fatal(err)
	}
	if same == k || *same != *k {
		t.Fatal("empty path must return an equal copy")
	}
	stepwise := k
	for _, i := range IdentityPath {
		if stepwise, err = stepwise.Child(i); err != nil {
			t.Fatal(err)
		}
	}
	direct, err := k.Derive(IdentityPath)
	if err != nil {
		t.Fatal(err)
	}
	if *direct != *stepwise {
		t.Fatal("Derive differs from repeated Child")
	}
	if *k != before {
		t.Fatal("Derive changed its receiver")
	}
	if direct.depth != 5 || direct.child != 0 {
		t.Fatalf("depth %d child %d", direct.depth, direct.child)
	}
}

func TestZero(t *testing.T) {
	k := testMaster(t)
	k.Zero()
	if k.key != [32]byte{} || k.chainCode != [32]byte{} {
		t.Fatal("not wiped")
	}
	if k.PublicKeyCompressed() != nil || k.XPub() != "" {
		t.Fatal("wiped key still gives a public key")
	}
}
