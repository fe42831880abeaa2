package conduit

import (
	"errors"
	"testing"

	"github.com/borgios/borghui/wallet"
	"github.com/borgios/borghui/wallet/keystore"
)

func TestOpenNodeKey(t *testing.T) {
	dir := t.TempDir()
	pass := []byte("devnet node passphrase")
	first, err := OpenNodeKey(dir, pass, true)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Destroy()
	if first.Kind() != wallet.KindNode {
		t.Fatalf("kind %s", first.Kind())
	}
	again, err := OpenNodeKey(dir, pass, true)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Destroy()
	if again.MUID() != first.MUID() || again.Kind() != wallet.KindNode {
		t.Fatalf("restart gave %s/%s, want %s", again.MUID(), again.Kind(), first.MUID())
	}
	if _, err := OpenNodeKey(dir, []byte("wrong"), true); !errors.Is(err, keystore.ErrWrongPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
}
