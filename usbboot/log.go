package usbboot

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/borgios/borghui/internal/dirs"
)

// OpenLog starts this run's log file on the stick and returns a logger
// that writes to it and to stderr. The previous run's log is kept as
// borghui.log.1 and older ones are dropped, so the logs cannot fill the
// stick. Every run writes a new file rather than appending to the old one:
// some FAT drivers lose a file's start when it is reopened and extended.
// The log never receives secrets: callers log events, never words,
// passphrases or keys.
func OpenLog(l Layout, stderr io.Writer) (*slog.Logger, io.Closer, error) {
	if err := dirs.MkdirAll(l.Logs(), 0o700); err != nil {
		return nil, nil, fmt.Errorf("usbboot: making the log folder: %w", err)
	}
	path := filepath.Join(l.Logs(), "borghui.log")
	if _, err := os.Stat(path); err == nil {
		_ = os.Remove(path + ".1")
		if err := os.Rename(path, path+".1"); err != nil {
			_ = os.Remove(path)
		}
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("usbboot: opening the log: %w", err)
	}
	w := io.MultiWriter(f, stderr)
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo})), f, nil
}
