// Command borghui is BorgHUI Conduit: double-click it on a USB stick and your
// browser opens on your files, mail and wallet, with your identity unlocked
// from the stick. See README.md.
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
	"syscall"
	"time"

	"github.com/borgios/borghui/conduit"
	"github.com/borgios/borghui/usbboot"
	"github.com/borgios/borghui/wallet"
	"github.com/borgios/borghui/web"
)

// Set at build time with -ldflags "-X main.version=… -X main.commit=… -X main.date=…".
var (
	version = "dev"
	commit  = "unknown"
	date    = "unknown"
)

const usage = `BorgHUI Conduit: your files, mail and wallet, from your USB stick.

Usage:
  borghui [flags]                    start the conduit and open your browser
  borghui identity inspect [--legacy]
                                     read words (line 1) and an optional BIP39
                                     passphrase (line 2) on stdin; print the
                                     identity's public face as JSON
  borghui identity restore --data DIR [--legacy] [--replace]
                                     read words (line 1), BIP39 passphrase
                                     (line 2, may be empty) and the keystore
                                     passphrase (line 3) on stdin; write the
                                     keystore
  borghui version                    print version, commit and build date
  borghui help                       this text

Flags of the conduit:
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "identity":
			return identityCmd(args[1:], stdin, stdout, stderr)
		case "version":
			fmt.Fprintf(stdout, "borghui %s (commit %s, built %s)\n", version, commit, date)
			return 0
		case "help":
			args = []string{"--help"}
		}
	}
	return conduitCmd(args, stdin, stdout, stderr)
}

func conduitCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("borghui", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	data := fs.String("data", "", "data folder (default: BorgData beside the binary)")
	listen := fs.String("listen", "127.0.0.1:0", "loopback address for the UI; port 0 lets the system pick a free one")
	noBrowser := fs.Bool("no-browser", false, "print the launch URL instead of opening a browser")
	unlockStdin := fs.Bool("unlock-stdin", false, "read the keystore passphrase from stdin and start unlocked")
	testKDF := fs.Bool("test-kdf", false, "tests only: create keystores with a tiny Argon2id cost")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "borghui: unknown command %q (try borghui help)\n", fs.Arg(0))
		return 2
	}

	layout, err := usbboot.Locate(*data)
	if err != nil {
		fmt.Fprintln(stderr, "borghui:", err)
		return 1
	}
	log, logFile, err := usbboot.OpenLog(layout, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "borghui:", err)
		return 1
	}
	defer logFile.Close()

	mem := wallet.PrepareMemory()
	warning := ""
	if !mem.Locked {
		warning = "Warning: " + mem.Reason + "."
		log.Warn("memory is not locked", "reason", mem.Reason)
	}
	if *testKDF {
		log.Warn("test KDF in use: keystores made now are weakly protected; never use this for a real identity")
	}
	c := conduit.New(conduit.Config{
		KeystoreDir: layout.Keystore(),
		TestKDF:     *testKDF,
		Remember:    &conduit.RememberList{Path: layout.Settings(), Host: usbboot.HostFingerprint()},
		Log:         log,
	})
	defer wallet.Purge()
	defer c.Close()

	if *unlockStdin {
		lines, err := readLines(stdin, 1)
		if err == nil {
			err = c.Unlock(lines[0])
			wipeLines(lines)
		}
		if err != nil {
			fmt.Fprintln(stderr, "borghui:", conduit.UserMessage(err))
			return 1
		}
	} else if ok, err := c.UnlockRemembered(); err != nil {
		log.Info("remembered passphrase not used", "reason", conduit.UserMessage(err))
	} else if ok {
		log.Info("unlocked with the passphrase remembered on this computer")
	}

	srv, err := web.Listen(*listen, web.Options{Conduit: c, Log: log, Warning: warning})
	if err != nil {
		fmt.Fprintln(stderr, "borghui:", err)
		return 1
	}
	url := srv.LaunchURL()
	log.Info("listening", "addr", srv.BaseURL(), "data", layout.Data)
	fmt.Fprintf(stdout, "BorgHUI is running at %s\nOpen BorgHUI: %s\n", srv.BaseURL(), url)
	if !*noBrowser {
		if err := usbboot.OpenBrowser(url); err != nil {
			fmt.Fprintln(stdout, "Could not open a browser here; open the link above yourself.")
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve() }()
	select {
	case <-ctx.Done():
		log.Info("stopping")
	case err := <-errc:
		if err != nil {
			log.Error("server stopped", "err", err)
			return 1
		}
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdownCtx)
	return 0
}

func identityCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "borghui identity: say inspect or restore (try borghui help)")
		return 2
	}
	fs := flag.NewFlagSet("borghui identity "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	legacyPhrase := fs.Bool("legacy", false, "the words are an old borgHUI 27-word phrase")
	var data *string
	var replace, testKDF *bool
	switch args[0] {
	case "inspect":
	case "restore":
		data = fs.String("data", "", "data folder to write the keystore in (required)")
		replace = fs.Bool("replace", false, "replace an identity already there (a backup of it is kept)")
		testKDF = fs.Bool("test-kdf", false, "tests only: a tiny Argon2id cost")
	default:
		fmt.Fprintf(stderr, "borghui identity: unknown command %q\n", args[0])
		return 2
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	want := 2
	if args[0] == "restore" {
		want = 3
		if *data == "" {
			fmt.Fprintln(stderr, "borghui identity restore: --data is required")
			return 2
		}
	}
	lines, err := readLines(stdin, want)
	defer wipeLines(lines)
	if err != nil {
		fmt.Fprintln(stderr, "borghui:", err)
		return 1
	}
	if *legacyPhrase && len(lines[1]) > 0 {
		fmt.Fprintln(stderr, "borghui: an old borgHUI phrase has no BIP39 passphrase; leave line 2 empty")
		return 2
	}

	if args[0] == "inspect" {
		info, err := conduit.Inspect(lines[0], lines[1], *legacyPhrase)
		if err != nil {
			fmt.Fprintln(stderr, "borghui:", conduit.UserMessage(err))
			return 1
		}
		out, _ := json.Marshal(struct {
			MUID     string `json:"muid"`
			BorgDoge string `json:"borgDogeAddress"`
			Public   string `json:"publicKey"`
		}{info.MUID, info.BorgDoge, info.PublicKey})
		fmt.Fprintln(stdout, string(out))
		return 0
	}

	layout, err := usbboot.Locate(*data)
	if err != nil {
		fmt.Fprintln(stderr, "borghui:", err)
		return 1
	}
	c := conduit.New(conduit.Config{KeystoreDir: layout.Keystore(), TestKDF: *testKDF})
	defer wallet.Purge()
	defer c.Close()
	if *legacyPhrase {
		err = c.RestoreLegacyPhrase(lines[0], lines[2], lines[2], *replace)
	} else {
		err = c.RestoreWords(lines[0], lines[1], lines[2], lines[2], *replace)
	}
	if err != nil {
		fmt.Fprintln(stderr, "borghui:", conduit.UserMessage(err))
		return 1
	}
	info, _ := c.Identity()
	fmt.Fprintf(stdout, "Identity %s written to %s\n", info.MUID, layout.Keystore())
	return 0
}

// readLines reads up to n lines from r (missing trailing lines are empty)
// into byte slices the caller wipes with wipeLines. Input is capped at 8 KiB.
func readLines(r io.Reader, n int) ([][]byte, error) {
	// Read straight into one buffer (no bufio, whose internal copy could not
	// be wiped), stopping once n lines are in.
	buf := make([]byte, 0, 8<<10)
	for len(buf) < cap(buf) && bytes.Count(buf, []byte("\n")) < n {
		k, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+k]
		if err == io.EOF {
			break
		}
		if err != nil {
			clear(buf)
			return nil, fmt.Errorf("reading stdin: %w", err)
		}
	}
	lines := make([][]byte, n)
	rest := buf
	for i := range lines {
		var line []byte
		line, rest, _ = bytes.Cut(rest, []byte("\n"))
		lines[i] = bytes.TrimRight(line, "\r")
	}
	clear(rest)
	if len(bytes.TrimSpace(lines[0])) == 0 {
		clear(buf)
		return nil, errors.New("nothing on stdin: give the input on line 1")
	}
	return lines, nil
}

func wipeLines(lines [][]byte) {
	for _, l := range lines {
		clear(l)
	}
}
