package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/borgios/borghui/internal/testvec"
)

func runCmd(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), code
}

func TestIdentityInspectVectors(t *testing.T) {
	var ids struct {
		Vectors []struct {
			Mnemonic, Passphrase, MUID string
			BorgDoge                   string `json:"borgDogeAddress"`
			Public                     string `json:"publicKeyUncompressed"`
		} `json:"vectors"`
	}
	testvec.Load(t, "identity-bip44-doge.json", &ids)
	for _, v := range ids.Vectors {
		out, stderr, code := runCmd(t, v.Mnemonic+"\n"+v.Passphrase+"\n", "identity", "inspect")
		if code != 0 {
			t.Fatalf("inspect exit %d: %s", code, stderr)
		}
		var got map[string]string
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("inspect output %q: %v", out, err)
		}
		want := map[string]string{"muid": v.MUID, "borgDogeAddress": v.BorgDoge, "publicKey": v.Public}
		if len(got) != len(want) {
			t.Fatalf("inspect printed %v", got)
		}
		for k, w := range want {
			if got[k] != w {
				t.Errorf("%s = %q, want %q", k, got[k], w)
			}
		}
	}
	var legacy struct {
		Keys []struct {
			MUID, Pub string
			Phrase    string `json:"legacyMnemonic27"`
		} `json:"keys"`
	}
	testvec.Load(t, "legacy-borghui.json", &legacy)
	for _, k := range legacy.Keys {
		out, stderr, code := runCmd(t, k.Phrase+"\n", "identity", "inspect", "--legacy")
		if code != 0 || !strings.Contains(out, `"muid":"`+k.MUID+`"`) {
			t.Fatalf("inspect --legacy: %d %q %s", code, out, stderr)
		}
		if strings.Contains(strings.ToLower(out), "private") {
			t.Fatal("inspect printed something private")
		}
	}
}

func TestIdentityCommandErrors(t *testing.T) {
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"empty stdin", "", []string{"identity", "inspect"}, 1, "nothing on stdin"},
		{"wrong count", "abandon abandon\n", []string{"identity", "inspect"}, 1, "You entered 2 words"},
		{"unknown word", strings.Repeat("abandon ", 23) + "artt\n", []string{"identity", "inspect"}, 1, "Word 24 is not in the word list"},
		{"legacy with passphrase", "a b\nx\n", []string{"identity", "inspect", "--legacy"}, 2, "no BIP39 passphrase"},
		{"restore, not words", "x\n\na long enough passphrase\n", []string{"identity", "restore", "--data", filepath.Join(t.TempDir(), "BorgData"), "--test-kdf"}, 1, "You entered 1 word"},
		{"unknown sub-command", "", []string{"identity", "frobnicate"}, 2, "unknown command"},
		{"no sub-command", "", []string{"identity"}, 2, "inspect or restore"},
		{"unknown command", "", []string{"frobnicate"}, 2, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := runCmd(t, tt.stdin, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit %d stderr %q, want %d %q", code, stderr, tt.code, tt.want)
			}
		})
	}
}

func TestIdentityRestoreCommand(t *testing.T) {
	words := strings.Repeat("abandon ", 23) + "art"
	data := filepath.Join(t.TempDir(), "BorgData")
	out, stderr, code := runCmd(t, words+"\n\nviolet canyon 7 kettles\n", "identity", "restore", "--data", data, "--test-kdf")
	if code != 0 || !strings.Contains(out, "1FfkzBmn91WP782tUAHRaiaQKQmtmYG8Cz") {
		t.Fatalf("restore: %d %q %s", code, out, stderr)
	}
	_, stderr, code = runCmd(t, words+"\n\nviolet canyon 7 kettles\n", "identity", "restore", "--data", data, "--test-kdf")
	if code != 1 || !strings.Contains(stderr, "already holds an identity") {
		t.Fatalf("second restore without --replace: %d %s", code, stderr)
	}
	_, stderr, code = runCmd(t, words+"\n\nshort\n", "identity", "restore", "--data", t.TempDir(), "--test-kdf")
	if code != 1 || !strings.Contains(stderr, "at least 10") {
		t.Fatalf("weak passphrase: %d %s", code, stderr)
	}
}

func TestHelpAndVersion(t *testing.T) {
	_, stderr, code := runCmd(t, "", "--help")
	if code != 0 || !strings.Contains(stderr, "identity inspect") || !strings.Contains(stderr, "-no-browser") {
		t.Fatalf("--help: %d %q", code, stderr)
	}
	out, _, code := runCmd(t, "", "version")
	if code != 0 || !strings.HasPrefix(out, "borghui ") {
		t.Fatalf("version: %d %q", code, out)
	}
}

var (
	benchOnce sync.Once
	benchBin  string
)

// BenchmarkStartToListening measures a cold start of the real binary until
// it prints its launch URL (the listener is bound by then). No KDF runs.
func BenchmarkStartToListening(b *testing.B) {
	benchOnce.Do(func() {
		dir, err := os.MkdirTemp("", "borghui-bench-")
		if err != nil {
			b.Fatal(err)
		}
		benchBin = filepath.Join(dir, "borghui")
		if out, err := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", benchBin, ".").CombinedOutput(); err != nil {
			b.Fatalf("build: %v\n%s", err, out)
		}
	})
	data := filepath.Join(b.TempDir(), "BorgData")
	var total time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		cmd := exec.Command(benchBin, "--no-browser", "--listen", "127.0.0.1:0", "--data", data)
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "Open BorgHUI: ") {
				break
			}
		}
		total += time.Since(start)
		b.StopTimer()
		cmd.Process.Kill()
		cmd.Wait()
		b.StartTimer()
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/start")
}
