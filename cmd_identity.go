package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/borgios/borghui/conduit"
	"github.com/borgios/borghui/usbboot"
	"github.com/borgios/borghui/wallet"
)

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
		data = fs.String("data", "", "data folder to write the keystore in (default: BorgData beside the binary, as the conduit uses)")
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
