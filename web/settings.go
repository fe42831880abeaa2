package web

import "net/http"

// settingsRoutes registers the Settings section.
func (s *Server) settingsRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /settings", s.settingsPage)
}

func (s *Server) settingsPage(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.sessionOr(w, r, "Settings", "settings"); !ok {
		return
	}
	s.render(w, r, messagePage(s.appPage("Settings", "settings"), "Settings", "Coming in this change.", "", ""))
}
