package usbboot

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
)

// maxLogBytes bounds the log on the stick: past it, the old log is moved
// aside (one generation kept), so a long session cannot fill the stick.
const maxLogBytes = 4 << 20

// OpenLog opens the conduit's log file on the stick and returns a logger
// that writes to it and to stderr. The log never receives secrets: callers
// log events, never words, passphrases or keys.
func OpenLog(l Layout, stderr io.Writer) (*slog.Logger, io.Closer, error) {
	if err := os.MkdirAll(l.Logs(), 0o700); err != nil {
		return nil, nil, fmt.Errorf("usbboot: making the log folder: %w", err)
	}
	path := filepath.Join(l.Logs(), "borghui.log")
	if st, err := os.Stat(path); err == nil && st.Size() > maxLogBytes {
		_ = os.Remove(path + ".1")
		_ = os.Rename(path, path+".1")
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("usbboot: opening the log: %w", err)
	}
	w := io.MultiWriter(f, stderr)
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo})), f, nil
}
