package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/borgios/borghui/conduit"
	"github.com/borgios/borghui/wallet"
	"github.com/borgios/borghui/wallet/bip39"
)

// settingsRoutes registers the Settings section. It needs an unlocked
// identity but no network.
//
//	GET  /settings             the page
//	POST /settings/passphrase  change the keystore passphrase
//	GET  /settings/reveal      the 24-words card, words hidden
//	POST /settings/reveal      show the 24 words, after the passphrase
//	POST /settings/remember    remember the passphrase on this computer, or forget it
//	POST /settings/quit        confirm, then quit and wipe (Options.Quit)
//	/settings/home…            this computer's home mode (settings_home.go)
func (s *Server) settingsRoutes(mux *http.ServeMux) {
	s.settingsHomeRoutes(mux)
	mux.HandleFunc("GET /settings", s.settingsPage)
	mux.HandleFunc("POST /settings/passphrase", s.settingsPassphrase)
	mux.HandleFunc("GET /settings/reveal", s.settingsRevealForm)
	mux.HandleFunc("POST /settings/reveal", s.settingsReveal)
	mux.HandleFunc("POST /settings/remember", s.settingsRemember)
	mux.HandleFunc("POST /settings/quit", s.settingsQuit)
}

// quitDelay lets the "stopped" page reach the browser before Quit.
const quitDelay = 100 * time.Millisecond

// settingsView is what the Settings page shows.
type settingsView struct {
	Info       conduit.IdentityInfo
	Remembered bool
	Home       homeView
}

// unlockedOr returns the unlocked identity, or sends the browser to the
// start (the unlock page).
func (s *Server) unlockedOr(w http.ResponseWriter, r *http.Request) (conduit.IdentityInfo, bool) {
	info, err := s.opts.Conduit.Identity()
	if err == nil {
		return info, true
	}
	if isHTMX(r) {
		w.Header().Set("HX-Redirect", "/")
		w.WriteHeader(http.StatusNoContent)
	} else {
		http.Redirect(w, r, "/", http.StatusSeeOther)
	}
	return info, false
}

func (s *Server) settingsPage(w http.ResponseWriter, r *http.Request) {
	info, ok := s.unlockedOr(w, r)
	if !ok {
		return
	}
	s.render(w, r, settingsPage(s.appPage("Settings", "settings"), settingsView{Info: info, Remembered: s.opts.Conduit.Remembered(), Home: s.homeView("", "")}))
}

func (s *Server) settingsPassphrase(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.unlockedOr(w, r); !ok {
		return
	}
	f, err := readForm(w, r)
	defer f.wipe()
	if err != nil {
		s.badForm(w, r, err)
		return
	}
	wasRemembered := s.opts.Conduit.Remembered()
	if err := s.opts.Conduit.ChangePassphrase(f.get("old"), f.get("new"), f.get("confirm")); err != nil {
		s.log.Info("passphrase change refused", "reason", conduit.UserMessage(err))
		s.answerPart(w, r, http.StatusUnprocessableEntity, "Change your passphrase", "settings", settingsPassCard(conduit.UserMessage(err), ""))
		return
	}
	done := "Passphrase changed: use the new one from now on. A backup of the old keystore stays on the stick and still opens with the old passphrase; delete the backups folder if the old one was exposed."
	if wasRemembered {
		if s.opts.Conduit.Remembered() {
			done += " The copy remembered on this computer was updated."
		} else {
			done += " This computer's keyring refused the new passphrase, so it is no longer remembered here."
		}
	}
	s.answerPart(w, r, http.StatusOK, "Change your passphrase", "settings", settingsPassCard("", done))
}

func (s *Server) settingsRevealForm(w http.ResponseWriter, r *http.Request) {
	info, ok := s.unlockedOr(w, r)
	if !ok {
		return
	}
	if !wantsPart(r) {
		http.Redirect(w, r, "/settings", http.StatusSeeOther)
		return
	}
	s.render(w, r, settingsRevealCard(info.Kind == wallet.KindLegacy, "", nil))
}

func (s *Server) settingsReveal(w http.ResponseWriter, r *http.Request) {
	info, ok := s.unlockedOr(w, r)
	if !ok {
		return
	}
	f, err := readForm(w, r)
	defer f.wipe()
	if err != nil {
		s.badForm(w, r, err)
		return
	}
	legacy := info.Kind == wallet.KindLegacy
	words, err := s.opts.Conduit.RevealWords(f.get("passphrase"))
	defer clear(words)
	var list []string
	if err == nil {
		list, err = listedWords(words)
	}
	if err != nil {
		s.log.Info("words not shown", "reason", conduit.UserMessage(err))
		s.answerPart(w, r, http.StatusUnprocessableEntity, "Your 24 words", "settings", settingsRevealCard(legacy, conduit.UserMessage(err), nil))
		return
	}
	s.answerPart(w, r, http.StatusOK, "Your 24 words", "settings", settingsRevealCard(legacy, "", list))
}

// listedWords maps words to the entries of the static BIP39 list, so the
// page renders no string copy of the secret.
func listedWords(words []byte) ([]string, error) {
	indices, err := bip39.ParseWords(words, bip39.Words24)
	if err != nil {
		return nil, err
	}
	defer clear(indices)
	out := make([]string, len(indices))
	for i, ix := range indices {
		out[i] = bip39.Word(int(ix))
	}
	return out, nil
}

func (s *Server) settingsRemember(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.unlockedOr(w, r); !ok {
		return
	}
	f, err := readForm(w, r)
	defer f.wipe()
	if err != nil {
		s.badForm(w, r, err)
		return
	}
	var done string
	switch string(f.get("remember")) {
	case "on":
		err = s.opts.Conduit.Remember(f.get("passphrase"))
		done = "Remembered on this computer: BorgHUI unlocks by itself when you start it here."
	case "off":
		err = s.opts.Conduit.Forget()
		done = "Forgotten: this computer's keyring no longer holds your passphrase."
	default:
		s.badForm(w, r, errors.New("web: remember: neither on nor off"))
		return
	}
	on := s.opts.Conduit.Remembered()
	if err != nil {
		s.log.Info("remember setting refused", "reason", conduit.UserMessage(err))
		s.answerPart(w, r, http.StatusUnprocessableEntity, "Remember on this computer", "settings", settingsRememberCard(on, conduit.UserMessage(err), ""))
		return
	}
	s.answerPart(w, r, http.StatusOK, "Remember on this computer", "settings", settingsRememberCard(on, "", done))
}

// settingsQuit asks for a confirmation, then shows that BorgHUI stopped
// and calls Options.Quit once the page is on its way.
func (s *Server) settingsQuit(w http.ResponseWriter, r *http.Request) {
	f, err := smallForm(w, r)
	if err != nil {
		s.badForm(w, r, err)
		return
	}
	if f.Get("confirm") != "yes" {
		s.render(w, r, settingsQuitConfirm(s.appPage("Quit BorgHUI?", "settings")))
		return
	}
	quit := s.opts.Quit
	if quit == nil {
		s.renderStatus(w, r, http.StatusNotImplemented, messagePage(s.appPage("Quit not available", "settings"), "Quit is not available here",
			"This BorgHUI was not started in a way that lets the page stop it. Lock it, then stop it where it was started (close its window, or press Ctrl+C there).", "/settings", "Back to Settings"))
		return
	}
	s.log.Info("quit and wipe at the person's request")
	s.render(w, r, settingsStopped(page{Title: "BorgHUI stopped"}))
	if fl, ok := w.(http.Flusher); ok {
		fl.Flush()
	}
	go func() {
		time.Sleep(quitDelay)
		quit()
	}()
}
