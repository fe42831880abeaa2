package e2e

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/borgios/borghui/internal/testvec"
	"github.com/borgios/borghui/wallet/bip32"
	"github.com/borgios/borghui/wallet/bip39"
)

const passphrase = "violet canyon 7 kettles"

// TestOnboarding walks a person through create → quiz → passphrase → home,
// restarts the binary and unlocks, then restores the same words into an
// empty data folder: the MUID is the same all three times, and agrees with
// `borghui identity inspect`. At the end the logs of every run are scanned
// for the words, the passphrase and the key.
func TestOnboarding(t *testing.T) {
	ctx := browser(t)
	stick := t.TempDir()
	data := filepath.Join(stick, "BorgData")

	// 1. Create.
	p := startConduit(t, data, "")
	var words []string
	var muid string
	err := chromedp.Run(ctx,
		chromedp.Navigate(p.URL),
		chromedp.WaitVisible("#create"),
		shot(t, ctx, "01-welcome"),
		chromedp.Click("#create"),
		chromedp.WaitVisible("#words"),
		chromedp.Evaluate(`Array.from(document.querySelectorAll('#words li')).map(li => li.textContent.trim())`, &words),
		shot(t, ctx, "02-words"),
	)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if len(words) != 24 {
		t.Fatalf("the words page shows %d words, want 24: %q", len(words), words)
	}

	var quizIDs []string
	err = chromedp.Run(ctx,
		chromedp.Click("#written"),
		chromedp.WaitVisible("#check"),
		chromedp.Evaluate(`Array.from(document.querySelectorAll('input[name=answer]')).map(i => i.id)`, &quizIDs),
	)
	if err != nil {
		t.Fatalf("quiz: %v", err)
	}
	if len(quizIDs) != 3 {
		t.Fatalf("quiz asks %d words, want 3", len(quizIDs))
	}
	// A wrong answer first: the page says which word, and lets the person retry.
	var msg string
	err = chromedp.Run(ctx,
		fill(quizIDs[0], wrongWord(words, quizIDs[0])),
		fill(quizIDs[1], word(words, quizIDs[1])),
		fill(quizIDs[2], word(words, quizIDs[2])),
		chromedp.Click("#check"),
		chromedp.WaitVisible("#form-error"),
		chromedp.Text("#form-error", &msg),
		shot(t, ctx, "03-quiz-error"),
	)
	if err != nil {
		t.Fatalf("quiz error: %v", err)
	}
	if want := "Word " + strings.TrimPrefix(quizIDs[0], "quiz-"); !strings.Contains(msg, want) {
		t.Fatalf("quiz error %q does not name %q", msg, want)
	}
	for _, id := range quizIDs {
		if err := chromedp.Run(ctx, fill(id, strings.ToUpper(word(words, id))+" ")); err != nil {
			t.Fatal(err)
		}
	}
	err = chromedp.Run(ctx,
		chromedp.Click("#check"),
		chromedp.WaitVisible("#finish"),
		shot(t, ctx, "04-passphrase"),
		// Long enough for the browser's own check, too easy to guess for ours.
		fill("passphrase", "aaaaaaaaaaaaaaaa"),
		fill("confirm", "aaaaaaaaaaaaaaaa"),
		chromedp.Click("#finish"),
		chromedp.WaitVisible("#form-error"),
		chromedp.Text("#form-error", &msg),
	)
	if err != nil {
		t.Fatalf("passphrase: %v", err)
	}
	if !strings.Contains(msg, "too easy to guess") {
		t.Fatalf("weak passphrase message = %q", msg)
	}
	err = chromedp.Run(ctx,
		fill("passphrase", passphrase),
		fill("confirm", passphrase),
		chromedp.Click("#finish"),
		chromedp.WaitVisible("#muid"),
		chromedp.Text("#muid", &muid),
		shot(t, ctx, "05-home"),
	)
	if err != nil {
		t.Fatalf("finish: %v", err)
	}

	inspected := inspect(t, strings.Join(words, " "))
	if muid != inspected.MUID {
		t.Fatalf("home shows MUID %q, identity inspect says %q", muid, inspected.MUID)
	}
	var doge string
	if err := chromedp.Run(ctx, chromedp.Text("#borgdoge", &doge)); err != nil || doge != inspected.BorgDoge {
		t.Fatalf("home shows BorgDoge %q (%v), inspect says %q", doge, err, inspected.BorgDoge)
	}
	p.stop(t)

	// 2. Restart the binary and unlock.
	p2 := startConduit(t, data, "")
	var lockedMUID, unlocked string
	err = chromedp.Run(ctx,
		chromedp.Navigate(p2.URL),
		chromedp.WaitVisible("#unlock"),
		chromedp.Text("#locked-muid", &lockedMUID),
		shot(t, ctx, "06-unlock"),
		fill("passphrase", "not the passphrase"),
		chromedp.Click("#unlock"),
		chromedp.WaitVisible("#form-error"),
		chromedp.Text("#form-error", &msg),
		shot(t, ctx, "07-unlock-wrong"),
		fill("passphrase", passphrase),
		chromedp.Click("#unlock"),
		chromedp.WaitVisible("#muid"),
		chromedp.Text("#muid", &unlocked),
	)
	if err != nil {
		t.Fatalf("unlock: %v", err)
	}
	if lockedMUID != muid || unlocked != muid {
		t.Fatalf("after restart: unlock page %q, home %q, want %q", lockedMUID, unlocked, muid)
	}
	if !strings.Contains(msg, "passphrase does not open") {
		t.Fatalf("wrong passphrase message = %q", msg)
	}
	p2.stop(t)

	// 3. Restore the same words into an empty data folder.
	data3 := filepath.Join(t.TempDir(), "BorgData")
	p3 := startConduit(t, data3, "")
	actions := []chromedp.Action{
		chromedp.Navigate(p3.URL),
		chromedp.WaitVisible("#restore"),
		chromedp.Click("#restore"),
		chromedp.WaitVisible("#restore-words"),
	}
	for i, w := range words {
		actions = append(actions, fill(fmt.Sprintf("word-%d", i+1), w))
	}
	var restored string
	actions = append(actions,
		shot(t, ctx, "08-restore"),
		fill("passphrase", passphrase),
		fill("confirm", passphrase),
		chromedp.Click("#restore-words"),
		chromedp.WaitVisible("#muid"),
		chromedp.Text("#muid", &restored),
	)
	if err := chromedp.Run(ctx, actions...); err != nil {
		t.Fatalf("restore: %v", err)
	}
	if restored != muid {
		t.Fatalf("restored MUID %q, want %q", restored, muid)
	}
	p3.stop(t)

	scanLogs(t, []string{data, data3}, []*conduitProc{p, p2, p3}, words, passphrase)
}

// TestRestoreLegacyPhrase imports an old borgHUI 27-word phrase in the
// browser and checks the address is the one it always had.
func TestRestoreLegacyPhrase(t *testing.T) {
	var v struct {
		Keys []struct {
			MUID   string `json:"muid"`
			Phrase string `json:"legacyMnemonic27"`
		} `json:"keys"`
	}
	testvec.Load(t, "legacy-borghui.json", &v)
	ctx := browser(t)
	p := startConduit(t, filepath.Join(t.TempDir(), "BorgData"), "")
	var muid string
	err := chromedp.Run(ctx,
		chromedp.Navigate(p.URL),
		chromedp.WaitVisible("#restore"),
		chromedp.Click("#restore"),
		chromedp.WaitVisible("#restore-words"),
		chromedp.Click(`a[href="/restore/legacy"]`),
		chromedp.WaitVisible("#restore-legacy"),
		fill("phrase", v.Keys[0].Phrase),
		fill("passphrase", passphrase),
		fill("confirm", passphrase),
		shot(t, ctx, "09-restore-legacy"),
		chromedp.Click("#restore-legacy"),
		chromedp.WaitVisible("#muid"),
		chromedp.Text("#muid", &muid),
		shot(t, ctx, "10-home-legacy"),
	)
	if err != nil {
		t.Fatalf("legacy restore: %v", err)
	}
	if muid != v.Keys[0].MUID {
		t.Fatalf("legacy MUID %q, want %q", muid, v.Keys[0].MUID)
	}
}

// TestUnlockStdin restores with the CLI, then starts the conduit unlocked
// from stdin: the home page shows the identity straight away.
func TestUnlockStdin(t *testing.T) {
	var v struct {
		Vectors []struct {
			Mnemonic, Passphrase, MUID string
		} `json:"vectors"`
	}
	testvec.Load(t, "identity-bip44-doge.json", &v)
	vec := v.Vectors[2]
	data := filepath.Join(t.TempDir(), "BorgData")
	if _, err := runCLI(t, vec.Mnemonic+"\n"+vec.Passphrase+"\n"+passphrase+"\n", "identity", "restore", "--data", data, "--test-kdf"); err != nil {
		t.Fatal(err)
	}
	ctx := browser(t)
	p := startConduit(t, data, passphrase+"\n", "--unlock-stdin")
	var muid string
	if err := chromedp.Run(ctx, chromedp.Navigate(p.URL), chromedp.WaitVisible("#muid"), chromedp.Text("#muid", &muid)); err != nil {
		t.Fatal(err)
	}
	if muid != vec.MUID {
		t.Fatalf("unlocked MUID %q, want %q", muid, vec.MUID)
	}
}

// fill types value into the field with this id, as a person would, after
// clearing what is there.
func fill(id, value string) chromedp.Action {
	var discard any
	return chromedp.Tasks{
		chromedp.WaitVisible("#"+id, chromedp.ByQuery),
		chromedp.Evaluate(fmt.Sprintf(`document.getElementById(%q).value = ""`, id), &discard),
		chromedp.SendKeys("#"+id, value, chromedp.ByQuery),
	}
}

func word(words []string, quizID string) string {
	var n int
	fmt.Sscanf(quizID, "quiz-%d", &n)
	return words[n-1]
}

func wrongWord(words []string, quizID string) string {
	if word(words, quizID) == "zoo" {
		return "abandon"
	}
	return "zoo"
}

type inspected struct {
	MUID      string `json:"muid"`
	BorgDoge  string `json:"borgDogeAddress"`
	PublicKey string `json:"publicKey"`
}

func inspect(t *testing.T, words string) inspected {
	t.Helper()
	out, err := runCLI(t, words+"\n\n", "identity", "inspect")
	if err != nil {
		t.Fatal(err)
	}
	var got inspected
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("inspect output %q: %v", out, err)
	}
	return got
}

// scanLogs fails if any log or output of the runs holds the words (any two
// in sequence), the passphrase, the private key, the seed or the entropy.
func scanLogs(t *testing.T, dataDirs []string, procs []*conduitProc, words []string, pass string) {
	t.Helper()
	secrets := []string{pass, strings.Join(words, " ")}
	for i := 0; i+1 < len(words); i++ {
		secrets = append(secrets, words[i]+" "+words[i+1])
	}
	indices, err := bip39.Parse([]byte(strings.Join(words, " ")))
	if err != nil {
		t.Fatal(err)
	}
	entropy, err := bip39.IndicesToEntropy(indices, nil)
	if err != nil {
		t.Fatal(err)
	}
	var seed [64]byte
	bip39.Seed(indices, nil, &seed)
	master, err := bip32.NewMaster(seed[:])
	if err != nil {
		t.Fatal(err)
	}
	child, err := master.Derive(bip32.IdentityPath)
	if err != nil {
		t.Fatal(err)
	}
	var key [32]byte
	child.PrivateKey(&key)
	secrets = append(secrets, hex.EncodeToString(key[:]), hex.EncodeToString(seed[:]), hex.EncodeToString(entropy))

	var texts []string
	var scanned int
	for _, d := range dataDirs {
		logs, _ := filepath.Glob(filepath.Join(d, "logs", "*"))
		for _, f := range logs {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			texts = append(texts, string(b))
			scanned += len(b)
		}
	}
	for _, p := range procs {
		texts = append(texts, p.stdout.String(), p.stderr.String())
	}
	if scanned == 0 {
		t.Fatal("no log on the stick to scan: the scanner would prove nothing")
	}
	for _, text := range texts {
		lower := strings.ToLower(text)
		for _, s := range secrets {
			if strings.Contains(lower, strings.ToLower(s)) {
				t.Errorf("a log holds a secret (%d chars starting %q)", len(s), s[:min(3, len(s))])
			}
		}
	}
	t.Logf("scanned %d bytes of logs for %d secrets", scanned, len(secrets))
}
