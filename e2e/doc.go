// Package e2e holds the end-to-end tests of BorgHUI Conduit: they build the
// real borghui binary, run it as a separate process on loopback and drive it
// with headless Chromium (chromedp), as a person would. Screenshots of every
// page land in artifacts/e2e/ at the module root.
//
// Chromium is found on PATH (Debian's chromium package). Without it the tests
// skip, unless BORGHUI_REQUIRE_BROWSER=1 (set by `make test`), when they fail.
package e2e
