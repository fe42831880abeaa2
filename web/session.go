package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"sync"
)

// sessions holds one-time launch tokens and the session ids they became.
// Both are 256-bit random values kept only in memory.
type sessions struct {
	cookie string // cookie name; includes the port, since cookies ignore ports

	mu       sync.Mutex
	launch   map[string]bool // token -> unused
	sessions map[string]struct{}
}

func newSessions(port int) *sessions {
	return &sessions{
		cookie:   "borghui_" + itoa(port),
		launch:   make(map[string]bool),
		sessions: make(map[string]struct{}),
	}
}

func randomToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("web: no system randomness: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}

// newLaunchToken mints a one-time token for a launch URL.
func (s *sessions) newLaunchToken() string {
	t := randomToken()
	s.mu.Lock()
	s.launch[t] = true
	s.mu.Unlock()
	return t
}

// exchange consumes a launch token and returns a new session id. A token
// works once; a reused or unknown one yields "".
func (s *sessions) exchange(token string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for t, unused := range s.launch {
		if unused && len(t) == len(token) && subtle.ConstantTimeCompare([]byte(t), []byte(token)) == 1 {
			s.launch[t] = false // remembered as used, so a replay is told apart from garbage
			id := randomToken()
			s.sessions[id] = struct{}{}
			return id
		}
	}
	return ""
}

// valid reports whether r carries a live session cookie.
func (s *sessions) valid(r *http.Request) bool {
	c, err := r.Cookie(s.cookie)
	if err != nil || len(c.Value) != 64 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.sessions[c.Value]
	return ok
}

func (s *sessions) setCookie(w http.ResponseWriter, id string) {
	http.SetCookie(w, &http.Cookie{
		Name:     s.cookie,
		Value:    id,
		Path:     "/",
		HttpOnly: true,
		SameSite: http.SameSiteStrictMode,
	})
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
