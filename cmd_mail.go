package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/borgios/borghui/cells/mail"
	"github.com/borgios/borghui/conduit"
	"github.com/borgios/borghui/internal/dirs"
	"github.com/borgios/borghui/usbboot"
	"github.com/borgios/borghui/wallet"
)

const mailUsage = `Usage:
  borghui mail publish [flags]                      publish your mail card (nick, keys)
  borghui mail send [flags] --to MUID --subject S   send; the body is read after the passphrase
  borghui mail receive [flags]                      collect new mail; one JSON object per message
  borghui mail flush [flags]                        deliver what an interrupted send left queued

The keystore passphrase is read from stdin (line 1). Every command first
delivers what the outbox on the stick still holds, so a send cut short by
a crash or a pulled stick goes out once, on the next run.

Flags:
`

// mailCmd runs `borghui mail publish|send|receive|flush`.
func mailCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("borghui mail", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, mailUsage)
		fs.PrintDefaults()
	}
	data := fs.String("data", "", "data folder (default: BorgData beside the binary)")
	var joins multiFlag
	fs.Var(&joins, "join", "a mail cell receptor address (repeatable)")
	nick := fs.String("nick", "", "publish: the name others find you by")
	to := fs.String("to", "", "send: the recipient's MUID")
	subject := fs.String("subject", "", "send: the subject")
	crashAfterQueue := fs.Bool("crash-after-queue", false, "tests only: exit at once when the message is safe in the outbox, before it is delivered")
	verbs := map[string]bool{"publish": true, "send": true, "receive": true, "flush": true}
	if len(args) == 0 || !verbs[args[0]] {
		fs.Usage()
		return 2
	}
	verb := args[0]
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 0 || len(joins) == 0 || (verb == "send" && *to == "") {
		fs.Usage()
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "borghui mail: %s\n  (%v)\n", conduit.UserMessage(err), err)
		return 1
	}
	layout, err := usbboot.Locate(*data)
	if err != nil {
		return fail(err)
	}
	wallet.PrepareMemory()
	defer wallet.Purge()
	c := conduit.New(conduit.Config{KeystoreDir: layout.Keystore()})
	defer c.Close()
	// Line 1 is the passphrase, the rest (send) the body: read it all
	// into one buffer, whose passphrase part is wiped after the unlock.
	input, err := io.ReadAll(io.LimitReader(stdin, mail.MaxMessage+4096))
	if err != nil {
		return fail(err)
	}
	pass, body, _ := bytes.Cut(input, []byte("\n"))
	err = c.Unlock(bytes.TrimRight(pass, "\r"))
	clear(pass)
	if err != nil {
		return fail(err)
	}
	id, err := c.Signer()
	if err != nil {
		return fail(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var members []mail.Member
	replicas := 0
	var errs []error
	for _, addr := range joins {
		if members, replicas, err = mail.Discover(ctx, id, addr); err == nil {
			break
		}
		errs = append(errs, err)
	}
	if members == nil {
		return fail(fmt.Errorf("no mail cell answered: %w", errors.Join(errs...)))
	}
	pool := mail.NewPool(id)
	defer pool.Close()
	ocfg := mail.OutboxConfig{}
	if *crashAfterQueue {
		ocfg.OnState = func(_ mail.MsgID, st mail.State) {
			if st == mail.StateQueued {
				os.Exit(3) // as a pulled stick would: no cleanup at all
			}
		}
	}
	dir := filepath.Join(layout.Data, "mail")
	if err := dirs.MkdirAll(dir, 0o700); err != nil {
		return fail(err)
	}
	// The nickname goes on every card the account publishes (new prekeys
	// included): keep the last one given on the stick.
	profile := filepath.Join(dir, "nick")
	if *nick == "" {
		if b, err := os.ReadFile(profile); err == nil {
			*nick = strings.TrimSpace(string(b))
		}
	} else if err := os.WriteFile(profile, []byte(*nick+"\n"), 0o600); err != nil {
		return fail(err)
	}
	if *nick == "" {
		fmt.Fprintln(stderr, "borghui mail: first publish your card with --nick NAME")
		return 2
	}
	acct, err := mail.OpenAccount(mail.AccountConfig{Identity: id, Dir: dir,
		Net: mail.NewMulti(pool.Dial, members, replicas), Nick: *nick, Outbox: ocfg})
	if err != nil {
		return fail(err)
	}
	defer acct.Close()
	if n := acct.Outbox().Flush(ctx); n > 0 {
		fmt.Fprintf(stderr, "delivered %d message(s) left in the outbox\n", n)
	}
	out := json.NewEncoder(stdout)
	switch verb {
	case "publish":
		card, err := acct.Publish(ctx)
		if err != nil {
			return fail(err)
		}
		_ = out.Encode(map[string]any{"muid": acct.MUID(), "nick": card.Nick, "version": card.Version, "prekeys": len(card.Prekeys)})
	case "send":
		res, err := acct.Send(ctx, mail.Draft{To: *to, Subject: *subject, Body: string(body)})
		if res != nil {
			_ = out.Encode(map[string]any{"id": res.ID.String(), "state": string(res.State), "forwardSecret": res.ForwardSecret})
		}
		if err != nil {
			return fail(err)
		}
	case "receive":
		rep, err := acct.Receive(ctx)
		if err != nil {
			return fail(err)
		}
		for _, s := range rep.New {
			_ = out.Encode(map[string]any{"id": s.Message.ID.String(), "from": s.Message.FromMUID, "subject": s.Message.Subject,
				"body": s.Message.Body, "forwardSecret": s.ForwardSecret})
		}
		for _, r := range rep.Rejected {
			fmt.Fprintf(stderr, "refused message %s: %s\n", r.ID, strings.TrimPrefix(r.Err.Error(), "mail: "))
		}
	case "flush":
		// done above
	}
	return 0
}
