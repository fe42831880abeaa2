package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/borgios/borghui/cells/ftree"
	"github.com/borgios/borghui/conduit"
	"github.com/borgios/borghui/conduit/files"
	"github.com/borgios/borghui/internal/dirs"
	"github.com/borgios/borghui/usbboot"
	"github.com/borgios/borghui/wallet"
)

const filesUsage = `Usage:
  borghui files put [flags] FILE       store FILE on the network; print its link
  borghui files get [flags] LINK OUT   fetch the file a link names into OUT

The keystore passphrase is read from stdin (line 1). An interrupted put or
get (a crash, a pulled stick, Ctrl-C) continues where it stopped when run
again with the same arguments: finished chunks are not sent again.

Flags:
`

// filesCmd runs `borghui files put|get`.
func filesCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("borghui files", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, filesUsage)
		fs.PrintDefaults()
	}
	data := fs.String("data", "", "data folder (default: BorgData beside the binary)")
	var joins multiFlag
	fs.Var(&joins, "join", "a shard cell receptor address (repeatable)")
	replicas := fs.Int("replicas", 3, "copies of every chunk")
	erasure := fs.String("erasure", "", "put: erasure-code as DATA+PARITY (e.g. 4+2) instead of copies")
	progress := fs.String("progress", "text", "progress on stderr: text, json (one object per step) or none")
	if len(args) == 0 || (args[0] != "put" && args[0] != "get") {
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
	want := map[string]int{"put": 1, "get": 2}[verb]
	if fs.NArg() != want || len(joins) == 0 {
		fs.Usage()
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "borghui files: %s\n  (%v)\n", conduit.UserMessage(err), err)
		return 1
	}
	layout, err := usbboot.Locate(*data)
	if err != nil {
		return fail(err)
	}
	svc := &files.Service{Window: 8}
	if *erasure != "" {
		var e files.ErasureConfig
		if _, err := fmt.Sscanf(*erasure, "%d+%d", &e.Data, &e.Parity); err != nil || e.Data < 1 || e.Parity < 1 {
			fmt.Fprintln(stderr, "borghui files: --erasure wants DATA+PARITY, e.g. 4+2")
			return 2
		}
		svc.Erasure = &e
	}
	report, err := progressPrinter(*progress, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "borghui files:", err)
		return 2
	}

	wallet.PrepareMemory()
	defer wallet.Purge()
	c := conduit.New(conduit.Config{KeystoreDir: layout.Keystore()})
	defer c.Close()
	lines, err := readLines(stdin, 1)
	if err == nil {
		err = c.Unlock(lines[0])
		wipeLines(lines)
	}
	if err != nil {
		return fail(err)
	}
	id, err := c.Signer()
	if err != nil {
		return fail(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	store, err := conduit.DialShards(ctx, id, joins, *replicas)
	if err != nil {
		return fail(err)
	}
	defer store.Close()
	svc.Store, svc.Keys = store, id

	if verb == "put" {
		link, err := putFile(ctx, svc, layout.Journals(), fs.Arg(0), report, stderr)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintln(stdout, link)
		return 0
	}
	if err := getFile(ctx, svc, fs.Arg(0), fs.Arg(1), report, stderr); err != nil {
		return fail(err)
	}
	return 0
}

// putFile stores path, resuming the journal of an earlier attempt on the
// same file (same path, size and modification time), and returns its link.
func putFile(ctx context.Context, svc *files.Service, journals, path string, report func(files.Progress), stderr io.Writer) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	f, err := os.Open(abs)
	if err != nil {
		return "", fmt.Errorf("opening the file: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return "", err
	}
	if err := dirs.MkdirAll(journals, 0o700); err != nil {
		return "", fmt.Errorf("the journals folder: %w", err)
	}
	layout := "copies"
	if svc.Erasure != nil {
		layout = fmt.Sprintf("%d+%d", svc.Erasure.Data, svc.Erasure.Parity)
	}
	key := sha256.Sum256(fmt.Appendf(nil, "%s\x00%d\x00%d\x00%s", abs, info.Size(), info.ModTime().UnixNano(), layout))
	jpath := filepath.Join(journals, hex.EncodeToString(key[:16])+".upload")
	j, err := files.OpenJournal(jpath)
	switch {
	case err == nil:
		fmt.Fprintf(stderr, "resuming: %d chunks of %s already stored\n", j.Count(), filepath.Base(abs))
	case errors.Is(err, os.ErrNotExist):
		if j, err = svc.CreateUploadJournal(jpath, filepath.Base(abs), abs, info.Size(), info.ModTime().UnixNano()); err != nil {
			return "", err
		}
	default:
		return "", err
	}
	meter := files.NewMeter(info.Size(), time.Now)
	if j.Count() > 0 {
		meter.Resume(int64(j.Count()) * int64(j.Header.ChunkSize)) // about: the first progress call says exactly
	}
	st, err := svc.Upload(ctx, f, info.Size(), filepath.Base(abs), "", j, func(done int64) { report(meter.Update(done)) })
	if err != nil {
		j.Close()
		return "", err
	}
	defer st.Key.Wipe()
	if err := j.Remove(); err != nil {
		fmt.Fprintln(stderr, "borghui files: the finished journal stays:", err)
	}
	name := filepath.Base(abs)
	if len(name) > ftree.MaxNameLen {
		name = name[:ftree.MaxNameLen]
	}
	capa := &ftree.Capability{Manifest: ftree.Hash(st.ManifestID), Key: st.Key[:], Size: uint64(info.Size()), Name: name}
	return ftree.EncodeLink(capa)
}

// getFile fetches the file link names into out. Bytes go to out.partial
// first; a partial file from an interrupted get is kept up to its last
// whole chunk (every byte in it was authenticated when written) and the
// fetch continues from there. out appears only when complete.
func getFile(ctx context.Context, svc *files.Service, link, out string, report func(files.Progress), stderr io.Writer) error {
	capa, err := ftree.ParseLink(link)
	if err != nil {
		return err
	}
	defer capa.Wipe()
	var key files.Key
	copy(key[:], capa.Key)
	defer key.Wipe()
	m, rd, err := svc.Open(ctx, files.ID(capa.Manifest), &key)
	if err != nil {
		return err
	}
	defer rd.Close()
	part := out + ".partial"
	f, err := os.OpenFile(part, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	from := min(info.Size(), m.Size) / int64(m.ChunkSize) * int64(m.ChunkSize)
	if from > 0 {
		fmt.Fprintf(stderr, "resuming: %d bytes of %s already here\n", from, m.Name)
	}
	if err := f.Truncate(from); err != nil {
		return err
	}
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		return err
	}
	if _, err := rd.Seek(from, io.SeekStart); err != nil {
		return err
	}
	meter := files.NewMeter(m.Size, time.Now)
	meter.Resume(from)
	pw := &progressWriter{w: f, done: from, report: func(d int64) { report(meter.Update(d)) }}
	if _, err := io.Copy(pw, rd); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(part, out)
}

// progressWriter counts what passes through it.
type progressWriter struct {
	w      io.Writer
	done   int64
	report func(int64)
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.done += int64(n)
	p.report(p.done)
	return n, err
}

// progressPrinter returns how progress is shown: text at most every half
// second, JSON (one object per step, for scripts and tests), or nothing.
func progressPrinter(kind string, w io.Writer) (func(files.Progress), error) {
	switch kind {
	case "none":
		return func(files.Progress) {}, nil
	case "json":
		enc := json.NewEncoder(w)
		return func(p files.Progress) { _ = enc.Encode(p) }, nil
	case "text":
		var last time.Time
		return func(p files.Progress) {
			if time.Since(last) < 500*time.Millisecond && p.Done < p.Total {
				return
			}
			last = time.Now()
			eta := "?"
			if p.ETA >= 0 {
				eta = p.ETA.Round(time.Second).String()
			}
			fmt.Fprintf(w, "%d of %d MB, %.1f MB/s, %s left\n", p.Done>>20, p.Total>>20, p.Rate/1e6, eta)
		}, nil
	}
	return nil, fmt.Errorf("--progress is text, json or none, not %q", kind)
}
