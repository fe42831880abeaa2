package web

import (
	"net/http"
	"strings"
)

// csp allows our own scripts, styles and images only, the websocket back to
// us, and nothing inline: no script, no eval, no framing, no foreign forms.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// withHeaders sets the security headers on every response, errors included.
func withHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("Cache-Control", "no-store")
		h.Set("Pragma", "no-cache")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// withHostCheck refuses any Host but our own address: a page on another
// name that resolves to 127.0.0.1 (DNS rebinding) gets 403.
func withHostCheck(allowed []string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, h := range allowed {
			if strings.EqualFold(r.Host, h) {
				next.ServeHTTP(w, r)
				return
			}
		}
		http.Error(w, "Host check failed: open BorgHUI at the address it printed.", http.StatusForbidden)
	})
}

// withCrossOriginProtection refuses cross-site state-changing requests.
func withCrossOriginProtection(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "Cross-site request refused.", http.StatusForbidden)
	}))
	return cop.Handler(next)
}

// withSession lets through requests with a live session, plus the launch
// exchange and static assets.
func (s *Server) withSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/launch" || r.URL.Path == "/handoff" || strings.HasPrefix(r.URL.Path, "/assets/") || s.sessions.valid(r) {
			next.ServeHTTP(w, r)
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
		_ = messagePage(page{Title: "Not signed in"}, "Open BorgHUI from its link",
			"This browser has no BorgHUI session. Use the link BorgHUI opened or printed when it started; each link works once.", "", "").Render(r.Context(), w)
	})
}
