// Command borghui is BorgHUI Conduit: double-click it on a USB stick and your
// browser opens on your files, mail and wallet, with your identity unlocked
// from the stick. See README.md.
package main

import (
	"fmt"
	"io"
	"os"
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
  borghui identity restore [--data DIR] [--legacy] [--replace]
                                     read words (line 1), BIP39 passphrase
                                     (line 2, may be empty) and the keystore
                                     passphrase (line 3) on stdin; write the
                                     keystore (in BorgData beside the binary
                                     unless --data says where)
  borghui files put --join ADDR [--erasure D+P] FILE
  borghui files get --join ADDR LINK OUT
                                     store a file on the network and print
                                     its link, or fetch one; an interrupted
                                     transfer resumes (passphrase on stdin)
  borghui mail publish|send|receive|flush --join ADDR [--to MUID --subject S]
                                     your mail card, send (body after the
                                     passphrase on stdin), collect; an
                                     interrupted send goes out once later
  borghui node --cells LIST --data DIR [--join ADDR ...] [--port-offset N]
                                     run a full node of the listed cells
  borghui devnet --nodes N           run N node processes on loopback until Ctrl-C
  borghui sim --nodes N --fanout K [--storm] [--churn RATE] [--partition] --json
                                     simulate the tree with virtual time
  borghui bench tree --nodes N --json
                                     measure real node processes on loopback
  borghui version                    print version, commit and build date
  borghui help                       this text

Flags of the conduit:
`

func main() {
	stop := startProfile(os.Args[1:])
	code := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "identity":
			return identityCmd(args[1:], stdin, stdout, stderr)
		case "node":
			return nodeCmd(args[1:], stdin, stdout, stderr)
		case "files":
			return filesCmd(args[1:], stdin, stdout, stderr)
		case "mail":
			return mailCmd(args[1:], stdin, stdout, stderr)
		case "devnet":
			return devnetCmd(args[1:], stdout, stderr)
		case "sim":
			return simCmd(args[1:], stdout, stderr)
		case "bench":
			return benchCmd(args[1:], stdout, stderr)
		case "version":
			fmt.Fprintf(stdout, "borghui %s (commit %s, built %s)\n", version, commit, date)
			return 0
		case "help":
			args = []string{"--help"}
		}
	}
	return conduitCmd(args, stdin, stdout, stderr)
}
