package web

import (
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/borgios/borghui/conduit"
)

// HomeControl is home mode as the Settings page drives it: the program
// that can run a node implements it (Options.Home). Allowing and stopping
// take effect at once.
type HomeControl interface {
	// Home reports this computer's choice and its node's state.
	Home() HomeState
	// Allow records that this computer runs a node keeping up to
	// quotaBytes in folder, and starts it. Refusals wrap conduit's
	// ErrHomeFolder, ErrHomeQuota or ErrHomeDamaged (conduit.HomeMessage).
	Allow(folder string, quotaBytes int64) (HomeState, error)
	// Disallow stops the node and removes this computer from the list.
	Disallow() (HomeState, error)
	// Free reports the bytes free where folder is or would be made,
	// writing nothing.
	Free(folder string) (int64, error)
}

// HomeState is this computer's home mode.
type HomeState struct {
	// Allowed: the person allowed home mode here; Choice says how.
	Allowed bool
	Choice  conduit.HomeChoice
	// Running: the node runs.
	Running bool
	// Note is the node's state for the person (starting, why it does not
	// run, when it will start); "" when there is nothing to say.
	Note string
	// Suggest is the folder offered when home mode is not allowed.
	Suggest string
}

// homeView is what the "This computer" card shows.
type homeView struct {
	Available bool   // Options.Home is set
	Mode      string // the conduit's network mode
	State     HomeState
	Folder    string // the form's folder
	Quota     string // the form's quota, in GB
	Free      string // free space where Folder is, for a person
	FreeErr   string // why it is not known
}

// defaultQuotaGB is the quota offered, when that much is free.
const defaultQuotaGB = 10

// maxQuotaGB bounds the quota field (beyond any disk, within int64).
const maxQuotaGB = 1 << 30

// settingsHomeRoutes registers the Settings section "This computer".
//
//	GET  /settings/home       the card (refreshes itself on network events)
//	GET  /settings/home/free  the free space where ?folder= is
//	POST /settings/home       action=allow (folder, quota in GB) or action=stop
func (s *Server) settingsHomeRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /settings/home", s.settingsHome)
	mux.HandleFunc("GET /settings/home/free", s.settingsHomeFree)
	mux.HandleFunc("POST /settings/home", s.settingsHomePost)
}

// homeView gathers the card; folder and quota are the form's values ("":
// the suggestion).
func (s *Server) homeView(folder, quota string) homeView {
	v := homeView{Mode: s.opts.Conduit.NetworkStatus().Mode, Folder: folder, Quota: quota}
	hc := s.opts.Home
	if hc == nil {
		return v
	}
	v.Available, v.State = true, hc.Home()
	if v.State.Allowed {
		return v
	}
	if v.Folder == "" {
		v.Folder = v.State.Suggest
	}
	if v.Folder != "" {
		free, err := hc.Free(v.Folder)
		if err != nil {
			v.FreeErr = conduit.HomeMessage(err)
		} else {
			v.Free = gbText(free)
			if v.Quota == "" {
				v.Quota = strconv.FormatInt(min(defaultQuotaGB, max(free>>30, 1)), 10)
			}
		}
	}
	if v.Quota == "" {
		v.Quota = strconv.Itoa(defaultQuotaGB)
	}
	return v
}

func (s *Server) settingsHome(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.unlockedOr(w, r); !ok {
		return
	}
	if !wantsPart(r) {
		http.Redirect(w, r, "/settings", http.StatusSeeOther)
		return
	}
	s.render(w, r, settingsHomeCard(s.homeView("", ""), "", ""))
}

func (s *Server) settingsHomeFree(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.unlockedOr(w, r); !ok {
		return
	}
	if !wantsPart(r) {
		http.Redirect(w, r, "/settings", http.StatusSeeOther)
		return
	}
	folder := strings.TrimSpace(r.URL.Query().Get("folder"))
	if s.opts.Home == nil || folder == "" {
		s.render(w, r, settingsHomeFree("", ""))
		return
	}
	free, err := s.opts.Home.Free(folder)
	if err != nil {
		s.render(w, r, settingsHomeFree("", conduit.HomeMessage(err)))
		return
	}
	s.render(w, r, settingsHomeFree(gbText(free), ""))
}

func (s *Server) settingsHomePost(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.unlockedOr(w, r); !ok {
		return
	}
	f, err := smallForm(w, r)
	if err != nil {
		s.badForm(w, r, err)
		return
	}
	hc := s.opts.Home
	if hc == nil {
		s.answerPart(w, r, http.StatusUnprocessableEntity, "This computer", "settings",
			settingsHomeCard(s.homeView("", ""), "", ""))
		return
	}
	folder, quota := strings.TrimSpace(f.Get("folder")), strings.TrimSpace(f.Get("quota"))
	refuse := func(msg string) {
		s.answerPart(w, r, http.StatusUnprocessableEntity, "This computer", "settings", settingsHomeCard(s.homeView(folder, quota), msg, ""))
	}
	switch f.Get("action") {
	case "allow":
		gb, ok := parseGB(quota)
		if !ok {
			refuse("Type the quota as a number of GB, like 20.")
			return
		}
		st, err := hc.Allow(folder, int64(gb*(1<<30)))
		if err != nil {
			s.log.Info("home mode refused", "reason", conduit.HomeMessage(err))
			refuse(conduit.HomeMessage(err))
			return
		}
		done := "Home mode allowed on this computer. The node is starting; it runs whenever BorgHUI runs here."
		if st.Note != "" && !strings.HasPrefix(st.Note, "Starting") {
			done = "Home mode allowed on this computer."
		}
		s.answerPart(w, r, http.StatusOK, "This computer", "settings", settingsHomeCard(s.homeView("", ""), "", done))
	case "stop":
		kept := hc.Home().Choice.Folder
		_, err := hc.Disallow()
		if err != nil {
			s.log.Info("home mode not stopped", "reason", conduit.HomeMessage(err))
			refuse(conduit.HomeMessage(err))
			return
		}
		done := "The node stopped and this computer is off the list. Its data stays in " + kept + " until you delete it."
		if kept == "" {
			done = "The node stopped and this computer is off the list. Its data folder stays until you delete it."
		}
		s.answerPart(w, r, http.StatusOK, "This computer", "settings", settingsHomeCard(s.homeView("", ""), "", done))
	default:
		refuse("Choose to run a node here, or to stop it.")
	}
}

// parseGB reads a quota in GB ("20", "1.5", "1,5").
func parseGB(s string) (float64, bool) {
	gb, err := strconv.ParseFloat(strings.Replace(s, ",", ".", 1), 64)
	if err != nil || math.IsNaN(gb) || gb <= 0 || gb > maxQuotaGB {
		return 0, false
	}
	return gb, true
}

// gbText formats bytes in GB (GiB, as the quota field counts them).
func gbText(n int64) string {
	return strconv.FormatFloat(float64(n)/(1<<30), 'f', 1, 64) + " GB"
}

func boolText(b bool) string { return strconv.FormatBool(b) }
