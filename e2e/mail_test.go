package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/borgios/borghui/cells/mail"
	"github.com/borgios/borghui/wallet"
)

// TestMailBetweenTwoConduits runs `borghui mail` for two people (and a
// third) against five real mail processes: cards published, A mails B
// forward-secret, B reads it (signature checked) and nobody else gets it;
// then A's conduit exits the instant the message is safe in its outbox —
// before delivery — and the next run delivers it exactly once.
func TestMailBetweenTwoConduits(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dn := startNet(t, ctx, mail.CellName, 5, nil)
	recp := dn.Nodes()[0].Endpoints[mail.CellName].Recp
	probe, err := wallet.NewNodeKey()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(probe.Destroy)
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		if ms, _, err := mail.Discover(ctx, probe, recp); err == nil && len(ms) == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the mail cells did not find each other")
		}
	}
	const pass = "a long passphrase for the test 1"
	people := map[string]string{
		"alice": "legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth title",
		"bob":   "letter advice cage absurd amount doctor acoustic avoid letter advice cage absurd amount doctor acoustic avoid letter advice cage absurd amount doctor acoustic bless",
		"carol": "zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo vote",
	}
	sticks := map[string]string{}
	muids := map[string]string{}
	for name, words := range people {
		sticks[name] = t.TempDir()
		if _, err := runCLI(t, words+"\n\n"+pass+"\n", "identity", "restore", "--data", sticks[name], "--test-kdf"); err != nil {
			t.Fatal(err)
		}
		var card struct {
			MUID    string `json:"muid"`
			Prekeys int    `json:"prekeys"`
		}
		out := mailCLI(t, sticks[name], recp, pass, "publish", "--nick", name)
		if err := json.Unmarshal([]byte(out), &card); err != nil || card.MUID == "" || card.Prekeys == 0 {
			t.Fatalf("%s publish: %q %v", name, out, err)
		}
		muids[name] = card.MUID
	}

	// A mails B.
	var sent struct {
		ID            string `json:"id"`
		State         string `json:"state"`
		ForwardSecret bool   `json:"forwardSecret"`
	}
	out := mailCLI(t, sticks["alice"], recp, pass+"\nhello bob, <b>this</b> is alice", "send", "--to", muids["bob"], "--subject", "Hello")
	if err := json.Unmarshal([]byte(out), &sent); err != nil || sent.State != "sent" || !sent.ForwardSecret {
		t.Fatalf("send: %q %v", out, err)
	}
	got := receive(t, sticks["bob"], recp, pass)
	if len(got) != 1 || got[0].Subject != "Hello" || got[0].Body != "hello bob, <b>this</b> is alice" ||
		got[0].From != muids["alice"] || !got[0].ForwardSecret || got[0].ID != sent.ID {
		t.Fatalf("bob received %+v, want alice's one forward-secret letter %s", got, sent.ID)
	}
	if again := receive(t, sticks["bob"], recp, pass); len(again) != 0 {
		t.Fatalf("bob received the letter twice: %+v", again)
	}
	if other := receive(t, sticks["carol"], recp, pass); len(other) != 0 {
		t.Fatalf("carol received bob's mail: %+v", other)
	}

	// A's conduit dies with the letter in its outbox, before delivery.
	cmd := exec.Command(borghui(t), "mail", "send", "--data", sticks["alice"], "--join", recp, "--to", muids["bob"], "--subject", "Second", "--crash-after-queue")
	cmd.Stdin = strings.NewReader(pass + "\nsent once")
	err = cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("the crashing send ended with %v, want exit code 3", err)
	}
	if early := receive(t, sticks["bob"], recp, pass); len(early) != 0 {
		t.Fatalf("the letter was delivered before the restart: %+v", early)
	}
	mailCLI(t, sticks["alice"], recp, pass, "flush")
	mailCLI(t, sticks["alice"], recp, pass, "flush") // a second run must not send it again
	got = receive(t, sticks["bob"], recp, pass)
	if len(got) != 1 || got[0].Subject != "Second" || got[0].Body != "sent once" {
		t.Fatalf("after the restart bob received %+v, want the second letter once", got)
	}
	if again := receive(t, sticks["bob"], recp, pass); len(again) != 0 {
		t.Fatalf("the second letter came twice: %+v", again)
	}
}

type received struct {
	ID            string `json:"id"`
	From          string `json:"from"`
	Subject       string `json:"subject"`
	Body          string `json:"body"`
	ForwardSecret bool   `json:"forwardSecret"`
}

func receive(t *testing.T, stick, recp, pass string) []received {
	t.Helper()
	var out []received
	for _, line := range strings.Split(strings.TrimSpace(mailCLI(t, stick, recp, pass, "receive")), "\n") {
		if line == "" {
			continue
		}
		var r received
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("receive printed %q: %v", line, err)
		}
		out = append(out, r)
	}
	return out
}

func mailCLI(t *testing.T, stick, recp, stdin string, args ...string) string {
	t.Helper()
	full := append([]string{"mail", args[0], "--data", stick, "--join", recp}, args[1:]...)
	out, err := runCLI(t, stdin, full...)
	if err != nil {
		t.Fatalf("borghui mail %s: %v", args[0], err)
	}
	return out
}
