package conduit

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zalando/go-keyring"

	"github.com/borgios/borghui/internal/testvec"
	"github.com/borgios/borghui/wallet"
)

func TestRememberOptIn(t *testing.T) {
	keyring.MockInit()
	dir := t.TempDir()
	list := &RememberList{Path: filepath.Join(dir, "settings.json"), Host: "host-a"}
	c := New(Config{KeystoreDir: dir, TestKDF: true, Remember: list})
	t.Cleanup(c.Close)
	var v identityVectors
	testvec.Load(t, "identity-bip44-doge.json", &v)
	if err := c.RestoreWords([]byte(v.Vectors[0].Mnemonic), nil, pass, pass, false); err != nil {
		t.Fatal(err)
	}
	// Off by default: nothing remembered, nothing recalled.
	if c.Remembered() {
		t.Fatal("remembered without opting in")
	}
	c.Lock()
	if ok, err := c.UnlockRemembered(); ok || err != nil {
		t.Fatalf("recalled without opting in: %v %v", ok, err)
	}
	if err := c.Unlock(pass); err != nil {
		t.Fatal(err)
	}
	// A wrong passphrase is never stored.
	if err := c.Remember(other); err == nil {
		t.Fatal("remembered a passphrase that does not open the keystore")
	}
	if err := c.Remember(pass); err != nil {
		t.Fatal(err)
	}
	if !c.Remembered() {
		t.Fatal("not remembered after opting in")
	}
	c.Lock()
	if ok, err := c.UnlockRemembered(); !ok || err != nil {
		t.Fatalf("remembered unlock: %v %v", ok, err)
	}
	// Another computer does not ask its keyring.
	other := &RememberList{Path: list.Path, Host: "host-b"}
	c2 := New(Config{KeystoreDir: dir, TestKDF: true, Remember: other})
	t.Cleanup(c2.Close)
	if ok, _ := c2.UnlockRemembered(); ok {
		t.Fatal("unlocked on a computer that never opted in")
	}
	// Forget removes it from keyring and list.
	if err := c.Forget(); err != nil {
		t.Fatal(err)
	}
	if _, err := wallet.Recall(v.Vectors[0].MUID); !errors.Is(err, wallet.ErrNotRemembered) {
		t.Fatalf("still in keyring: %v", err)
	}
	c.Lock()
	if ok, _ := c.UnlockRemembered(); ok {
		t.Fatal("unlocked after forgetting")
	}
}

func TestRememberWithoutKeyring(t *testing.T) {
	keyring.MockInitWithError(errors.New("The name org.freedesktop.secrets was not provided by any .service files"))
	t.Cleanup(keyring.MockInit)
	dir := t.TempDir()
	c := New(Config{KeystoreDir: dir, TestKDF: true, Remember: &RememberList{Path: filepath.Join(dir, "settings.json"), Host: "h"}})
	t.Cleanup(c.Close)
	var v identityVectors
	testvec.Load(t, "identity-bip44-doge.json", &v)
	if err := c.RestoreWords([]byte(v.Vectors[0].Mnemonic), nil, pass, pass, false); err != nil {
		t.Fatal(err)
	}
	err := c.Remember(pass)
	if !errors.Is(err, wallet.ErrNoKeyring) {
		t.Fatalf("no keyring: %v", err)
	}
	if msg := UserMessage(err); msg == "" || !strings.Contains(msg, "no keyring service") {
		t.Fatalf("message %q", msg)
	}
	if _, err := os.Stat(filepath.Join(dir, "settings.json")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a failed remember still recorded the host")
	}
}
