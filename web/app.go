package web

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/borgios/borghui/conduit"
)

// Limits of the app's small forms (not uploads).
const maxSmallForm = 256 << 10

// appPage is the page of one section of the unlocked app.
func (s *Server) appPage(title, nav string) page {
	p := s.page(title)
	p.Nav = nav
	return p
}

// services are what the section pages use of an open session. Each
// section declares the narrow interface it needs (filesAPI in files.go,
// and so on) and how *conduit.Session provides it; tests hand the Server
// fakes through Server.services.
type services struct {
	files   filesAPI
	mail    mailAPI
	wallet  walletAPI
	network networkAPI
}

// sessionServices adapts an open conduit session.
func sessionServices(sess *conduit.Session) *services {
	return &services{files: filesOf(sess), mail: mailOf(sess), wallet: walletOf(sess), network: networkOf(sess)}
}

// openServices returns the services of the open session (or the test's).
func (s *Server) openServices() (*services, error) {
	if s.services != nil {
		return s.services()
	}
	sess, err := s.opts.Conduit.Session()
	if err != nil {
		return nil, err
	}
	return sessionServices(sess), nil
}

// sessionOr returns the open session's services, or answers the request
// itself: locked or no identity sends the browser to the start; while the
// session opens (or the network is out of reach) a page says so and
// reloads itself when the connection comes up.
func (s *Server) sessionOr(w http.ResponseWriter, r *http.Request, title, nav string) (*services, bool) {
	sv, err := s.openServices()
	switch {
	case err == nil:
		return sv, true
	case errors.Is(err, conduit.ErrLocked):
		if r.Header.Get("HX-Request") == "true" {
			w.Header().Set("HX-Redirect", "/")
			w.WriteHeader(http.StatusNoContent)
			return nil, false
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return nil, false
	}
	st := s.opts.Conduit.NetworkStatus()
	if r.Header.Get("HX-Request") == "true" {
		s.fragmentError(w, r, http.StatusServiceUnavailable, "Not connected to the network yet. "+st.Reason)
		return nil, false
	}
	s.renderStatus(w, r, http.StatusServiceUnavailable, connectingPage(s.appPage(title, nav), st))
	return nil, false
}

// fragmentError answers an htmx request with an error box (status 422 is
// swapped into the form's result area; see htmxConfig) and a plain request
// with a full page.
func (s *Server) fragmentError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if r.Header.Get("HX-Request") == "true" {
		w.Header().Set("HX-Reswap", "innerHTML")
		s.renderStatus(w, r, http.StatusUnprocessableEntity, errorBox(msg))
		return
	}
	s.renderStatus(w, r, status, messagePage(s.page("That did not work"), "That did not work", msg, "", ""))
}

// opFailed reports a failed action on the network: the person's sentence,
// the detail to the log.
func (s *Server) opFailed(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Warn("action failed", "path", r.URL.Path, "err", err)
	s.fragmentError(w, r, http.StatusBadGateway, conduit.UserMessage(err))
}

// smallForm parses a form of plain (non-secret) fields, at most
// maxSmallForm bytes.
func smallForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxSmallForm)
	if err := r.ParseForm(); err != nil {
		return nil, err
	}
	return r.PostForm, nil
}

// isHTMX reports whether r came from htmx (a fragment is wanted).
func isHTMX(r *http.Request) bool { return r.Header.Get("HX-Request") == "true" }

// goTo sends the browser on after an action: htmx follows HX-Location
// (the form's result area stays for errors), a plain form a 303.
func goTo(w http.ResponseWriter, r *http.Request, to string) {
	if isHTMX(r) {
		w.Header().Set("HX-Location", to)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}
