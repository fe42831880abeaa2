package shard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/borgios/borghui/cells/roster"
	"github.com/borgios/borghui/peer"
	"github.com/borgios/borghui/peer/transport"
)

// Defaults of Config.
const (
	DefaultReplicas      = 3
	DefaultAnnounceEvery = 10 * time.Second
	DefaultGCEvery       = time.Minute
)

// Config configures a Server. Zero fields take defaults.
type Config struct {
	// Dir is the store's folder (required).
	Dir string
	// Quota bounds the bytes one owner may reference on this node;
	// 0 means DefaultQuota.
	Quota int64
	// Capacity bounds the bytes of all shards on this node (see
	// StoreConfig.Capacity); 0 means no bound.
	Capacity int64
	// Replicas is the target number of copies (R); 0 means DefaultReplicas.
	Replicas int
	// AnnounceEvery is the period of the member announcement broadcast.
	AnnounceEvery time.Duration
	// GCEvery is the period of garbage collection.
	GCEvery time.Duration
	// Log receives events (never blob bytes).
	Log *slog.Logger

	announcePoll time.Duration // how often the view is looked at (tests shorten it)
}

// Server is the shard cell's server side, mounted on a peer.Cell: receptor
// handlers for clients and node-to-node handlers for replication.
type Server struct {
	cfg     Config
	cell    *peer.Cell
	tr      *transport.Transport
	self    string
	store   atomic.Pointer[Store]
	members *roster.Roster
	log     *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

// Mount opens the store in cfg.Dir and mounts the shard protocol on cell,
// which must be a shardTreeCell.
func Mount(cell *peer.Cell, cfg Config) (*Server, error) {
	if cell == nil || cell.Name() != CellName {
		return nil, fmt.Errorf("shard: mount needs a %s cell", CellName)
	}
	if cfg.Replicas <= 0 {
		cfg.Replicas = DefaultReplicas
	}
	cfg.Replicas = min(cfg.Replicas, MaxHolders)
	if cfg.AnnounceEvery <= 0 {
		cfg.AnnounceEvery = DefaultAnnounceEvery
	}
	if cfg.GCEvery <= 0 {
		cfg.GCEvery = DefaultGCEvery
	}
	if cfg.announcePoll <= 0 {
		cfg.announcePoll = 50 * time.Millisecond
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	st, err := OpenStore(StoreConfig{Dir: cfg.Dir, Quota: cfg.Quota, Capacity: cfg.Capacity})
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, cell: cell, tr: cell.Transport(), self: string(cell.ID()), log: cfg.Log.With("cell", CellName)}
	s.store.Store(st)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	recp := []struct {
		typ string
		h   transport.Handler
	}{
		{TypePut, s.handlePut}, {TypePutOne, s.handlePutOne}, {TypeGet, s.handleGet}, {TypeHas, s.handleHas},
		{TypeDelete, s.handleDelete}, {TypeRepair, s.handleRepair}, {TypeMembers, s.handleMembers},
	}
	for _, r := range recp {
		if err == nil {
			err = cell.HandleReceptor(r.typ, s.guard(r.h))
		}
	}
	if err == nil {
		err = s.tr.Handle(TypeReplicate, s.guard(s.member(s.handleReplicate)))
	}
	if err == nil {
		err = s.tr.Handle(TypePeerHas, s.guard(s.member(s.handlePeerHas)))
	}
	if err == nil {
		err = s.tr.HandleMessage(TypeHolders, s.guard(s.member(s.handleHolders)))
	}
	if err == nil {
		s.members, err = roster.Start(cell, roster.Config{Type: TypeHello, Every: cfg.AnnounceEvery, Poll: cfg.announcePoll, Log: s.log})
	}
	if err != nil {
		s.cancel()
		st.Close()
		return nil, fmt.Errorf("shard: mounting: %w", err)
	}
	s.wg.Add(1)
	go s.collector()
	return s, nil
}

// Close stops the server's loops and closes the store. The handlers stay
// registered on the cell and answer "closed".
func (s *Server) Close() error {
	var err error
	s.once.Do(func() {
		s.cancel()
		s.members.Close()
		s.wg.Wait()
		err = s.store.Load().Close()
	})
	return err
}

// Store is the server's store.
func (s *Server) Store() *Store { return s.store.Load() }

// Members lists the members this node knows (itself included) with their
// receptor addresses.
func (s *Server) Members() []Member {
	var out []Member
	for _, h := range s.members.Members() {
		out = append(out, Member{ID: h.ID, Addr: h.Recp})
	}
	return out
}

// guard refuses work after Close and turns errors into coded responses.
func (s *Server) guard(h transport.Handler) transport.Handler {
	return func(ctx context.Context, req *transport.Request) ([]byte, error) {
		if s.ctx.Err() != nil {
			return nil, remote(ErrClosed)
		}
		b, err := h(ctx, req)
		if err != nil {
			return nil, remote(err)
		}
		return b, nil
	}
}

// member admits node-to-node requests from known members only.
func (s *Server) member(h transport.Handler) transport.Handler {
	return func(ctx context.Context, req *transport.Request) ([]byte, error) {
		if !s.members.Known(string(req.From)) {
			return nil, fmt.Errorf("%w: %s", ErrNotMember, req.From.Short())
		}
		return h(ctx, req)
	}
}

func (s *Server) collector() {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.GCEvery)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			if n, err := s.Store().GC(); err != nil {
				s.log.Warn("garbage collection", "err", err)
			} else if n > 0 {
				s.log.Info("garbage collected", "blobs", n)
			}
		}
	}
}

func (s *Server) handlePut(ctx context.Context, req *transport.Request) ([]byte, error) {
	// The body is the blob; the transport verified its SHA-256 against the
	// signed body hash, which is therefore the shard's ID.
	id, blob := ID(req.Env.BodyHash), req.Body
	if len(blob) > MaxBlob {
		return nil, fmt.Errorf("%w: blob of %d bytes, limit %d", ErrTooLarge, len(blob), MaxBlob)
	}
	st := s.Store()
	added, err := st.putVerified(id, []string{string(req.From)}, blob)
	if err != nil {
		return nil, err
	}
	m, err := st.Meta(id)
	if err != nil {
		return nil, err
	}
	copies := 1 + len(m.Holders)
	if added || copies < s.cfg.Replicas {
		copies = s.place(ctx, id, blob, m, false)
	}
	return mustJSON(PutReply{ID: id, Size: int64(len(blob)), Copies: min(copies, MaxHolders), Target: s.cfg.Replicas}), nil
}

// handlePutOne stores one copy here and places none elsewhere: the client
// spreads the shards of an erasure-coded group over distinct nodes itself,
// and Reed–Solomon, not copies, keeps them.
func (s *Server) handlePutOne(_ context.Context, req *transport.Request) ([]byte, error) {
	id, blob := ID(req.Env.BodyHash), req.Body
	if len(blob) > MaxBlob {
		return nil, fmt.Errorf("%w: blob of %d bytes, limit %d", ErrTooLarge, len(blob), MaxBlob)
	}
	if _, err := s.Store().putVerified(id, []string{string(req.From)}, blob); err != nil {
		return nil, err
	}
	return mustJSON(PutReply{ID: id, Size: int64(len(blob)), Copies: 1, Target: 1}), nil
}

func (s *Server) handleGet(_ context.Context, req *transport.Request) ([]byte, error) {
	id, err := DecodeIDRequest(req.Body)
	if err != nil {
		return nil, err
	}
	blob, m, err := s.Store().Get(id)
	if err != nil {
		if errors.Is(err, ErrCorrupt) {
			s.log.Warn("corrupt copy quarantined", "shard", id.String())
		}
		return nil, err
	}
	h := GetHeader{ID: id, Size: int64(len(blob)), Holders: min(1+len(m.Holders), MaxHolders), Target: s.cfg.Replicas}
	return EncodeFrame(h, blob)
}

func (s *Server) handleHas(_ context.Context, req *transport.Request) ([]byte, error) {
	ids, err := DecodeHasRequest(req.Body)
	if err != nil {
		return nil, err
	}
	held := []ID{}
	for _, id := range ids {
		if s.Store().Has(id) {
			held = append(held, id)
		}
	}
	return mustJSON(HasReply{Held: held}), nil
}

func (s *Server) handleDelete(_ context.Context, req *transport.Request) ([]byte, error) {
	id, err := DecodeIDRequest(req.Body)
	if err != nil {
		return nil, err
	}
	st := s.Store()
	m, err := st.Meta(id)
	if err != nil {
		return nil, err
	}
	released, err := st.Release(id, string(req.From))
	if err != nil {
		return nil, err
	}
	return mustJSON(DeleteReply{ID: id, Released: released, Holders: nonNil(m.Holders)}), nil
}

func (s *Server) handleRepair(ctx context.Context, req *transport.Request) ([]byte, error) {
	id, err := DecodeIDRequest(req.Body)
	if err != nil {
		return nil, err
	}
	blob, m, err := s.Store().Get(id)
	if err != nil {
		return nil, err
	}
	copies := s.place(ctx, id, blob, m, true)
	return mustJSON(RepairReply{ID: id, Copies: min(copies, MaxHolders), Target: s.cfg.Replicas}), nil
}

func (s *Server) handleMembers(context.Context, *transport.Request) ([]byte, error) {
	ms := s.Members()
	if len(ms) > MaxMembers {
		ms = RankMembers(Sum([]byte(s.self)), ms)[:MaxMembers]
	}
	return mustJSON(MembersReply{Members: ms, Target: s.cfg.Replicas}), nil
}

func (s *Server) handleReplicate(_ context.Context, req *transport.Request) ([]byte, error) {
	h, blob, err := DecodeReplicate(req.Body)
	if err != nil {
		return nil, err
	}
	st := s.Store()
	if _, err := st.putVerified(h.ID, h.Owners, blob); err != nil { // DecodeReplicate checked the hash
		return nil, err
	}
	if err := st.AddHolders(h.ID, s.self, append(h.Holders, string(req.From))); err != nil {
		return nil, err
	}
	return mustJSON(IDRequest{ID: h.ID}), nil
}

func (s *Server) handlePeerHas(_ context.Context, req *transport.Request) ([]byte, error) {
	ids, err := DecodeHasRequest(req.Body)
	if err != nil {
		return nil, err
	}
	held := []ID{}
	for _, id := range ids {
		if s.Store().Verify(id) {
			held = append(held, id)
		}
	}
	return mustJSON(HasReply{Held: held}), nil
}

func (s *Server) handleHolders(_ context.Context, req *transport.Request) ([]byte, error) {
	n, err := DecodeHoldersNote(req.Body)
	if err != nil {
		return nil, err
	}
	return nil, s.Store().AddHolders(n.ID, s.self, append(n.Holders, string(req.From)))
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
