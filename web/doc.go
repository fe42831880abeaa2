// Package web is the face of BorgHUI Conduit: the HTTP server on 127.0.0.1,
// its security middleware, the templ pages and htmx handlers, and the
// websocket hub for live updates.
//
// # Security
//
// The server binds a loopback address only. Every request passes, in this
// order:
//
//  1. Headers: a strict Content-Security-Policy (scripts and styles only
//     from our own embedded files, no inline script, no eval, no framing),
//     Cache-Control: no-store, Referrer-Policy: no-referrer, nosniff.
//  2. Host allow-list: exactly 127.0.0.1:PORT (the bound address) and
//     localhost:PORT; anything else is 403, which defeats DNS rebinding.
//  3. Cross-origin protection: Go's http.CrossOriginProtection refuses
//     cross-site state-changing requests (Sec-Fetch-Site, else Origin).
//  4. Session: the URL the conduit opens carries a one-time launch token,
//     exchanged at /launch for an HttpOnly, SameSite=Strict, host-only cookie
//     and a redirect to a clean URL; a reused token is refused. Every route
//     but /launch and the static assets needs the session.
//  5. The handler. Bodies are size-limited; secret fields (words,
//     passphrases) are parsed into byte slices that are wiped when the
//     request ends, never into Go strings.
//
// The websocket at /ws upgrades only with a valid session and an Origin that
// is exactly this server's own.
package web
