package usbboot

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/borgios/borghui/internal/dirs"
)

// BrowserEnv names a browser to use instead of looking for one: a path (or a
// name on PATH). Its family is guessed from the base name, so a copy named
// "chromium" or "firefox" gets that family's private-window flags.
const BrowserEnv = "BORGHUI_BROWSER"

// family is a group of browsers that take the same command-line flags.
type family int

const (
	familyOther    family = iota // unknown: started with the URL only
	familyChromium               // Chromium, Chrome, Brave, Edge
	familyFirefox                // Firefox, Firefox ESR, LibreWolf
)

// Names looked up on PATH, in order of preference: the Chromium family first,
// since it is the one whose whole profile we can keep on the stick.
var (
	chromiumNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "brave-browser", "microsoft-edge"}
	firefoxNames  = []string{"firefox", "firefox-esr", "librewolf"}
)

// firefoxPrefs is written as user.js into the Firefox profile on the stick:
// the counterpart of Chromium's --no-first-run and --no-default-browser-check,
// and no disk cache and no data reporting.
const firefoxPrefs = `user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("browser.aboutwelcome.enabled", false);
user_pref("browser.startup.homepage_override.mstone", "ignore");
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("toolkit.telemetry.reportingpolicy.firstRun", false);
user_pref("browser.cache.disk.enable", false);
`

// OpenBrowser opens url once, in a private window where the browser allows
// it. The URL carries a one-time launch token, so a copy seen later on a
// process list is worthless; the caller prints the URL as well, for hosts
// with no desktop.
//
// The browser is, in order: the one named by $BORGHUI_BROWSER; a Chromium
// family browser (on PATH, else in /Applications on macOS or the Program
// Files and LocalAppData folders on Windows); a Firefox family browser
// (likewise); else the system opener (xdg-open, open, or url.dll on Windows),
// which hands the URL to the person's default browser as it is.
//
// A browser we start ourselves keeps its profile on the stick:
//
//	Chromium: --user-data-dir=<BorgData>/browser --disk-cache-dir=<BorgData>/browser/disk-cache
//	          --incognito --no-first-run --no-default-browser-check
//	          (+ --password-store=basic on Linux, --use-mock-keychain on macOS: no keyring)
//	          --new-window URL
//	Firefox:  -profile <BorgData>/firefox -private-window URL
//
// Firefox gets no -no-remote: Firefox finds a running instance by its
// profile path, so without it a second start (a second double-click) opens
// its window in the instance already running on the stick, never in the
// person's own Firefox; with it, that second start fails with "Firefox is
// already running". A second Chromium start is likewise handed to the
// running one by its --user-data-dir.
//
// Every child gets TMPDIR (TMP and TEMP too, on Windows) set to
// <BorgData>/tmp. The browsers we start on Linux and the BSDs also get
// XDG_CONFIG_HOME, XDG_CACHE_HOME and XDG_DATA_HOME below <BorgData>/xdg, so
// the caches of the browser, fontconfig and Mesa and GTK's recent-files list
// land on the stick instead of in the host's home folder. HOME itself is left
// alone: the browser still finds the person's Downloads folder. The system
// opener gets only TMPDIR: it hands the URL to a browser that usually runs
// already, with the host's environment.
func OpenBrowser(l Layout, url string) error {
	b := findBrowser(runtime.GOOS)
	if b.path != "" {
		cmd, err := b.command(l, runtime.GOOS, url)
		if err == nil {
			err = start(cmd)
		}
		if err == nil {
			return nil
		}
		// A browser that will not start is no reason to give up: the
		// system opener may still find one.
	}
	cmd := systemOpener(runtime.GOOS, url)
	if err := setStickEnv(cmd, l, runtime.GOOS, false); err != nil {
		return err
	}
	return start(cmd)
}

func start(cmd *exec.Cmd) error {
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("usbboot: opening the browser: %w", err)
	}
	go func() { _ = cmd.Wait() }()
	return nil
}

// browser is a browser found on this computer; path is empty when there is
// none and the system opener is to be used.
type browser struct {
	path   string
	family family
}

// findBrowser picks the browser to start, as described on [OpenBrowser].
func findBrowser(goos string) browser {
	if p := os.Getenv(BrowserEnv); p != "" {
		return browser{path: p, family: guessFamily(p)}
	}
	for _, f := range []struct {
		family family
		names  []string
	}{{familyChromium, chromiumNames}, {familyFirefox, firefoxNames}} {
		for _, name := range f.names {
			if p, err := exec.LookPath(name); err == nil {
				return browser{path: p, family: f.family}
			}
		}
		for _, p := range appPaths(goos, f.family, os.Getenv) {
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				return browser{path: p, family: f.family}
			}
		}
	}
	return browser{}
}

// guessFamily tells the family from an executable's base name.
func guessFamily(path string) family {
	name := strings.ToLower(filepath.Base(path))
	switch {
	case strings.Contains(name, "chrom"), strings.Contains(name, "brave"), strings.Contains(name, "edge"):
		return familyChromium
	case strings.Contains(name, "firefox"), strings.Contains(name, "librewolf"):
		return familyFirefox
	}
	return familyOther
}

// appPaths lists where a family's browsers are installed outside PATH: the
// app bundles on macOS, the usual install folders on Windows.
func appPaths(goos string, f family, getenv func(string) string) []string {
	switch goos {
	case "darwin":
		apps := map[family][]string{
			familyChromium: {"Chromium", "Google Chrome", "Brave Browser", "Microsoft Edge"},
			familyFirefox:  {"Firefox", "LibreWolf"},
		}[f]
		var paths []string
		for _, app := range apps {
			exe := app
			if f == familyFirefox {
				exe = strings.ToLower(app)
			}
			paths = append(paths, "/Applications/"+app+".app/Contents/MacOS/"+exe)
		}
		return paths
	case "windows":
		rel := map[family][]string{
			familyChromium: {
				`Google\Chrome\Application\chrome.exe`,
				`Chromium\Application\chrome.exe`,
				`BraveSoftware\Brave-Browser\Application\brave.exe`,
				`Microsoft\Edge\Application\msedge.exe`,
			},
			familyFirefox: {`Mozilla Firefox\firefox.exe`, `LibreWolf\librewolf.exe`},
		}[f]
		var paths []string
		for _, r := range rel {
			for _, root := range []string{"ProgramFiles", "ProgramFiles(x86)", "LocalAppData"} {
				if dir := getenv(root); dir != "" {
					paths = append(paths, dir+`\`+r)
				}
			}
		}
		return paths
	}
	return nil
}

// command builds the command that opens url in b, making the folders it
// will use on the stick.
func (b browser) command(l Layout, goos, url string) (*exec.Cmd, error) {
	var args []string
	switch b.family {
	case familyChromium:
		profile := filepath.Join(l.Data, "browser")
		args = []string{
			"--user-data-dir=" + profile,
			"--disk-cache-dir=" + filepath.Join(profile, "disk-cache"),
			"--incognito",
			"--no-first-run",
			"--no-default-browser-check",
		}
		if goos == "darwin" {
			args = append(args, "--use-mock-keychain")
		} else if goos != "windows" {
			args = append(args, "--password-store=basic")
		}
		args = append(args, "--new-window", url)
		if err := dirs.MkdirAll(profile, 0o700); err != nil {
			return nil, fmt.Errorf("usbboot: making the browser profile: %w", err)
		}
	case familyFirefox:
		profile := filepath.Join(l.Data, "firefox")
		args = []string{"-profile", profile, "-private-window", url}
		if err := dirs.MkdirAll(profile, 0o700); err != nil {
			return nil, fmt.Errorf("usbboot: making the browser profile: %w", err)
		}
		if err := os.WriteFile(filepath.Join(profile, "user.js"), []byte(firefoxPrefs), 0o600); err != nil {
			return nil, fmt.Errorf("usbboot: writing the browser settings: %w", err)
		}
	default:
		args = []string{url}
	}
	cmd := exec.Command(b.path, args...)
	if err := setStickEnv(cmd, l, goos, true); err != nil {
		return nil, err
	}
	return cmd, nil
}

// setStickEnv gives cmd this process's environment with the temp folder on
// the stick, and for a browser we start ourselves on Linux and the BSDs the
// XDG folders as well; it makes those folders. Later entries override
// earlier ones in [exec.Cmd.Env], so the additions are appended.
func setStickEnv(cmd *exec.Cmd, l Layout, goos string, ownBrowser bool) error {
	tmp := l.Temp()
	folders := [][2]string{{"TMPDIR", tmp}}
	if goos == "windows" {
		folders = append(folders, [2]string{"TMP", tmp}, [2]string{"TEMP", tmp})
	}
	if ownBrowser && goos != "windows" && goos != "darwin" {
		xdg := filepath.Join(l.Data, "xdg")
		folders = append(folders,
			[2]string{"XDG_CONFIG_HOME", filepath.Join(xdg, "config")},
			[2]string{"XDG_CACHE_HOME", filepath.Join(xdg, "cache")},
			[2]string{"XDG_DATA_HOME", filepath.Join(xdg, "data")})
	}
	cmd.Env = os.Environ()
	for _, d := range folders {
		if err := dirs.MkdirAll(d[1], 0o700); err != nil {
			return fmt.Errorf("usbboot: making the folder for %s: %w", d[0], err)
		}
		cmd.Env = append(cmd.Env, d[0]+"="+d[1])
	}
	return nil
}

// systemOpener hands url to the person's default browser.
func systemOpener(goos, url string) *exec.Cmd {
	switch goos {
	case "windows":
		return exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	case "darwin":
		return exec.Command("open", url)
	}
	return exec.Command("xdg-open", url)
}
