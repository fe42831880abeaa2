package ftree

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/borgios/borghui/peer/transport"
)

// ServerConfig configures a Server. Zero fields take defaults.
type ServerConfig struct {
	// Dir is the data folder; the database is Dir/ftree.db (required).
	Dir string
	// MaxInbox bounds the shares one recipient's inbox holds; default 1024.
	MaxInbox int
	// Log receives refusals and failures (never secrets); default discards.
	Log *slog.Logger
}

// Receptor is where a Server mounts its handlers; *peer.Cell is one.
type Receptor interface {
	HandleReceptor(typ string, h transport.Handler) error
}

// Server is the ftree cell's server side: receptor handlers over a bbolt
// store. The requester is always the verified envelope's sender key.
type Server struct {
	st  *store
	log *slog.Logger
}

// NewServer opens (or creates) the store in cfg.Dir.
func NewServer(cfg ServerConfig) (*Server, error) {
	if cfg.Dir == "" {
		return nil, errors.New("ftree: server: a data folder is required")
	}
	if cfg.MaxInbox <= 0 {
		cfg.MaxInbox = 1024
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	st, err := openStore(cfg.Dir, cfg.MaxInbox)
	if err != nil {
		return nil, err
	}
	return &Server{st: st, log: cfg.Log}, nil
}

// Close closes the store. Unmount first (close the cell).
func (s *Server) Close() error { return s.st.close() }

// Mount registers the six request handlers on r.
func (s *Server) Mount(r Receptor) error {
	routes := []struct {
		typ string
		h   func(PubKey, []byte) (any, error)
	}{
		{TypeRootGet, s.rootGet},
		{TypeRootPut, s.rootPut},
		{TypeRootHistory, s.rootHistory},
		{TypeSharePut, s.sharePut},
		{TypeShareList, s.shareList},
		{TypeShareRevoke, s.shareRevoke},
	}
	for _, rt := range routes {
		if err := r.HandleReceptor(rt.typ, s.handler(rt.typ, rt.h)); err != nil {
			return fmt.Errorf("ftree: mounting %s: %w", rt.typ, err)
		}
	}
	return nil
}

// handler adapts h: the requester is req.Env.Sender (verified by the
// transport); errors become coded remote errors.
func (s *Server) handler(typ string, h func(PubKey, []byte) (any, error)) transport.Handler {
	return func(_ context.Context, req *transport.Request) ([]byte, error) {
		from := PubKey(req.Env.Sender)
		resp, err := h(from, req.Body)
		if err == nil {
			var b []byte
			if b, err = Encode(resp.(message)); err == nil {
				return b, nil
			}
		}
		code := codeOf(err)
		if code == CodeServerFail {
			s.log.Error("ftree request failed", "type", typ, "err", err)
		} else {
			s.log.Debug("ftree request refused", "type", typ, "code", code, "err", err)
		}
		return nil, &transport.RemoteError{Code: code, Message: err.Error()}
	}
}

func codeOf(err error) string {
	switch {
	case errors.Is(err, ErrMalformed):
		return CodeMalformed
	case errors.Is(err, ErrBadSignature):
		return CodeSignature
	case errors.Is(err, ErrForbidden):
		return CodeForbidden
	case errors.Is(err, ErrNotFound):
		return CodeNotFound
	case errors.Is(err, ErrInboxFull):
		return CodeInboxFull
	}
	return CodeServerFail
}

func (s *Server) rootGet(_ PubKey, body []byte) (any, error) {
	req, err := DecodeRootGetRequest(body)
	if err != nil {
		return nil, err
	}
	r, err := s.st.current(req.Owner)
	return &RootGetResponse{Record: r}, err
}

func (s *Server) rootPut(from PubKey, body []byte) (any, error) {
	req, err := DecodeRootPutRequest(body)
	if err != nil {
		return nil, err
	}
	rec := req.Record
	if rec.Owner != from {
		return nil, fmt.Errorf("%w: a record can only be written by its owner", ErrForbidden)
	}
	if err := rec.Verify(); err != nil {
		return nil, err
	}
	ok, cur, err := s.st.putRoot(rec)
	if err != nil {
		return nil, err
	}
	if !ok {
		return &RootPutResponse{Status: StatusConflict, Current: cur}, nil
	}
	return &RootPutResponse{Status: StatusOK}, nil
}

func (s *Server) rootHistory(_ PubKey, body []byte) (any, error) {
	req, err := DecodeRootHistoryRequest(body)
	if err != nil {
		return nil, err
	}
	recs, err := s.st.history(req.Owner)
	return &RootHistoryResponse{Records: recs}, err
}

func (s *Server) sharePut(from PubKey, body []byte) (any, error) {
	req, err := DecodeSharePutRequest(body)
	if err != nil {
		return nil, err
	}
	if req.Share.Sharer != from {
		return nil, fmt.Errorf("%w: a share can only be stored by its sharer", ErrForbidden)
	}
	if err := req.Share.Verify(); err != nil {
		return nil, err
	}
	id, err := s.st.putShare(req.Share)
	return &SharePutResponse{ID: id}, err
}

func (s *Server) shareList(from PubKey, body []byte) (any, error) {
	req, err := DecodeShareListRequest(body)
	if err != nil {
		return nil, err
	}
	limit := req.Limit
	if limit == 0 {
		limit = MaxPage
	}
	shares, more, err := s.st.listShares(from, req.After, limit)
	return &ShareListResponse{Shares: shares, More: more}, err
}

func (s *Server) shareRevoke(from PubKey, body []byte) (any, error) {
	req, err := DecodeShareRevokeRequest(body)
	if err != nil {
		return nil, err
	}
	if err := s.st.revokeShare(req.Recipient, req.ID, from); err != nil {
		return nil, err
	}
	return &ShareRevokeResponse{Revoked: true}, nil
}
