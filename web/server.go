package web

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/borgios/borghui/assets"
	"github.com/borgios/borghui/conduit"
	"github.com/borgios/borghui/peer"
)

// Options configures a Server.
type Options struct {
	// Conduit is the application core the pages render.
	Conduit *conduit.Conduit
	// Log receives request failures and security refusals, never secrets.
	Log *slog.Logger
	// Warning is shown on every page (e.g. memory could not be locked).
	Warning string
	// Quit, when set, is called by the Settings page's "Quit and wipe":
	// the host program wipes every secret and exits.
	Quit func()
	// Handoff, when set, checks a second run's one-time handoff nonce
	// (usbboot.Instance.CheckHandoff): GET /handoff?nonce=N answers with a
	// fresh launch URL when it says yes.
	Handoff func(nonce string) bool
	// Node, when set, describes the node this program runs (home and solo
	// modes), for the Network page; nil in guest mode.
	Node func() *NodeInfo
	// Home, when set, lets the Settings page allow or stop home mode on
	// this computer (a node of every cell); nil: it says it cannot.
	Home HomeControl
}

// NodeInfo is this computer's node as the Network page shows it.
type NodeInfo struct {
	ID    string        // node ID (public key hex)
	Cells []peer.Status // each cell's tree position, from its monitor
}

// Server is the localhost UI server.
type Server struct {
	opts     Options
	log      *slog.Logger
	ln       net.Listener
	srv      *http.Server
	base     string // http://127.0.0.1:PORT
	hosts    []string
	sessions *sessions
	handler  http.Handler
	quit     chan struct{} // closed by Shutdown: ends websockets, which Shutdown does not track
	quitOnce sync.Once
	links    links // borg://cap links opened in this run
	// services, when set (tests), stands in for the conduit's session.
	services func() (*services, error)
	// names are the nicknames of mail addresses seen (see mailNames).
	names mailNames
}

// Listen binds addr, which must be a loopback address ("127.0.0.1:0" lets
// the OS pick a free port), and prepares the server.
func Listen(addr string, opts Options) (*Server, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("web: listen address %q: %w", addr, err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("web: refusing to listen on %q: the UI listens on a loopback address (127.0.0.1) only", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("web: listening on %s: %w", addr, err)
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	bound := ln.Addr().(*net.TCPAddr)
	hostPort := netip.AddrPortFrom(ip, uint16(bound.Port)).String()
	s := &Server{
		opts:     opts,
		log:      opts.Log,
		ln:       ln,
		base:     "http://" + hostPort,
		hosts:    []string{hostPort, "localhost:" + itoa(bound.Port)},
		sessions: newSessions(bound.Port),
		quit:     make(chan struct{}),
	}
	s.handler = withHeaders(withHostCheck(s.hosts, withCrossOriginProtection(s.withSession(s.routes()))))
	s.srv = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(opts.Log.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// Addr is the bound address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// BaseURL is http://127.0.0.1:PORT.
func (s *Server) BaseURL() string { return s.base }

// LaunchURL mints a one-time launch URL: opening it starts a browser
// session. Each URL works once.
func (s *Server) LaunchURL() string {
	return s.base + "/launch?token=" + s.sessions.newLaunchToken()
}

// Handler is the full handler chain, for tests.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve serves until Shutdown.
func (s *Server) Serve() error {
	err := s.srv.Serve(s.ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops the server, closing websockets and idle connections.
func (s *Server) Shutdown(ctx context.Context) error {
	s.quitOnce.Do(func() { close(s.quit) })
	return s.srv.Shutdown(ctx)
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(assets.FS, ".")
	mux.Handle("GET /assets/", http.StripPrefix("/assets/", http.FileServerFS(static)))
	mux.HandleFunc("GET /launch", s.launch)
	mux.HandleFunc("GET /handoff", s.handoff)
	mux.HandleFunc("GET /{$}", s.home)
	mux.HandleFunc("POST /create", s.createBegin)
	mux.HandleFunc("GET /create/words", s.createWords)
	mux.HandleFunc("GET /create/quiz", s.createQuiz)
	mux.HandleFunc("POST /create/quiz", s.createQuizCheck)
	mux.HandleFunc("GET /create/passphrase", s.createPassphrase)
	mux.HandleFunc("POST /create/finish", s.createFinish)
	mux.HandleFunc("GET /restore", s.restoreForm("words"))
	mux.HandleFunc("GET /restore/legacy", s.restoreForm("legacy"))
	mux.HandleFunc("GET /restore/file", s.restoreForm("file"))
	mux.HandleFunc("POST /restore", s.restoreWords)
	mux.HandleFunc("POST /restore/legacy", s.restoreLegacy)
	mux.HandleFunc("POST /restore/file", s.restoreFile)
	mux.HandleFunc("POST /unlock", s.unlock)
	mux.HandleFunc("POST /lock", s.lock)
	mux.HandleFunc("GET /ws", s.websocket)
	s.filesRoutes(mux)
	s.mailRoutes(mux)
	s.walletRoutes(mux)
	s.networkRoutes(mux)
	s.settingsRoutes(mux)
	mux.HandleFunc("/", s.notFound)
	return mux
}

// handoff gives a second run of borghui on the same stick a launch URL to
// open, when it proves it can write to the stick (Options.Handoff).
func (s *Server) handoff(w http.ResponseWriter, r *http.Request) {
	if s.opts.Handoff == nil || !s.opts.Handoff(r.URL.Query().Get("nonce")) {
		s.log.Warn("handoff refused", "remote", r.RemoteAddr)
		http.Error(w, "Handoff refused.", http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte(s.LaunchURL() + "\n"))
}
