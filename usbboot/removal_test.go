package usbboot

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWatchRemoval(t *testing.T) {
	for _, tc := range []struct {
		name   string
		remove func(dir string) error
	}{
		{"deleted", os.RemoveAll},
		{"replaced by a file", func(dir string) error {
			if err := os.RemoveAll(dir); err != nil {
				return err
			}
			return os.WriteFile(dir, nil, 0o600)
		}},
		{"renamed away", func(dir string) error { return os.Rename(dir, dir+".moved") }},
		{"re-made after removal", func(dir string) error {
			if err := os.RemoveAll(dir); err != nil {
				return err
			}
			return os.Mkdir(dir, 0o700)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := newInstance(t)
			l := in.l
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			fired := make(chan time.Time, 2)
			in.WatchRemoval(ctx, func() { fired <- time.Now() })
			select {
			case <-fired:
				t.Fatal("fired while the folder was there")
			case <-time.After(3 * RemovalPoll):
			}
			if err := tc.remove(l.Data); err != nil {
				t.Fatal(err)
			}
			select {
			case <-fired:
			case <-time.After(5 * time.Second): // generous: a loaded CI machine
				t.Fatal("removal not noticed")
			}
			select {
			case <-fired:
				t.Fatal("fired twice")
			case <-time.After(3 * RemovalPoll):
			}
		})
	}
}

func TestWatchRemovalStopsWithContext(t *testing.T) {
	in := newInstance(t)
	l := in.l
	ctx, cancel := context.WithCancel(context.Background())
	fired := make(chan struct{}, 1)
	in.WatchRemoval(ctx, func() { fired <- struct{}{} })
	cancel()
	time.Sleep(2 * RemovalPoll)
	os.RemoveAll(l.Data)
	select {
	case <-fired:
		t.Fatal("fired after its context ended")
	case <-time.After(3 * RemovalPoll):
	}
}

// newInstance locks a fresh data folder and publishes an address.
func newInstance(t *testing.T) *Instance {
	t.Helper()
	l := Layout{Data: filepath.Join(t.TempDir(), DataFolderName)}
	if err := os.Mkdir(l.Data, 0o700); err != nil {
		t.Fatal(err)
	}
	in, err := l.Lock()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(in.Release)
	if err := in.Publish("http://127.0.0.1:1"); err != nil {
		t.Fatal(err)
	}
	return in
}

func TestLockIsExclusive(t *testing.T) {
	in := newInstance(t)
	if _, err := in.l.Lock(); !errors.Is(err, ErrRunning) {
		t.Fatalf("second Lock: %v, want ErrRunning", err)
	}
	in.Release()
	again, err := in.l.Lock()
	if err != nil {
		t.Fatalf("Lock after Release: %v", err)
	}
	again.Release()
	if in.CheckHandoff("../../etc/passwd") || in.CheckHandoff(strings.Repeat("ab", 32)) {
		t.Fatal("a handoff nonce nobody wrote was accepted")
	}
}
