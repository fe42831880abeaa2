package web

import (
	"bytes"
	"context"
	"html"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/borgios/borghui/cells/crono"
	"github.com/borgios/borghui/cells/ledger"
	"github.com/borgios/borghui/cells/shard"
	"github.com/borgios/borghui/conduit"
	"github.com/borgios/borghui/failover"
	"github.com/borgios/borghui/peer"
)

// optionsServer is appServer with Options (Quit, Node) set and, when c is
// not nil, that conduit (unlocked by the caller) instead of a fresh one.
func optionsServer(t *testing.T, sv *services, c *conduit.Conduit, o Options) (*Server, *http.Cookie) {
	t.Helper()
	if c == nil {
		c = conduit.New(conduit.Config{KeystoreDir: t.TempDir(), TestKDF: true})
		t.Cleanup(c.Close)
		pass := []byte("app test passphrase 123")
		if err := c.RestoreWords([]byte(testWords), nil, pass, pass, false); err != nil {
			t.Fatal(err)
		}
	}
	o.Conduit = c
	s, err := Listen("127.0.0.1:0", o)
	if err != nil {
		t.Fatal(err)
	}
	if sv != nil {
		s.services = func() (*services, error) { return sv, nil }
	}
	go s.Serve()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return s, session(t, s)
}

// fakeNetwork is a session's endpoints and clock.
type fakeNetwork struct {
	health map[string][]failover.Health
	clock  crono.ClockStatus
	synced bool
}

func (f *fakeNetwork) Health() map[string][]failover.Health { return f.health }
func (f *fakeNetwork) Clock() (crono.ClockStatus, bool)     { return f.clock, f.synced }

func TestNetworkPageOffline(t *testing.T) {
	s, cookie := appServer(t, nil) // no network configured
	code, body := get(t, s, cookie, "/network")
	if code != http.StatusOK {
		t.Fatalf("GET /network offline: %d, want 200\n%s", code, body)
	}
	for _, want := range []string{
		`id="net-mode"`, `id="net-state"`, "Not connected", `id="no-session"`,
		"This computer runs no node (guest mode)", `hx-trigger="borg:network from:document"`, `id="switches"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("offline network page lacks %q", want)
		}
	}
	if strings.Contains(body, `class="endpoints"`) || strings.Contains(body, `id="clock-offset"`) {
		t.Error("endpoints or clock shown without a session")
	}
	// The fragment refreshes itself.
	resp, frag := getFragment(t, s, cookie, "/network/status")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(frag, `<div id="net"`) {
		t.Fatalf("network fragment %d %.80q", resp.StatusCode, frag)
	}
}

func TestNetworkPageConnected(t *testing.T) {
	fn := &fakeNetwork{
		health: map[string][]failover.Health{
			ledger.CellName: {
				{Endpoint: failover.Endpoint{Addr: "127.0.0.2:7000", ID: strings.Repeat("ab", 32)}, LatencyMs: 3.4, ErrorRate: 0},
				{Endpoint: failover.Endpoint{Addr: "127.0.0.3:7000", ID: strings.Repeat("cd", 32)}, LatencyMs: 250, ErrorRate: 0.5, Open: true},
			},
			shard.CellName: {{Endpoint: failover.Endpoint{Addr: "127.0.0.4:7000", ID: "<b>x</b>"}, LatencyMs: 12}},
		},
		clock:  crono.ClockStatus{Offset: 1500 * time.Millisecond, Cells: 3, Agreeing: 2, Bound: 4 * time.Millisecond},
		synced: true,
	}
	node := &NodeInfo{ID: strings.Repeat("ef", 32), Cells: []peer.Status{
		{Cell: ledger.CellName, Role: "member", Pos: 3, Size: 7, Root: strings.Repeat("01", 32), Parent: strings.Repeat("02", 32), Children: []string{"a", "b"}},
	}}
	s, cookie := optionsServer(t, &services{network: fn}, nil, Options{Node: func() *NodeInfo { return node }})
	code, body := get(t, s, cookie, "/network")
	if code != http.StatusOK {
		t.Fatalf("GET /network: %d\n%s", code, body)
	}
	for _, want := range []string{
		`<table class="endpoints" data-cell="peerPaysCell"`, `<table class="endpoints" data-cell="shardTreeCell"`,
		`127.0.0.2:7000`, `abababababab…`, `3 ms`, `50 %`, `resting`, `&lt;b&gt;x&lt;/b&gt;`,
		`id="clock-offset"`, `1.5s ahead`, `2 of 3 time cells agree`,
		`id="node-id">` + node.ID, `<tr class="node-cell" data-cell="peerPaysCell">`, `>member<`, `>2<`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("network page lacks %q", want)
		}
	}
	if n := strings.Count(body, `<tr class="endpoint"`); n != 3 {
		t.Errorf("%d endpoint rows, want 3", n)
	}
	if strings.Index(body, `data-cell="peerPaysCell"`) > strings.Index(body, `data-cell="shardTreeCell"`) {
		t.Error("cells are not in a stable order")
	}
}

func TestNetworkLocked(t *testing.T) {
	s, cookie := appServer(t, nil)
	s.opts.Conduit.Lock()
	if code, _ := get(t, s, cookie, "/network"); code != http.StatusSeeOther {
		t.Fatalf("locked /network: %d, want 303 to the start", code)
	}
}

func TestNetworkLive(t *testing.T) {
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	v := networkView{Status: conduit.NetStatus{
		Mode: "home", State: conduit.NetConnecting, Reason: "The network did not answer.", Since: at,
		Switches: []conduit.Switch{
			{Cell: ledger.CellName, From: "127.0.0.2:7000", To: "127.0.0.3:7000", Why: "<script>x</script>", At: at},
			{Cell: "mailTreeCell", From: "a:1", To: "b:2", At: at},
		},
	}}
	var buf bytes.Buffer
	if err := networkLive(v).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	body := buf.String()
	for _, want := range []string{
		"Mode: Home.", "full node", "Connecting…", "The network did not answer.", `datetime="2025-03-01T12:00:00Z"`,
		"<li>ledger: switched from 127.0.0.2:7000 to 127.0.0.3:7000 because &lt;script&gt;x&lt;/script&gt;",
		"<li>mail: switched from a:1 to b:2 because it failed",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("network fragment lacks %q\n%s", want, body)
		}
	}
	if strings.Count(body, "<li>") != 2 || strings.Contains(body, "switches-none") {
		t.Error("switch list")
	}
}

func TestModeTexts(t *testing.T) {
	for _, m := range []string{"guest", "home", "solo", "", "odd"} {
		name, text := modeText(m)
		if name == "" || text == "" || !strings.HasSuffix(text, ".") {
			t.Errorf("mode %q: %q %q", m, name, text)
		}
	}
}

func TestOffsetText(t *testing.T) {
	for _, tt := range []struct {
		st     crono.ClockStatus
		synced bool
		want   string
	}{
		{crono.ClockStatus{}, false, "Not synced"},
		{crono.ClockStatus{Offset: -250 * time.Millisecond, Cells: 1, Agreeing: 1}, true, "250ms behind"},
		{crono.ClockStatus{Cells: 2, Agreeing: 2}, true, "matches"},
	} {
		if got := offsetText(tt.st, tt.synced); !strings.Contains(got, tt.want) {
			t.Errorf("offsetText(%+v, %v) = %q, want %q in it", tt.st, tt.synced, got, tt.want)
		}
	}
}

// TestNetworkJoinRefused: the join form refuses what is not a node's
// address and an address where nothing answers, saying why and keeping
// what was typed; nothing is saved.
func TestNetworkJoinRefused(t *testing.T) {
	dir := t.TempDir()
	c := conduit.New(conduit.Config{KeystoreDir: t.TempDir(), TestKDF: true, Network: &conduit.NetworkConfig{
		Mode: "guest", Dir: dir, Endpoints: func(context.Context) (conduit.Endpoints, error) { return nil, conduit.ErrNoNetwork },
	}})
	t.Cleanup(c.Close)
	pass := []byte("app test passphrase 123")
	if err := c.RestoreWords([]byte(testWords), nil, pass, pass, false); err != nil {
		t.Fatal(err)
	}
	s, cookie := optionsServer(t, nil, c, Options{})
	for _, tc := range []struct{ addr, want string }{
		{"", "That is not a node&#39;s address"},
		{"not an address!", "That is not a node&#39;s address"},
		{"127.0.0.1:1", "No node of a network answered at that address"},
	} {
		for _, hx := range []bool{false, true} {
			resp, body := post(t, s, cookie, "/network/join", url.Values{"addr": {tc.addr}}, hx)
			if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, tc.want) ||
				!strings.Contains(body, `value="`+html.EscapeString(tc.addr)+`"`) || !strings.Contains(body, `id="join-err"`) {
				t.Errorf("join %q (htmx %v): %d, want 422 saying %q with the address kept\n%s", tc.addr, hx, resp.StatusCode, tc.want, body)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, conduit.EndpointsFile)); !os.IsNotExist(err) {
		t.Fatalf("a refused network was saved: %v", err)
	}
}

// TestNetworkMoveShown: the move from the solo network is shown while
// under way (with its progress and why it stopped last) and once done
// (its summary, the shells left behind).
func TestNetworkMoveShown(t *testing.T) {
	for _, tc := range []struct {
		name string
		st   conduit.NetStatus
		want []string
		not  []string
	}{
		{"under way", conduit.NetStatus{Mode: "guest", State: conduit.NetConnected, Moving: true,
			Moved: &conduit.Moved{Files: 3, Bytes: 2_100_000, Folders: 1}, MoveErr: "The network did not answer."},
			[]string{`data-moving="true"`, "3 files (2.1 MB), 1 folder so far", "Not finished yet: The network did not answer. BorgHUI tries"},
			[]string{`id="net-join"`}},
		{"done", conduit.NetStatus{Mode: "guest", State: conduit.NetConnected,
			Moved: &conduit.Moved{Files: 2, Bytes: 717_000, Folders: 1, Letters: 1, Left: "12.5 shells", Done: time.Now()}},
			[]string{`data-moving="false"`, "2 files (717 kB), 1 folder, 1 letter sent again.", "The solo wallet&#39;s 12.5 shells stay behind"},
			[]string{"Not finished yet", `id="net-join"`}},
		{"solo, nothing moved yet", conduit.NetStatus{Mode: "solo", State: conduit.NetConnected},
			// The join form is outside the live part (GET /network has it:
			// e2e TestSoloJoinsNetwork), so a refresh does not wipe an
			// address being typed.
			[]string{`data-mode="solo"`}, []string{`id="net-moved"`, `id="net-join"`}},
	} {
		var buf bytes.Buffer
		if err := networkLive(networkView{Status: tc.st}).Render(context.Background(), &buf); err != nil {
			t.Fatal(err)
		}
		body := buf.String()
		for _, w := range tc.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: the fragment lacks %q\n%s", tc.name, w, body)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(body, n) {
				t.Errorf("%s: the fragment has %q", tc.name, n)
			}
		}
	}
}
