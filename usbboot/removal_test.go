package usbboot

import (
	"context"
	"os"
	"path/filepath"
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
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := Layout{Data: filepath.Join(t.TempDir(), DataFolderName)}
			if err := os.Mkdir(l.Data, 0o700); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			fired := make(chan time.Time, 2)
			l.WatchRemoval(ctx, func() { fired <- time.Now() })
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
	l := Layout{Data: filepath.Join(t.TempDir(), DataFolderName)}
	if err := os.Mkdir(l.Data, 0o700); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	fired := make(chan struct{}, 1)
	l.WatchRemoval(ctx, func() { fired <- struct{}{} })
	cancel()
	time.Sleep(2 * RemovalPoll)
	os.RemoveAll(l.Data)
	select {
	case <-fired:
		t.Fatal("fired after its context ended")
	case <-time.After(3 * RemovalPoll):
	}
}
