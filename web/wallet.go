package web

import (
	"net/http"

	"github.com/borgios/borghui/conduit"
)

// walletRoutes registers the Wallet section.
func (s *Server) walletRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /wallet", s.walletPage)
}

func (s *Server) walletPage(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.sessionOr(w, r, "Wallet", "wallet"); !ok {
		return
	}
	s.render(w, r, messagePage(s.appPage("Wallet", "wallet"), "Wallet", "Coming in this change.", "", ""))
}

// walletAPI is what the Wallet section uses of a session.
type walletAPI interface{}

// walletOf adapts an open session.
func walletOf(sess *conduit.Session) walletAPI { return sess }
