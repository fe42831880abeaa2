package wallet

import (
	"bytes"
	"errors"
	"testing"
)

func TestDeriveKey(t *testing.T) {
	words := []byte("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon art")
	a, _ := FromWords(words, nil)
	b, _ := FromWords(words, nil)
	other, _ := FromWords(words, []byte("TREZOR"))
	defer a.Destroy()
	defer b.Destroy()
	defer other.Destroy()
	get := func(id *Identity, label, info string) []byte {
		k := make([]byte, 32)
		if err := id.DeriveKey(label, []byte(info), k); err != nil {
			t.Fatal(err)
		}
		return k
	}
	k1 := get(a, "files", "file-1")
	if !bytes.Equal(k1, get(b, "files", "file-1")) {
		t.Fatal("the same words derived different keys")
	}
	for name, k := range map[string][]byte{
		"other info":       get(a, "files", "file-2"),
		"other label":      get(a, "mail", "file-1"),
		"other passphrase": get(other, "files", "file-1"),
	} {
		if bytes.Equal(k, k1) {
			t.Errorf("%s gave the same key", name)
		}
	}
	var key [32]byte
	key[31] = 7
	legacy, _ := FromLegacyKey(&key)
	if k := get(legacy, "files", "file-1"); bytes.Equal(k, k1) || bytes.Equal(k, make([]byte, 32)) {
		t.Fatal("a legacy identity derived no usable key")
	}
	if err := a.DeriveKey("", nil, make([]byte, 32)); err == nil {
		t.Fatal("an empty label was accepted")
	}
	a.Destroy()
	if err := a.DeriveKey("files", nil, make([]byte, 32)); !errors.Is(err, ErrLocked) {
		t.Fatalf("derive after Destroy: %v", err)
	}
}
