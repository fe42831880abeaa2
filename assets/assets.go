package assets

import "embed"

// FS holds the static files, served under /assets/.
//
//go:embed *.css app.js vendor/htmx-2.0.11.min.js
var FS embed.FS

// HTMX is the path of the vendored htmx under FS.
const HTMX = "vendor/htmx-2.0.11.min.js"
