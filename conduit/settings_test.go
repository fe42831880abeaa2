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
	"github.com/borgios/borghui/wallet/keystore"
)

const settingsWords = "legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth title"

func TestChangePassphrase(t *testing.T) {
	newPass := []byte("a brand new passphrase 99")
	tests := []struct {
		name               string
		old, next, confirm []byte
		wantIs             error // errors.Is
		wantMsg            string
	}{
		{"wrong old", other, newPass, newPass, keystore.ErrWrongPassphrase, "does not open"},
		{"weak new", pass, []byte("short"), []byte("short"), nil, "at least 10 characters"},
		{"guessable new", pass, []byte("aaaaaaaaaaaa"), []byte("aaaaaaaaaaaa"), nil, "too easy to guess"},
		{"mismatch", pass, newPass, []byte("a brand new passphrase 98"), nil, "differ"},
		{"success", pass, newPass, newPass, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, dir := newTest(t)
			if err := c.RestoreWords([]byte(settingsWords), nil, pass, pass, false); err != nil {
				t.Fatal(err)
			}
			before, _ := os.ReadFile(filepath.Join(dir, keystore.FileName))
			err := c.ChangePassphrase(tt.old, tt.next, tt.confirm)
			if tt.wantMsg == "" {
				if err != nil {
					t.Fatalf("change: %v", err)
				}
			} else {
				if err == nil {
					t.Fatal("change accepted")
				}
				if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
					t.Fatalf("error %v, want %v", err, tt.wantIs)
				}
				if msg := UserMessage(err); !strings.Contains(msg, tt.wantMsg) {
					t.Fatalf("message %q, want it to contain %q", msg, tt.wantMsg)
				}
				after, _ := os.ReadFile(filepath.Join(dir, keystore.FileName))
				if string(after) != string(before) {
					t.Fatal("a refused change rewrote the keystore")
				}
			}
			changed := err == nil
			info, _ := c.Identity()
			c.Lock()
			good, bad := pass, newPass
			if changed {
				good, bad = newPass, pass
			}
			if err := c.Unlock(bad); !errors.Is(err, keystore.ErrWrongPassphrase) {
				t.Fatalf("unlock with the passphrase that should fail (changed %v): %v", changed, err)
			}
			if err := c.Unlock(good); err != nil {
				t.Fatalf("unlock with the passphrase that should work (changed %v): %v", changed, err)
			}
			if got, _ := c.Identity(); got.MUID != info.MUID || got.Kind != wallet.KindWords {
				t.Fatalf("identity after change %+v, want %+v", got, info)
			}
			if changed {
				backups, _ := filepath.Glob(filepath.Join(dir, "backups", "*"))
				if len(backups) != 1 {
					t.Fatalf("backups %v, want one", backups)
				}
				if _, _, err := keystore.OpenFile(backups[0], pass); err != nil {
					t.Fatalf("the backup does not open with the old passphrase: %v", err)
				}
			}
		})
	}
}

func TestChangePassphraseLocked(t *testing.T) {
	c, _ := newTest(t)
	if err := c.RestoreWords([]byte(settingsWords), nil, pass, pass, false); err != nil {
		t.Fatal(err)
	}
	c.Lock()
	if err := c.ChangePassphrase(pass, other, other); !errors.Is(err, ErrLocked) {
		t.Fatalf("locked change: %v", err)
	}
	if _, err := c.RevealWords(pass); !errors.Is(err, ErrLocked) {
		t.Fatalf("locked reveal: %v", err)
	}
}

func TestChangePassphraseUpdatesRemembered(t *testing.T) {
	keyring.MockInit()
	dir := t.TempDir()
	list := &RememberList{Path: filepath.Join(dir, "settings.json"), Host: "host-a"}
	c := New(Config{KeystoreDir: dir, TestKDF: true, Remember: list})
	t.Cleanup(c.Close)
	if err := c.RestoreWords([]byte(settingsWords), nil, pass, pass, false); err != nil {
		t.Fatal(err)
	}
	if err := c.Remember(pass); err != nil {
		t.Fatal(err)
	}
	if err := c.ChangePassphrase(pass, other, other); err != nil {
		t.Fatal(err)
	}
	info, _ := c.Identity()
	got, err := wallet.Recall(info.MUID)
	if err != nil || string(got) != string(other) {
		t.Fatalf("remembered copy not updated: %v", err)
	}
	c.Lock()
	if ok, err := c.UnlockRemembered(); !ok || err != nil {
		t.Fatalf("remembered unlock after the change: %v %v", ok, err)
	}

	// A keyring that refuses the update: the remembered copy is forgotten.
	keyring.MockInitWithError(errors.New("no secret service"))
	t.Cleanup(keyring.MockInit)
	if err := c.ChangePassphrase(other, pass, pass); err != nil {
		t.Fatal(err)
	}
	if c.Remembered() {
		t.Fatal("still marked remembered after the keyring refused the new passphrase")
	}
}

func TestRevealWords(t *testing.T) {
	c, _ := newTest(t)
	if err := c.RestoreWords([]byte(settingsWords), nil, pass, pass, false); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RevealWords(other); !errors.Is(err, keystore.ErrWrongPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	words, err := c.RevealWords(pass)
	if err != nil {
		t.Fatal(err)
	}
	if string(words) != settingsWords {
		t.Fatalf("words %q", words)
	}
	clear(words)

	var v struct {
		Keys []struct {
			Phrase string `json:"legacyMnemonic27"`
		} `json:"keys"`
	}
	testvec.Load(t, "legacy-borghui.json", &v)
	l, _ := newTest(t)
	if err := l.RestoreLegacyPhrase([]byte(v.Keys[0].Phrase), pass, pass, false); err != nil {
		t.Fatal(err)
	}
	if _, err := l.RevealWords(pass); !errors.Is(err, ErrNoWords) {
		t.Fatalf("legacy reveal: %v, want ErrNoWords", err)
	}
	if _, err := l.RevealWords(other); !errors.Is(err, keystore.ErrWrongPassphrase) {
		t.Fatalf("legacy reveal with a wrong passphrase: %v", err)
	}
}
