// Package assets embeds everything the browser UI loads: htmx, the style
// sheet and the few lines of our own JavaScript. Nothing comes from a CDN, so
// the UI works offline and the strict Content-Security-Policy holds.
//
// Vendored: vendor/htmx-2.0.11.min.js is htmx.org 2.0.11 from the npm
// registry (BSD Zero Clause licence, vendor/htmx.LICENSE), SHA-256
// d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717,
// checked by TestVendoredHTMX. We stay on the 2.x line.
package assets
