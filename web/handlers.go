package web

import (
	"errors"
	"net/http"

	"github.com/a-h/templ"

	"github.com/borgios/borghui/conduit"
)

// launch exchanges a one-time token for a session cookie and redirects to a
// clean URL, so the token is in neither the history nor a Referer.
func (s *Server) launch(w http.ResponseWriter, r *http.Request) {
	id := s.sessions.exchange(r.URL.Query().Get("token"))
	if id == "" {
		s.log.Warn("launch token refused", "remote", r.RemoteAddr)
		w.WriteHeader(http.StatusForbidden)
		s.render(w, r, messagePage(page{Title: "Link already used"}, "This link was already used",
			"Each BorgHUI link opens one session, once. Use the browser window that is already open, or restart BorgHUI for a new link.", "", ""))
		return
	}
	s.sessions.setCookie(w, id)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) page(title string) page {
	st, err := s.opts.Conduit.State()
	if err != nil {
		s.log.Warn("reading identity state", "err", err)
	}
	return page{Title: title, State: st.String(), Warning: s.opts.Warning}
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, c templ.Component) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := c.Render(r.Context(), w); err != nil {
		s.log.Warn("rendering page", "path", r.URL.Path, "err", err)
	}
}

// renderStatus renders c with an HTTP status; 422 for a form to correct.
func (s *Server) renderStatus(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := c.Render(r.Context(), w); err != nil {
		s.log.Warn("rendering page", "path", r.URL.Path, "err", err)
	}
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	st, err := s.opts.Conduit.State()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	switch st {
	case conduit.NoIdentity:
		s.render(w, r, welcomePage(s.page("Welcome")))
	case conduit.Locked:
		s.renderUnlock(w, r, http.StatusOK, "")
	default:
		info, err := s.opts.Conduit.Identity()
		if err != nil {
			s.fail(w, r, err)
			return
		}
		notice := ""
		if r.URL.Query().Get("done") == "created" {
			notice = "Your identity is ready. Keep your 24 words safe: they are the only way back."
		}
		s.render(w, r, homePage(s.page("Your identity"), info, notice))
	}
}

func (s *Server) renderUnlock(w http.ResponseWriter, r *http.Request, status int, msg string) {
	info, err := s.opts.Conduit.LockedIdentity()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderStatus(w, r, status, unlockPage(s.page("Unlock"), info.MUID, msg, true))
}

func (s *Server) identityExists() bool {
	st, err := s.opts.Conduit.State()
	return err == nil && st != conduit.NoIdentity
}

func (s *Server) createBegin(w http.ResponseWriter, r *http.Request) {
	if _, err := s.opts.Conduit.BeginCreate(); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/create/words", http.StatusSeeOther)
}

func (s *Server) createWords(w http.ResponseWriter, r *http.Request) {
	words, err := s.opts.Conduit.DraftWords()
	if err != nil {
		if errors.Is(err, conduit.ErrWordsShown) || errors.Is(err, conduit.ErrNoDraft) {
			s.render(w, r, messagePage(s.page("Words shown once"), "The words were shown once", conduit.UserMessage(err), "/", "Back to the start"))
			return
		}
		s.fail(w, r, err)
		return
	}
	s.render(w, r, createWordsPage(s.page("Your words"), words))
}

func (s *Server) createQuiz(w http.ResponseWriter, r *http.Request) {
	pos, err := s.opts.Conduit.DraftQuiz()
	if err != nil {
		s.restart(w, r, err)
		return
	}
	s.render(w, r, quizPage(s.page("Check your words"), pos, ""))
}

func (s *Server) createQuizCheck(w http.ResponseWriter, r *http.Request) {
	f, err := readForm(w, r)
	defer f.wipe()
	if err != nil {
		s.badForm(w, r, err)
		return
	}
	pos, err := s.opts.Conduit.DraftQuiz()
	if err != nil {
		s.restart(w, r, err)
		return
	}
	if err := s.opts.Conduit.CheckQuiz(f.all("answer")); err != nil {
		s.renderStatus(w, r, http.StatusUnprocessableEntity, quizPage(s.page("Check your words"), pos, conduit.UserMessage(err)))
		return
	}
	http.Redirect(w, r, "/create/passphrase", http.StatusSeeOther)
}

func (s *Server) createPassphrase(w http.ResponseWriter, r *http.Request) {
	if _, err := s.opts.Conduit.DraftQuiz(); err != nil {
		s.restart(w, r, err)
		return
	}
	s.render(w, r, createPassphrasePage(s.page("Choose a passphrase"), "", s.identityExists()))
}

func (s *Server) createFinish(w http.ResponseWriter, r *http.Request) {
	f, err := readForm(w, r)
	defer f.wipe()
	if err != nil {
		s.badForm(w, r, err)
		return
	}
	err = s.opts.Conduit.FinishCreate(f.get("passphrase"), f.get("confirm"), f.get("bip39"), f.has("replace"))
	switch {
	case err == nil:
		http.Redirect(w, r, "/?done=created", http.StatusSeeOther)
	case errors.Is(err, conduit.ErrNoDraft), errors.Is(err, conduit.ErrQuizNotPassed):
		s.restart(w, r, err)
	default:
		s.log.Info("create refused", "reason", conduit.UserMessage(err))
		s.renderStatus(w, r, http.StatusUnprocessableEntity, createPassphrasePage(s.page("Choose a passphrase"), conduit.UserMessage(err), s.identityExists()))
	}
}

func (s *Server) restoreForm(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.render(w, r, s.restorePage(kind, ""))
	}
}

func (s *Server) restorePage(kind, msg string) templ.Component {
	p, exists := s.page("Restore"), s.identityExists()
	switch kind {
	case "legacy":
		return restoreLegacyPage(p, msg, exists)
	case "file":
		return restoreFilePage(p, msg, exists)
	}
	return restoreWordsPage(p, msg, exists)
}

// restoreDone answers a restore attempt: home on success, the same form
// with the person's message otherwise.
func (s *Server) restoreDone(w http.ResponseWriter, r *http.Request, kind string, err error) {
	if err == nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	s.log.Info("restore refused", "kind", kind, "reason", conduit.UserMessage(err))
	s.renderStatus(w, r, http.StatusUnprocessableEntity, s.restorePage(kind, conduit.UserMessage(err)))
}

func (s *Server) restoreWords(w http.ResponseWriter, r *http.Request) {
	f, err := readForm(w, r)
	defer f.wipe()
	if err != nil {
		s.badForm(w, r, err)
		return
	}
	words := joinWords(f.all("word"))
	defer clear(words)
	err = s.opts.Conduit.RestoreWords(words, f.get("bip39"), f.get("passphrase"), f.get("confirm"), f.has("replace"))
	s.restoreDone(w, r, "words", err)
}

func (s *Server) restoreLegacy(w http.ResponseWriter, r *http.Request) {
	f, err := readForm(w, r)
	defer f.wipe()
	if err != nil {
		s.badForm(w, r, err)
		return
	}
	err = s.opts.Conduit.RestoreLegacyPhrase(f.get("phrase"), f.get("passphrase"), f.get("confirm"), f.has("replace"))
	s.restoreDone(w, r, "legacy", err)
}

func (s *Server) restoreFile(w http.ResponseWriter, r *http.Request) {
	f, err := readForm(w, r)
	defer f.wipe()
	if err != nil {
		s.badForm(w, r, err)
		return
	}
	err = s.opts.Conduit.RestoreLegacyFile(f.get("file"), f.get("filepass"), f.get("passphrase"), f.get("confirm"), f.has("replace"))
	s.restoreDone(w, r, "file", err)
}

func (s *Server) unlock(w http.ResponseWriter, r *http.Request) {
	f, err := readForm(w, r)
	defer f.wipe()
	if err != nil {
		s.badForm(w, r, err)
		return
	}
	if err := s.opts.Conduit.Unlock(f.get("passphrase")); err != nil {
		if errors.Is(err, conduit.ErrNoIdentity) {
			http.Redirect(w, r, "/", http.StatusSeeOther)
			return
		}
		s.renderUnlock(w, r, http.StatusUnprocessableEntity, conduit.UserMessage(err))
		return
	}
	if f.has("remember") {
		if err := s.opts.Conduit.Remember(f.get("passphrase")); err != nil {
			s.log.Info("remember refused", "reason", conduit.UserMessage(err))
			info, _ := s.opts.Conduit.Identity()
			s.render(w, r, homePage(s.page("Your identity"), info, "Unlocked. "+conduit.UserMessage(err)))
			return
		}
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) lock(w http.ResponseWriter, r *http.Request) {
	s.opts.Conduit.Lock()
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.renderStatus(w, r, http.StatusNotFound, messagePage(s.page("Not found"), "Nothing here", "That page does not exist.", "/", "Go to the start"))
}

// restart sends the person back to the start of the create flow.
func (s *Server) restart(w http.ResponseWriter, r *http.Request, err error) {
	s.renderStatus(w, r, http.StatusConflict, messagePage(s.page("Start again"), "Start again", conduit.UserMessage(err), "/", "Back to the start"))
}

func (s *Server) badForm(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := http.StatusBadRequest, "The form could not be read. Reload the page and try again."
	if errors.Is(err, errTooLarge) {
		status, msg = http.StatusRequestEntityTooLarge, "That was too large. A wallet file is a few kilobytes; check that you chose the right file."
	}
	s.log.Info("form refused", "path", r.URL.Path, "err", err)
	s.renderStatus(w, r, status, messagePage(s.page("Form refused"), "That did not work", msg, "/", "Back to the start"))
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("request failed", "path", r.URL.Path, "err", err)
	s.renderStatus(w, r, http.StatusInternalServerError, messagePage(s.page("Error"), "Something went wrong", conduit.UserMessage(err), "/", "Back to the start"))
}
