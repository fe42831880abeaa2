package conduit

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/borgios/borghui/internal/testvec"
	"github.com/borgios/borghui/wallet/bip39"
	"github.com/borgios/borghui/wallet/keystore"
)

var (
	pass  = []byte("violet canyon 7 kettles")
	other = []byte("another long passphrase 42")
)

type identityVectors struct {
	Vectors []struct {
		Mnemonic, Passphrase, MUID string
		BorgDogeAddress            string `json:"borgDogeAddress"`
		PublicKeyUncompressed      string `json:"publicKeyUncompressed"`
	} `json:"vectors"`
}

func newTest(t *testing.T) (*Conduit, string) {
	t.Helper()
	dir := t.TempDir()
	c := New(Config{KeystoreDir: dir, TestKDF: true})
	t.Cleanup(c.Close)
	return c, dir
}

func TestCreateFlow(t *testing.T) {
	c, dir := newTest(t)
	if st, _ := c.State(); st != NoIdentity {
		t.Fatalf("fresh state %v", st)
	}
	if _, err := c.DraftWords(); !errors.Is(err, ErrNoDraft) {
		t.Fatalf("words before begin: %v", err)
	}
	quiz, err := c.BeginCreate()
	if err != nil {
		t.Fatal(err)
	}
	if len(quiz) != QuizSize || quiz[0] < 1 || quiz[QuizSize-1] > 24 || !(quiz[0] < quiz[1] && quiz[1] < quiz[2]) {
		t.Fatalf("quiz positions %v", quiz)
	}
	words, err := c.DraftWords()
	if err != nil || len(words) != 24 {
		t.Fatalf("words %d, %v", len(words), err)
	}
	if _, err := c.DraftWords(); !errors.Is(err, ErrWordsShown) {
		t.Fatalf("second showing: %v, want ErrWordsShown", err)
	}
	if err := c.FinishCreate(pass, pass, nil, false); !errors.Is(err, ErrQuizNotPassed) {
		t.Fatalf("finish before quiz: %v", err)
	}
	answers := func(wrong int) [][]byte {
		var a [][]byte
		for i, p := range quiz {
			w := words[p-1]
			if i == wrong {
				w = "zoo"
				if words[p-1] == "zoo" {
					w = "abandon"
				}
			}
			a = append(a, []byte("  "+strings.ToUpper(w)+" "))
		}
		return a
	}
	var qe *QuizError
	if err := c.CheckQuiz(answers(1)); !errors.As(err, &qe) || len(qe.Wrong) != 1 || qe.Wrong[0] != quiz[1] {
		t.Fatalf("wrong quiz: %v", err)
	}
	if err := c.CheckQuiz(answers(-1)); err != nil {
		t.Fatalf("right quiz (shouted, padded): %v", err)
	}
	var pe *PassphraseError
	for _, bad := range [][2][]byte{{[]byte("short"), []byte("short")}, {[]byte("aaaaaaaaaaaaaaaaaaaa"), []byte("aaaaaaaaaaaaaaaaaaaa")}, {pass, other}} {
		if err := c.FinishCreate(bad[0], bad[1], nil, false); !errors.As(err, &pe) {
			t.Fatalf("bad passphrase accepted: %v", err)
		}
	}
	if err := c.FinishCreate(pass, pass, nil, false); err != nil {
		t.Fatal(err)
	}
	info, err := c.Identity()
	if err != nil {
		t.Fatal(err)
	}
	want, err := Inspect([]byte(strings.Join(words, " ")), nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if info != want {
		t.Fatalf("created %+v, words give %+v", info, want)
	}
	if _, err := os.Stat(filepath.Join(dir, keystore.FileName)); err != nil {
		t.Fatalf("no keystore written: %v", err)
	}
	if _, err := c.DraftQuiz(); !errors.Is(err, ErrNoDraft) {
		t.Fatalf("draft survives finishing: %v", err)
	}

	// Lock, then unlock with the passphrase: same identity.
	c.Lock()
	if st, _ := c.State(); st != Locked {
		t.Fatalf("after lock: %v", st)
	}
	if _, err := c.Signer(); !errors.Is(err, ErrLocked) {
		t.Fatalf("signer while locked: %v", err)
	}
	locked, err := c.LockedIdentity()
	if err != nil || locked.MUID != info.MUID {
		t.Fatalf("locked identity %+v %v", locked, err)
	}
	if err := c.Unlock(other); !errors.Is(err, keystore.ErrWrongPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if err := c.Unlock(pass); err != nil {
		t.Fatal(err)
	}
	if again, _ := c.Identity(); again != info {
		t.Fatalf("unlocked %+v, want %+v", again, info)
	}
}

func TestCreateWithBIP39Passphrase(t *testing.T) {
	c, _ := newTest(t)
	quiz, _ := c.BeginCreate()
	words, _ := c.DraftWords()
	var a [][]byte
	for _, p := range quiz {
		a = append(a, []byte(words[p-1]))
	}
	if err := c.CheckQuiz(a); err != nil {
		t.Fatal(err)
	}
	if err := c.FinishCreate(pass, pass, []byte("TREZOR"), false); err != nil {
		t.Fatal(err)
	}
	info, _ := c.Identity()
	want, _ := Inspect([]byte(strings.Join(words, " ")), []byte("TREZOR"), false)
	plain, _ := Inspect([]byte(strings.Join(words, " ")), nil, false)
	if info != want || info.MUID == plain.MUID {
		t.Fatalf("BIP39 passphrase not applied: %+v want %+v", info, want)
	}
}

func TestRestoreVectors(t *testing.T) {
	var v identityVectors
	testvec.Load(t, "identity-bip44-doge.json", &v)
	for _, vec := range v.Vectors {
		t.Run(vec.MUID, func(t *testing.T) {
			c, _ := newTest(t)
			if err := c.RestoreWords([]byte(vec.Mnemonic), []byte(vec.Passphrase), pass, pass, false); err != nil {
				t.Fatal(err)
			}
			info, _ := c.Identity()
			if info.MUID != vec.MUID || info.BorgDoge != vec.BorgDogeAddress || info.PublicKey != vec.PublicKeyUncompressed {
				t.Fatalf("restored %+v", info)
			}
			got, err := Inspect([]byte(vec.Mnemonic), []byte(vec.Passphrase), false)
			if err != nil || got != info {
				t.Fatalf("Inspect %+v %v", got, err)
			}
		})
	}
}

func TestRestoreNeverOverwritesSilently(t *testing.T) {
	var v identityVectors
	testvec.Load(t, "identity-bip44-doge.json", &v)
	c, dir := newTest(t)
	if err := c.RestoreWords([]byte(v.Vectors[0].Mnemonic), nil, pass, pass, false); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, keystore.FileName)
	before, _ := os.ReadFile(path)
	err := c.RestoreWords([]byte(v.Vectors[2].Mnemonic), []byte(v.Vectors[2].Passphrase), other, other, false)
	if !errors.Is(err, ErrIdentityExists) {
		t.Fatalf("overwrite without confirmation: %v", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Fatal("keystore changed without confirmation")
	}
	if info, _ := c.Identity(); info.MUID != v.Vectors[0].MUID {
		t.Fatalf("unlocked identity changed to %s", info.MUID)
	}
	// Confirmed: replaced, and a backup of the old one stays.
	if err := c.RestoreWords([]byte(v.Vectors[2].Mnemonic), []byte(v.Vectors[2].Passphrase), other, other, true); err != nil {
		t.Fatal(err)
	}
	if info, _ := c.Identity(); info.MUID != v.Vectors[2].MUID {
		t.Fatalf("after replace: %s", info.MUID)
	}
	var backups []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && p != path && strings.HasSuffix(p, ".keystore") {
			backups = append(backups, p)
		}
		return nil
	})
	if len(backups) != 1 {
		t.Fatalf("backups %v, want one", backups)
	}
	data, _ := os.ReadFile(backups[0])
	if !bytes.Equal(data, before) {
		t.Fatal("the backup is not the old keystore")
	}
}

func TestRestoreLegacy(t *testing.T) {
	var v struct {
		Keys []struct {
			MUID         string `json:"muid"`
			Phrase       string `json:"legacyMnemonic27"`
			AlsoAccepted string `json:"legacyMnemonic27AlsoAccepted"`
		} `json:"keys"`
	}
	testvec.Load(t, "legacy-borghui.json", &v)
	for _, k := range v.Keys {
		t.Run(k.MUID, func(t *testing.T) {
			c, _ := newTest(t)
			if err := c.RestoreLegacyPhrase([]byte(k.Phrase), pass, pass, false); err != nil {
				t.Fatal(err)
			}
			info, _ := c.Identity()
			if info.MUID != k.MUID || info.Kind != "legacy" {
				t.Fatalf("legacy restore %+v, want %s", info, k.MUID)
			}
			c.Lock()
			if err := c.Unlock(pass); err != nil {
				t.Fatal(err)
			}
			if info, _ := c.Identity(); info.MUID != k.MUID {
				t.Fatalf("legacy after unlock %s", info.MUID)
			}
			got, err := Inspect([]byte(k.Phrase), nil, true)
			if err != nil || got.MUID != k.MUID {
				t.Fatalf("Inspect legacy %+v %v", got, err)
			}
		})
	}
}

func TestUserMessages(t *testing.T) {
	c, _ := newTest(t)
	words24 := strings.Repeat("abandon ", 23) + "art"
	tests := []struct {
		name  string
		words string
		want  string
	}{
		{"wrong count", "abandon abandon abandon", "You entered 3 words"},
		{"unknown word", strings.Replace(words24, "abandon", "abandn", 1), "Word 1 is not in the word list. Did you mean"},
		{"bad checksum", strings.Repeat("abandon ", 24), "do not form an identity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.RestoreWords([]byte(tt.words), nil, pass, pass, false)
			if err == nil {
				t.Fatal("accepted")
			}
			msg := UserMessage(err)
			if !strings.Contains(msg, tt.want) {
				t.Fatalf("message %q lacks %q", msg, tt.want)
			}
			if strings.Contains(msg, "abandn") {
				t.Fatalf("message repeats the typed word: %q", msg)
			}
		})
	}
	var ue *bip39.UnknownWordError
	err := c.RestoreWords([]byte(strings.Replace(words24, "abandon", "abandn", 1)), nil, pass, pass, false)
	if !errors.As(err, &ue) {
		t.Fatalf("unknown word error type %T", err)
	}
	if msg := UserMessage(errors.New("boom")); !strings.Contains(msg, "log") {
		t.Fatalf("fallback message %q", msg)
	}
}

func TestEventsOnStateChange(t *testing.T) {
	c, _ := newTest(t)
	ch, cancel := c.Events().Subscribe()
	defer cancel()
	var v identityVectors
	testvec.Load(t, "identity-bip44-doge.json", &v)
	if err := c.RestoreWords([]byte(v.Vectors[0].Mnemonic), nil, pass, pass, false); err != nil {
		t.Fatal(err)
	}
	c.Lock()
	for _, want := range []string{"unlocked", "locked"} {
		if ev := <-ch; ev.Type != "identity" || ev.State != want {
			t.Fatalf("event %+v, want identity/%s", ev, want)
		}
	}
}

func TestStrength(t *testing.T) {
	tests := []struct {
		p    string
		want int
	}{
		{"", 0}, {"aaaaaaaaaaaaaaaaaaaaaa", 0}, {"short", 0}, {"abcdefghij", 1},
		{"abcdefghijklmn", 2}, {"violet canyon 7 kettles", 4}, {"Tr0ub4dor&3", 2},
	}
	for _, tt := range tests {
		if got := Strength([]byte(tt.p)); got != tt.want {
			t.Errorf("Strength(%q) = %d, want %d", tt.p, got, tt.want)
		}
	}
}
