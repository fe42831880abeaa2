package web

import (
	"net/http"

	"github.com/borgios/borghui/conduit"
)

// networkRoutes registers the Network section.
func (s *Server) networkRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /network", s.networkPage)
}

func (s *Server) networkPage(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.sessionOr(w, r, "Network", "network"); !ok {
		return
	}
	s.render(w, r, messagePage(s.appPage("Network", "network"), "Network", "Coming in this change.", "", ""))
}

// networkAPI is what the Network section uses of a session.
type networkAPI interface{}

// networkOf adapts an open session.
func networkOf(sess *conduit.Session) networkAPI { return sess }
