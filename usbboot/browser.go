package usbboot

import (
	"fmt"
	"os/exec"
	"runtime"
)

// OpenBrowser asks the system to open url in the person's browser. The URL
// carries a one-time launch token, so a copy seen later on a process list is
// worthless. The caller prints the URL as well, for hosts with no desktop.
func OpenBrowser(url string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	case "darwin":
		cmd = exec.Command("open", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("usbboot: opening the browser: %w", err)
	}
	go func() { _ = cmd.Wait() }()
	return nil
}
