package web

import (
	"net/http"

	"github.com/borgios/borghui/conduit"
)

// mailRoutes registers the Mail section.
func (s *Server) mailRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /mail", s.mailPage)
}

func (s *Server) mailPage(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.sessionOr(w, r, "Mail", "mail"); !ok {
		return
	}
	s.render(w, r, messagePage(s.appPage("Mail", "mail"), "Mail", "Coming in this change.", "", ""))
}

// mailAPI is what the Mail section uses of a session.
type mailAPI interface{}

// mailOf adapts an open session.
func mailOf(sess *conduit.Session) mailAPI { return sess }
