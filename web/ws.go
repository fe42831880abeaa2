package web

import (
	"net/http"
	"slices"
	"time"

	"github.com/gorilla/websocket"
)

// websocket upgrades a session to the live-update channel. Only a request
// with a valid session (checked by the middleware) and an Origin that is
// exactly one of our own addresses is upgraded; a missing Origin is refused
// too (gorilla's default would let it through).
func (s *Server) websocket(w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{
		HandshakeTimeout: 10 * time.Second,
		CheckOrigin: func(r *http.Request) bool {
			origin := r.Header.Get("Origin")
			return origin != "" && slices.ContainsFunc(s.hosts, func(h string) bool { return origin == "http://"+h })
		},
	}
	if !up.CheckOrigin(r) {
		s.log.Warn("websocket refused: foreign or missing Origin", "remote", r.RemoteAddr)
		http.Error(w, "Origin refused.", http.StatusForbidden)
		return
	}
	conn, err := up.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade has answered the client.
	}
	defer conn.Close()
	events, cancel := s.opts.Conduit.Events().Subscribe()
	defer cancel()

	// The reader notices the browser leaving; pongs keep the deadline fresh.
	done := make(chan struct{})
	conn.SetReadLimit(512)
	_ = conn.SetReadDeadline(time.Now().Add(time.Minute))
	conn.SetPongHandler(func(string) error { return conn.SetReadDeadline(time.Now().Add(time.Minute)) })
	go func() {
		defer close(done)
		for {
			if _, _, err := conn.NextReader(); err != nil {
				return
			}
		}
	}()
	ping := time.NewTicker(25 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-done:
			return
		case <-s.quit:
			_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "BorgHUI stopped"), time.Now().Add(time.Second))
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			_ = conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if err := conn.WriteJSON(ev); err != nil {
				return
			}
		case <-ping.C:
			if err := conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(10*time.Second)); err != nil {
				return
			}
		}
	}
}
