package usbboot

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

const testURL = "http://127.0.0.1:4321/launch?t=one-time"

// fakeBrowser writes an executable shell script dir/name that records its
// arguments, one per line, in dir/args and the folder variables of its
// environment in dir/env.
func fakeBrowser(t *testing.T, dir, name string) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the fake browser is a shell script")
	}
	script := `#!/bin/sh
cd '` + dir + `' || exit 1
for a in "$@"; do printf '%s\n' "$a"; done >args.part
for v in TMPDIR XDG_CONFIG_HOME XDG_CACHE_HOME XDG_DATA_HOME; do
	eval "printf '%s=%s\n' $v \"\$$v\""
done >env.part
mv env.part env
mv args.part args
`
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// record waits for the fake browser in dir to have run and returns what it
// recorded.
func record(t *testing.T, dir string) (args []string, env map[string]string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		a, err := os.ReadFile(filepath.Join(dir, "args"))
		if err == nil {
			e, err := os.ReadFile(filepath.Join(dir, "env"))
			if err != nil {
				t.Fatal(err)
			}
			env = map[string]string{}
			for _, line := range strings.Split(strings.TrimSpace(string(e)), "\n") {
				k, v, _ := strings.Cut(line, "=")
				env[k] = v
			}
			return strings.Split(strings.TrimSuffix(string(a), "\n"), "\n"), env
		}
		if time.Now().After(deadline) {
			t.Fatal("the fake browser did not run")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestOpenBrowserPrivateWindow(t *testing.T) {
	keyring := "--password-store=basic"
	if runtime.GOOS == "darwin" {
		keyring = "--use-mock-keychain"
	}
	tests := []struct {
		name     string // the fake browser's file name
		wantArgs func(l Layout) []string
		wantDirs []string // folders below the data folder the launch makes
	}{
		{
			name: "chromium",
			wantArgs: func(l Layout) []string {
				profile := filepath.Join(l.Data, "browser")
				return []string{
					"--user-data-dir=" + profile,
					"--disk-cache-dir=" + filepath.Join(profile, "disk-cache"),
					"--incognito", "--no-first-run", "--no-default-browser-check",
					keyring, "--new-window", testURL,
				}
			},
			wantDirs: []string{"browser", "tmp"},
		},
		{
			name: "google-chrome-stable",
			wantArgs: func(l Layout) []string {
				profile := filepath.Join(l.Data, "browser")
				return []string{
					"--user-data-dir=" + profile,
					"--disk-cache-dir=" + filepath.Join(profile, "disk-cache"),
					"--incognito", "--no-first-run", "--no-default-browser-check",
					keyring, "--new-window", testURL,
				}
			},
			wantDirs: []string{"browser", "tmp"},
		},
		{
			name: "firefox",
			wantArgs: func(l Layout) []string {
				return []string{"-profile", filepath.Join(l.Data, "firefox"), "-private-window", testURL}
			},
			wantDirs: []string{"firefox", "tmp"},
		},
		{
			name:     "some-browser",
			wantArgs: func(Layout) []string { return []string{testURL} },
			wantDirs: []string{"tmp"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := testLayout(t)
			rec := t.TempDir()
			t.Setenv(BrowserEnv, fakeBrowser(t, rec, tt.name))
			if err := OpenBrowser(l, testURL); err != nil {
				t.Fatal(err)
			}
			args, env := record(t, rec)
			if want := tt.wantArgs(l); !slices.Equal(args, want) {
				t.Errorf("argv\n got %q\nwant %q", args, want)
			}
			if env["TMPDIR"] != l.Temp() {
				t.Errorf("TMPDIR = %q, want %q on the stick", env["TMPDIR"], l.Temp())
			}
			if runtime.GOOS != "darwin" {
				for _, v := range []string{"XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"} {
					if !strings.HasPrefix(env[v], l.Data+string(filepath.Separator)) {
						t.Errorf("%s = %q, want a folder below %s", v, env[v], l.Data)
					}
				}
			}
			for _, d := range tt.wantDirs {
				if st, err := os.Stat(filepath.Join(l.Data, d)); err != nil || !st.IsDir() {
					t.Errorf("folder %s not made on the stick: %v", d, err)
				}
			}
		})
	}
}

func TestOpenBrowserFirefoxSettings(t *testing.T) {
	l := testLayout(t)
	rec := t.TempDir()
	t.Setenv(BrowserEnv, fakeBrowser(t, rec, "librewolf"))
	if err := OpenBrowser(l, testURL); err != nil {
		t.Fatal(err)
	}
	record(t, rec)
	b, err := os.ReadFile(filepath.Join(l.Data, "firefox", "user.js"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"browser.shell.checkDefaultBrowser", false`) {
		t.Errorf("user.js does not turn off the default-browser question:\n%s", b)
	}
}

func TestOpenBrowserFallsBackToSystemOpener(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("fakes xdg-open")
	}
	l := testLayout(t)
	rec := t.TempDir()
	fakeBrowser(t, rec, "xdg-open")
	t.Setenv("PATH", rec+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv(BrowserEnv, filepath.Join(t.TempDir(), "chromium")) // not there
	if err := OpenBrowser(l, testURL); err != nil {
		t.Fatal(err)
	}
	args, env := record(t, rec)
	if !slices.Equal(args, []string{testURL}) {
		t.Errorf("xdg-open argv = %q, want only the URL", args)
	}
	if env["TMPDIR"] != l.Temp() {
		t.Errorf("TMPDIR = %q, want %q on the stick", env["TMPDIR"], l.Temp())
	}
}

func TestFindBrowserOrder(t *testing.T) {
	tests := []struct {
		name       string
		onPath     []string // executables on the fake PATH
		notExec    []string // files there that are not executable
		wantName   string   // "" for the system opener
		wantFamily family
	}{
		{name: "chromium before firefox", onPath: []string{"firefox", "chromium"}, wantName: "chromium", wantFamily: familyChromium},
		{name: "chromium family order", onPath: []string{"microsoft-edge", "google-chrome", "brave-browser"}, wantName: "google-chrome", wantFamily: familyChromium},
		{name: "any chromium before firefox", onPath: []string{"librewolf", "microsoft-edge"}, wantName: "microsoft-edge", wantFamily: familyChromium},
		{name: "firefox family", onPath: []string{"librewolf", "firefox-esr"}, wantName: "firefox-esr", wantFamily: familyFirefox},
		{name: "a file that is not executable is no browser", onPath: []string{"librewolf"}, notExec: []string{"chromium"}, wantName: "librewolf", wantFamily: familyFirefox},
		{name: "none: the system opener", onPath: []string{"xdg-open"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if runtime.GOOS == "windows" {
				t.Skip("PATH lookup wants .exe names on Windows")
			}
			dir := t.TempDir()
			for _, n := range tt.onPath {
				fakeBrowser(t, dir, n)
			}
			for _, n := range tt.notExec {
				if err := os.WriteFile(filepath.Join(dir, n), []byte("#!/bin/sh\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			t.Setenv("PATH", dir)
			t.Setenv(BrowserEnv, "")
			b := findBrowser("linux") // no app folders to look in
			if got := filepath.Base(b.path); tt.wantName == "" && b.path != "" || tt.wantName != "" && got != tt.wantName {
				t.Errorf("found %q, want %q", b.path, tt.wantName)
			}
			if b.family != tt.wantFamily {
				t.Errorf("family = %d, want %d", b.family, tt.wantFamily)
			}
		})
	}
}

func TestFindBrowserOverride(t *testing.T) {
	t.Setenv(BrowserEnv, "/opt/custom/Brave Browser")
	t.Setenv("PATH", t.TempDir())
	if b := findBrowser(runtime.GOOS); b.path != "/opt/custom/Brave Browser" || b.family != familyChromium {
		t.Errorf("findBrowser = %+v, want the override as a Chromium", b)
	}
}

func TestGuessFamily(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path string
		want family
	}{
		{"/usr/bin/chromium", familyChromium},
		{"/usr/bin/google-chrome-stable", familyChromium},
		{"/Applications/Google Chrome.app/Contents/MacOS/Google Chrome", familyChromium},
		{`C:\Program Files\BraveSoftware\Brave-Browser\Application\brave.exe`, familyChromium},
		{`C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe`, familyChromium},
		{"/usr/bin/firefox-esr", familyFirefox},
		{"/Applications/LibreWolf.app/Contents/MacOS/librewolf", familyFirefox},
		{`C:\Program Files\Mozilla Firefox\firefox.exe`, familyFirefox},
		{"/usr/bin/epiphany", familyOther},
	}
	for _, tt := range tests {
		// filepath.Base splits on / only off Windows; the Windows paths are
		// still recognised, since the whole string is searched then.
		if got := guessFamily(tt.path); got != tt.want {
			t.Errorf("guessFamily(%q) = %d, want %d", tt.path, got, tt.want)
		}
	}
}

func TestAppPaths(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"ProgramFiles": `C:\Program Files`,
		"LocalAppData": `C:\Users\p\AppData\Local`,
	}
	tests := []struct {
		goos    string
		family  family
		want    []string // among the paths, in this order
		notWant string   // a path fragment that must not appear
	}{
		{"darwin", familyChromium, []string{
			"/Applications/Chromium.app/Contents/MacOS/Chromium",
			"/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
			"/Applications/Brave Browser.app/Contents/MacOS/Brave Browser",
			"/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
		}, "firefox"},
		{"darwin", familyFirefox, []string{
			"/Applications/Firefox.app/Contents/MacOS/firefox",
			"/Applications/LibreWolf.app/Contents/MacOS/librewolf",
		}, "Chrome"},
		{"windows", familyChromium, []string{
			`C:\Program Files\Google\Chrome\Application\chrome.exe`,
			`C:\Users\p\AppData\Local\Google\Chrome\Application\chrome.exe`,
			`C:\Users\p\AppData\Local\BraveSoftware\Brave-Browser\Application\brave.exe`,
			`C:\Program Files\Microsoft\Edge\Application\msedge.exe`,
		}, "(x86)"}, // unset: not looked in
		{"windows", familyFirefox, []string{
			`C:\Program Files\Mozilla Firefox\firefox.exe`,
			`C:\Program Files\LibreWolf\librewolf.exe`,
		}, "chrome"},
	}
	for _, tt := range tests {
		got := appPaths(tt.goos, tt.family, func(k string) string { return env[k] })
		last := -1
		for _, w := range tt.want {
			i := slices.Index(got, w)
			if i < 0 || i < last {
				t.Errorf("%s/%d: %q missing or out of order in %q", tt.goos, tt.family, w, got)
			}
			last = i
		}
		for _, p := range got {
			if strings.Contains(p, tt.notWant) {
				t.Errorf("%s/%d: unexpected %q", tt.goos, tt.family, p)
			}
		}
	}
	if got := appPaths("linux", familyChromium, os.Getenv); got != nil {
		t.Errorf("linux app paths = %q, want none (PATH only)", got)
	}
}
