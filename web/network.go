package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/borgios/borghui/cells/crono"
	"github.com/borgios/borghui/cells/ftree"
	"github.com/borgios/borghui/cells/ledger"
	"github.com/borgios/borghui/cells/mail"
	"github.com/borgios/borghui/cells/shard"
	"github.com/borgios/borghui/conduit"
	"github.com/borgios/borghui/failover"
)

// networkRoutes registers the Network section.
//
//	GET /network         the page: mode, connection, this node, clock, endpoints
//	GET /network/status  the same as a fragment (refreshed on borg:network)
func (s *Server) networkRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /network", s.networkPage)
	mux.HandleFunc("GET /network/status", s.networkPart)
	mux.HandleFunc("POST /network/join", s.networkJoin)
}

// networkJoin takes the address of a node of a network to join (from the
// solo network): refused with the reason, or saved and tried at once.
func (s *Server) networkJoin(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.unlockedOr(w, r); !ok {
		return
	}
	f, err := smallForm(w, r)
	if err != nil {
		s.badForm(w, r, err)
		return
	}
	addr := strings.TrimSpace(f.Get("addr"))
	ctx, cancel := context.WithTimeout(r.Context(), 20*time.Second)
	defer cancel()
	if err := s.opts.Conduit.JoinNetwork(ctx, addr); err != nil {
		s.log.Info("network not joined", "addr", addr, "err", err)
		v, ok := s.networkView(w, r)
		if !ok {
			return
		}
		if wantsPart(r) {
			s.renderStatus(w, r, http.StatusUnprocessableEntity, networkJoin(addr, conduit.UserMessage(err)))
			return
		}
		v.JoinAddr, v.JoinErr = addr, conduit.UserMessage(err)
		s.renderNetworkPage(w, r, http.StatusUnprocessableEntity, v)
		return
	}
	goTo(w, r, "/network")
}

// networkAPI is what the Network section uses of a session.
type networkAPI interface {
	// Health lists each cell's endpoints, best first.
	Health() map[string][]failover.Health
	// Clock is the network clock's last sync and whether one succeeded.
	Clock() (crono.ClockStatus, bool)
}

// networkOf adapts an open session.
func networkOf(sess *conduit.Session) networkAPI { return sessionNetwork{sess} }

type sessionNetwork struct{ s *conduit.Session }

func (n sessionNetwork) Health() map[string][]failover.Health { return n.s.Health() }

func (n sessionNetwork) Clock() (crono.ClockStatus, bool) {
	if n.s.Clock == nil {
		return crono.ClockStatus{}, false
	}
	return n.s.Clock.Status(), n.s.Clock.Synced()
}

// networkView is what the Network page shows.
type networkView struct {
	Status    conduit.NetStatus
	Node      *NodeInfo // nil: guest mode, no node here
	Connected bool      // a session is open: endpoints and clock are known
	Cells     []cellHealth
	Clock     crono.ClockStatus
	Synced    bool
	JoinAddr  string // the join form's address, kept when refused
	JoinErr   string // why it was refused
}

// cellHealth is one cell type's endpoints.
type cellHealth struct {
	Cell  string // cell type name, e.g. peerPaysCell
	Label string // for a person, e.g. ledger
	Rows  []failover.Health
}

// networkView checks that the identity is unlocked (else it answers the
// request itself) and gathers the page.
func (s *Server) networkView(w http.ResponseWriter, r *http.Request) (networkView, bool) {
	var v networkView
	sv, err := s.openServices()
	if errors.Is(err, conduit.ErrLocked) {
		if isHTMX(r) {
			w.Header().Set("HX-Redirect", "/")
			w.WriteHeader(http.StatusNoContent)
		} else {
			http.Redirect(w, r, "/", http.StatusSeeOther)
		}
		return v, false
	}
	v.Status = s.opts.Conduit.NetworkStatus()
	if s.opts.Node != nil {
		v.Node = s.opts.Node()
	}
	if err == nil && sv != nil && sv.network != nil {
		v.Connected = true
		health := sv.network.Health()
		cells := make([]string, 0, len(health))
		for c := range health {
			cells = append(cells, c)
		}
		sort.Strings(cells)
		for _, c := range cells {
			v.Cells = append(v.Cells, cellHealth{Cell: c, Label: cellLabel(c), Rows: health[c]})
		}
		v.Clock, v.Synced = sv.network.Clock()
	}
	return v, true
}

func (s *Server) networkPage(w http.ResponseWriter, r *http.Request) {
	v, ok := s.networkView(w, r)
	if !ok {
		return
	}
	s.renderNetworkPage(w, r, http.StatusOK, v)
}

// renderNetworkPage answers with the whole Network page.
func (s *Server) renderNetworkPage(w http.ResponseWriter, r *http.Request, status int, v networkView) {
	p := s.appPage("Network", "network")
	p.Wide = true
	s.renderStatus(w, r, status, networkPage(p, v))
}

func (s *Server) networkPart(w http.ResponseWriter, r *http.Request) {
	v, ok := s.networkView(w, r)
	if !ok {
		return
	}
	s.answerPart(w, r, http.StatusOK, "Network", "network", networkLive(v))
}

// cellLabel names a cell type for a person.
func cellLabel(cell string) string {
	switch cell {
	case ledger.CellName:
		return "ledger"
	case shard.CellName:
		return "storage"
	case ftree.CellName:
		return "file lists"
	case mail.CellName:
		return "mail"
	case crono.CellName:
		return "network time"
	}
	return cell
}

// modeText says what a mode means, in one sentence.
func modeText(mode string) (name, text string) {
	switch mode {
	case "guest":
		return "Guest", "This computer only uses the network: it runs no node and stores nothing for others, and nothing stays behind when you leave."
	case "home":
		return "Home", "This computer also runs a full node: it keeps a share of the network's data in the folder you chose, within your quota, and earns storage rewards."
	case "solo":
		return "Solo", "No network was reachable, so this computer runs a whole network of one node by itself. Once a network answers, BorgHUI joins it and moves what you stored here to it."
	case "":
		return "None", "No network is configured: BorgHUI works offline."
	}
	return mode, "A mode this version does not describe."
}

// stateText says where the connection stands.
func stateText(state string) string {
	switch state {
	case conduit.NetConnected:
		return "Connected"
	case conduit.NetConnecting:
		return "Connecting…"
	}
	return "Not connected"
}

// netWhen formats a moment of the page for a person.
func netWhen(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

// netShort cuts a node ID (hex) for a table.
func netShort(id string) string {
	if id == "" {
		return "—"
	}
	if len(id) > 12 {
		return id[:12] + "…"
	}
	return id
}

// switchText is one failover for a person.
func switchText(sw conduit.Switch) string {
	why := sw.Why
	if why == "" {
		why = "it failed"
	}
	return fmt.Sprintf("%s: switched from %s to %s because %s", cellLabel(sw.Cell), sw.From, sw.To, why)
}

// offsetText says how far network time is from this computer's clock.
func offsetText(st crono.ClockStatus, synced bool) string {
	if !synced {
		return "Not synced with the network yet: BorgHUI uses this computer's clock."
	}
	d := st.Offset.Round(time.Millisecond)
	var rel string
	switch {
	case d > 0:
		rel = fmt.Sprintf("Network time is %s ahead of this computer's clock", d)
	case d < 0:
		rel = fmt.Sprintf("Network time is %s behind this computer's clock", -d)
	default:
		rel = "Network time matches this computer's clock"
	}
	return fmt.Sprintf("%s (±%s; %d of %d time cells agree).", rel, st.Bound.Round(time.Millisecond), st.Agreeing, st.Cells)
}

// netPercent formats an error rate (0..1) as a percentage.
func netPercent(rate float64) string { return fmt.Sprintf("%.0f %%", rate*100) }

// netMillis formats a latency in milliseconds.
func netMillis(ms float64) string {
	if ms <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f ms", ms)
}
