package web

import "net/http"

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
