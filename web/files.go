package web

import (
	"net/http"

	"github.com/borgios/borghui/conduit"
)

// filesRoutes registers the Files section.
func (s *Server) filesRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /files", s.filesPage)
}

func (s *Server) filesPage(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.sessionOr(w, r, "Files", "files"); !ok {
		return
	}
	s.render(w, r, messagePage(s.appPage("Files", "files"), "Files", "Coming in this change.", "", ""))
}

// filesAPI is what the Files section uses of a session.
type filesAPI interface{}

// filesOf adapts an open session.
func filesOf(sess *conduit.Session) filesAPI { return sess }
