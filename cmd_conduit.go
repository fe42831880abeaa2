package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/borgios/borghui/conduit"
	"github.com/borgios/borghui/usbboot"
	"github.com/borgios/borghui/wallet"
	"github.com/borgios/borghui/web"
)

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
	var joins multiFlag
	fs.Var(&joins, "join", "the network: a node's IP (every cell on its usual port) or CELL=HOST:PORT, a cell's receptor (repeatable); default: the nodes saved on the stick")
	nick := fs.String("nick", "", "the name on your mail card")
	poll := fs.Duration("poll", conduit.DefaultPoll, "how often to check for new mail and balance changes")
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
	// One run per stick: a second double-click opens a browser window on
	// the running one.
	inst, err := layout.Lock()
	if errors.Is(err, usbboot.ErrRunning) {
		link, herr := layout.Handoff()
		if herr != nil {
			fmt.Fprintln(stderr, "borghui: BorgHUI is already running from this stick, but did not answer:", herr)
			return 1
		}
		fmt.Fprintf(stdout, "BorgHUI is already running from this stick.\nOpen BorgHUI: %s\n", link)
		if !*noBrowser {
			_ = usbboot.OpenBrowser(layout, link)
		}
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "borghui:", err)
		return 1
	}
	defer inst.Release()
	// Temp files, ours and every child's, go on the stick, not the host.
	cleanTemp, err := usbboot.PrepareTemp(layout)
	if err != nil {
		fmt.Fprintln(stderr, "borghui:", err)
		return 1
	}
	defer cleanTemp()
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
	eps, err := receptorTargets(joins)
	if err != nil {
		fmt.Fprintln(stderr, "borghui:", err)
		return 2
	}
	// The network: --join, else the one saved on the stick; while neither
	// is known or reachable, a solo network of this computer's own, whose
	// data moves to the network once it answers.
	sn := &solo{layout: layout, testKDF: *testKDF, log: log}
	defer sn.Close()
	nc := &conduit.NetworkConfig{Mode: "guest", Dir: layout.Data, Nick: *nick, Poll: *poll,
		Endpoints: networkEndpoints(eps, filepath.Join(layout.Data, conduit.EndpointsFile)),
		Solo:      sn.endpoints, SoloStop: sn.Close}
	known := len(eps) > 0 || savedNetwork(filepath.Join(layout.Data, conduit.EndpointsFile))
	c := conduit.New(conduit.Config{
		KeystoreDir: layout.Keystore(),
		TestKDF:     *testKDF,
		Remember:    &conduit.RememberList{Path: layout.Settings(), Host: usbboot.HostFingerprint()},
		Log:         log,
		Network:     nc,
	})
	defer wallet.Purge()
	defer c.Close()
	// Home mode: a node of every cell on this computer, where the person
	// allowed it (cmd_home.go).
	hm := startHome(layout, c, nc, known, *testKDF, log)
	defer hm.Close()

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

	// SIGINT, SIGTERM and the UI's "Quit and wipe" end the run; the
	// deferred Close and Purge wipe every secret on the way out.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := web.Listen(*listen, web.Options{Conduit: c, Log: log, Warning: warning, Quit: stop, Node: hm.nodeInfo(sn.info), Home: hm, Handoff: inst.CheckHandoff})
	if err != nil {
		fmt.Fprintln(stderr, "borghui:", err)
		return 1
	}
	if err := inst.Publish(srv.BaseURL()); err != nil {
		log.Warn("a second start will not find this one", "err", err)
	}
	url := srv.LaunchURL()
	log.Info("listening", "addr", srv.BaseURL(), "data", layout.Data)
	fmt.Fprintf(stdout, "BorgHUI is running at %s\nOpen BorgHUI: %s\n", srv.BaseURL(), url)
	if !*noBrowser {
		if err := usbboot.OpenBrowser(layout, url); err != nil {
			fmt.Fprintln(stdout, "Could not open a browser here; open the link above yourself.")
		}
	}

	// Pulling the stick out ends the run within a second: the normal stop
	// path, with a watchdog that purges the secrets and exits if anything
	// on the way hangs on the vanished device.
	var removed atomic.Bool
	inst.WatchRemoval(ctx, func() {
		removed.Store(true)
		fmt.Fprintln(stderr, "borghui: the stick was removed; wiping keys and stopping")
		go func() {
			time.Sleep(700 * time.Millisecond)
			wallet.Purge()
			os.Exit(3)
		}()
		stop()
	})
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
	// Requests under way get a second to finish, unless the stick is gone:
	// then they cannot (an upload's journal is on it) and must not hold up
	// the wipe.
	grace := time.Second
	if removed.Load() {
		grace = 50 * time.Millisecond
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	_ = srv.Shutdown(shutdownCtx)
	return 0
}
