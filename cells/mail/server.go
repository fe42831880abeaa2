package mail

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/borgios/borghui/cells/roster"
	"github.com/borgios/borghui/peer"
	"github.com/borgios/borghui/peer/transport"
)

// Defaults of Config.
const (
	DefaultReplicas        = 3
	DefaultMaxMailbox      = 10000
	DefaultMaxMailboxBytes = 512 << 20
	DefaultMaxAge          = 90 * 24 * time.Hour
	DefaultTombstoneTTL    = 30 * 24 * time.Hour
	DefaultGCEvery         = time.Hour
	// pushTimeout bounds one node-to-node call (replica, mark, drop).
	pushTimeout = 10 * time.Second
	// findTimeout bounds one member's part of a search.
	findTimeout = 3 * time.Second
	// maxFanout bounds the members one search asks.
	maxFanout = 64
)

// Config configures a Server. Zero fields take defaults.
type Config struct {
	// Dir is the data folder; the database is Dir/mail.db (required).
	Dir string
	// Replicas is the number of home cells (R) of a mailbox; default 3.
	Replicas int
	// MaxMailbox bounds the messages one mailbox holds on this node.
	MaxMailbox int
	// MaxMailboxBytes bounds the sealed bytes one mailbox holds here.
	MaxMailboxBytes int64
	// MaxAge: messages not fetched within it are dropped (and reported
	// "expired"); default 90 days.
	MaxAge time.Duration
	// TombstoneTTL is how long acknowledged ids are remembered (status
	// "delivered", no re-delivery); default 30 days.
	TombstoneTTL time.Duration
	// GCEvery is the period of expiry; default one hour.
	GCEvery time.Duration
	// AnnounceEvery and Poll tune the member roster (roster.Config Every
	// and Poll).
	AnnounceEvery time.Duration
	Poll          time.Duration
	// Clock is network time; default time.Now.
	Clock func() time.Time
	// Log receives refusals and failures (never message bytes).
	Log *slog.Logger
}

// Server is the mail cell's server side, mounted on a peer.Cell of type
// mailTreeCell: receptor handlers for clients, node-to-node handlers for
// replication, a roster of the tree's members. The requester is always the
// verified envelope's sender key, never a payload field.
type Server struct {
	cfg    Config
	cell   *peer.Cell
	tr     *transport.Transport
	self   string
	st     *store
	roster *roster.Roster
	log    *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

// Mount opens the store in cfg.Dir and mounts the mail protocol on cell,
// which must be a mailTreeCell.
func Mount(cell *peer.Cell, cfg Config) (*Server, error) {
	if cell == nil || cell.Name() != CellName {
		return nil, fmt.Errorf("mail: mount needs a %s cell", CellName)
	}
	if cfg.Dir == "" {
		return nil, errors.New("mail: server: a data folder is required")
	}
	if cfg.Replicas <= 0 {
		cfg.Replicas = DefaultReplicas
	}
	cfg.Replicas = min(cfg.Replicas, MaxHolders)
	if cfg.MaxMailbox <= 0 {
		cfg.MaxMailbox = DefaultMaxMailbox
	}
	if cfg.MaxMailboxBytes <= 0 {
		cfg.MaxMailboxBytes = DefaultMaxMailboxBytes
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	if cfg.TombstoneTTL <= 0 {
		cfg.TombstoneTTL = DefaultTombstoneTTL
	}
	if cfg.GCEvery <= 0 {
		cfg.GCEvery = DefaultGCEvery
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	st, err := openStore(cfg.Dir, cfg.MaxMailbox, cfg.MaxMailboxBytes)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, cell: cell, tr: cell.Transport(), self: string(cell.ID()), st: st, log: cfg.Log.With("cell", CellName)}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	recp := []struct {
		typ string
		h   func(context.Context, *transport.Request) ([]byte, error)
	}{
		{TypeCardPut, s.handleCardPut}, {TypeCardGet, s.handleCardGet}, {TypeCardSearch, s.handleSearch},
		{TypePrekeyTake, s.handleTake}, {TypeDeliver, s.handleDeliver}, {TypeList, s.handleList},
		{TypeFetch, s.handleFetch}, {TypeAck, s.handleAck}, {TypeStatus, s.handleStatus},
		{TypeMembers, s.handleMembers},
	}
	for _, r := range recp {
		if err == nil {
			err = cell.HandleReceptor(r.typ, s.guard(r.typ, r.h))
		}
	}
	node := []struct {
		typ string
		h   func(context.Context, *transport.Request) ([]byte, error)
	}{
		{TypeReplicate, s.handleReplicate}, {TypeCardReplicate, s.handleCardReplicate},
		{TypePrekeyDrop, s.handlePrekeyDrop}, {TypeDrop, s.handleDrop}, {TypeCardFind, s.handleCardFind},
	}
	for _, r := range node {
		if err == nil {
			err = s.tr.Handle(r.typ, s.guard(r.typ, s.member(r.h)))
		}
	}
	if err == nil {
		s.roster, err = roster.Start(cell, roster.Config{Type: TypeHello, Every: cfg.AnnounceEvery, Poll: cfg.Poll, Log: cfg.Log})
	}
	if err != nil {
		s.cancel()
		st.close()
		return nil, fmt.Errorf("mail: mounting: %w", err)
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
		s.roster.Close()
		s.wg.Wait()
		err = s.st.close()
	})
	return err
}

// Members lists the members this node knows (itself included) with their
// receptor addresses.
func (s *Server) Members() []Member {
	var out []Member
	for _, m := range s.roster.Members() {
		out = append(out, Member{ID: m.ID, Addr: m.Recp})
	}
	return out
}

// ID is this node's ID.
func (s *Server) ID() string { return s.self }

// Holds reports whether this node stores message id (for tests and the
// monitor).
func (s *Server) Holds(id MsgID) bool { return s.st.has(id) }

// home returns the members in mailbox muid's rendezvous order.
func (s *Server) home(muid string) []roster.Member {
	return Rank(muid, s.roster.Members(), func(m roster.Member) string { return m.ID })
}

// homeOthers returns the first R members of muid's order but this node.
func (s *Server) homeOthers(muid string) []roster.Member {
	h := s.home(muid)
	h = h[:min(len(h), s.cfg.Replicas)]
	return slices.DeleteFunc(h, func(m roster.Member) bool { return m.ID == s.self })
}

// guard refuses work after Close and turns errors into coded responses.
func (s *Server) guard(typ string, h transport.Handler) transport.Handler {
	return func(ctx context.Context, req *transport.Request) ([]byte, error) {
		if s.ctx.Err() != nil {
			return nil, remote(ErrClosed)
		}
		b, err := h(ctx, req)
		if err != nil {
			re := remote(err)
			if re.(*transport.RemoteError).Code == CodeInternal {
				s.log.Error("mail request failed", "type", typ, "err", err)
			} else {
				s.log.Debug("mail request refused", "type", typ, "err", err)
			}
			return nil, re
		}
		return b, nil
	}
}

// member admits node-to-node requests from known members only.
func (s *Server) member(h transport.Handler) transport.Handler {
	return func(ctx context.Context, req *transport.Request) ([]byte, error) {
		if !s.roster.Known(string(req.From)) {
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
			if n, err := s.st.gc(s.cfg.Clock(), s.cfg.MaxAge, s.cfg.TombstoneTTL); err != nil {
				s.log.Warn("mail expiry", "err", err)
			} else if n > 0 {
				s.log.Info("unfetched mail expired", "messages", n)
			}
		}
	}
}

// owns checks that the request's envelope sender owns mailbox muid.
func owns(req *transport.Request, muid string) error {
	m, err := MUIDOf(req.Env.Sender[:])
	if err != nil {
		return err
	}
	if m != muid {
		return fmt.Errorf("%w: mailbox %s belongs to another identity", ErrForbidden, muid)
	}
	return nil
}

// call makes a node-to-node request to m.
func (s *Server) call(ctx context.Context, m roster.Member, typ string, body []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, pushTimeout)
	defer cancel()
	return s.tr.Request(ctx, m.Peer(), typ, body)
}

// each runs f for every member at once and waits; f's true results count.
func each(ms []roster.Member, f func(roster.Member) bool) []string {
	var mu sync.Mutex
	var wg sync.WaitGroup
	var ok []string
	for _, m := range ms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if f(m) {
				mu.Lock()
				ok = append(ok, m.ID)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return ok
}

// --- cards ---

func (s *Server) handleCardPut(ctx context.Context, req *transport.Request) ([]byte, error) {
	r, err := DecodeCardPutRequest(req.Body)
	if err != nil {
		return nil, err
	}
	c := r.Card
	if c.Owner != PubKey(req.Env.Sender) {
		return nil, fmt.Errorf("%w: a card can only be published by its owner", ErrForbidden)
	}
	if err := c.Verify(); err != nil {
		return nil, err
	}
	ok, cur, err := s.st.putCard(c)
	if err != nil {
		return nil, err
	}
	if !ok {
		return Encode(&CardPutResponse{Status: StatusStale, Current: cur, Target: s.cfg.Replicas})
	}
	body := mustJSON(&CardPutRequest{Card: c})
	copied := each(s.homeOthers(c.MUID), func(m roster.Member) bool {
		b, err := s.call(ctx, m, TypeCardReplicate, body)
		if err != nil {
			s.log.Debug("card not replicated", "node", m.ID[:12], "err", err)
			return false
		}
		resp, err := DecodeCardPutResponse(b)
		return err == nil && (resp.Status == StatusOK || resp.Current != nil && resp.Current.Version >= c.Version)
	})
	return Encode(&CardPutResponse{Status: StatusOK, Copies: min(1+len(copied), MaxHolders), Target: s.cfg.Replicas})
}

func (s *Server) handleCardReplicate(_ context.Context, req *transport.Request) ([]byte, error) {
	r, err := DecodeCardPutRequest(req.Body)
	if err != nil {
		return nil, err
	}
	if err := r.Card.Verify(); err != nil {
		return nil, err
	}
	ok, cur, err := s.st.putCard(r.Card)
	if err != nil {
		return nil, err
	}
	if !ok {
		return Encode(&CardPutResponse{Status: StatusStale, Current: cur, Copies: 1, Target: s.cfg.Replicas})
	}
	return Encode(&CardPutResponse{Status: StatusOK, Copies: 1, Target: s.cfg.Replicas})
}

func (s *Server) handleCardGet(_ context.Context, req *transport.Request) ([]byte, error) {
	r, err := DecodeCardGetRequest(req.Body)
	if err != nil {
		return nil, err
	}
	c, left, err := s.st.card(r.MUID)
	if err != nil {
		return nil, err
	}
	return Encode(&CardGetResponse{Card: c, Left: left})
}

func (s *Server) handleCardFind(_ context.Context, req *transport.Request) ([]byte, error) {
	r, err := DecodeSearchRequest(req.Body)
	if err != nil {
		return nil, err
	}
	cards, err := s.st.search(r.Query, limitOr(r.Limit, MaxSearch))
	if err != nil {
		return nil, err
	}
	return Encode(&SearchResponse{Cards: cards})
}

func limitOr(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}

// handleSearch answers from this node's cards and those of up to
// maxFanout other members (asked at once, each within pushTimeout),
// keeping the newest valid card of each address.
func (s *Server) handleSearch(ctx context.Context, req *transport.Request) ([]byte, error) {
	r, err := DecodeSearchRequest(req.Body)
	if err != nil {
		return nil, err
	}
	limit := limitOr(r.Limit, MaxSearch)
	found, err := s.st.search(r.Query, limit)
	if err != nil {
		return nil, err
	}
	others := s.roster.Others()
	if CheckMUID(r.Query) == nil {
		others = s.homeOthers(r.Query)
	} else if len(others) > maxFanout {
		others = Rank(r.Query, others, func(m roster.Member) string { return m.ID })[:maxFanout]
	}
	body := mustJSON(&SearchRequest{Query: r.Query, Limit: limit})
	var mu sync.Mutex
	each(others, func(m roster.Member) bool {
		fctx, cancel := context.WithTimeout(ctx, findTimeout)
		defer cancel()
		b, err := s.call(fctx, m, TypeCardFind, body)
		if err != nil {
			return false
		}
		resp, err := DecodeSearchResponse(b)
		if err != nil {
			return false
		}
		mu.Lock()
		found = append(found, resp.Cards...)
		mu.Unlock()
		return true
	})
	return Encode(&SearchResponse{Cards: mergeCards(found, limit)})
}

// mergeCards keeps the newest valid card of each address, sorted by
// nickname (case-insensitive) then MUID, at most limit.
func mergeCards(cards []*Card, limit int) []*Card {
	best := map[string]*Card{}
	for _, c := range cards {
		if b := best[c.MUID]; b != nil && !Newer(c, b) {
			continue
		}
		if c.Verify() != nil {
			continue
		}
		best[c.MUID] = c
	}
	out := make([]*Card, 0, len(best))
	for _, c := range best {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b *Card) int {
		if c := strings.Compare(strings.ToLower(a.Nick), strings.ToLower(b.Nick)); c != 0 {
			return c
		}
		return strings.Compare(a.MUID, b.MUID)
	})
	return out[:min(len(out), limit)]
}

// handleTake hands out one prekey of a card. Each home cell starts from
// its own share of the prekeys (by its rank), so cells taking at once do
// not contend for the same one. A prekey is handed out only
// once a majority of the mailbox's home cells newly marked it as handed
// out (this cell's own mark counts when it is a home cell): two majorities
// always share a cell, which marks a prekey newly for one taker only, so
// no two cells hand out the same prekey (barring cells that disagree on
// the membership). A prekey that did not reach a majority is passed over;
// when none does, the answer is "longterm".
func (s *Server) handleTake(ctx context.Context, req *transport.Request) ([]byte, error) {
	r, err := DecodeTakeRequest(req.Body)
	if err != nil {
		return nil, err
	}
	home := s.home(r.MUID)
	home = home[:min(len(home), s.cfg.Replicas)]
	slot := slices.IndexFunc(home, func(m roster.Member) bool { return m.ID == s.self })
	self := slot >= 0
	others := slices.DeleteFunc(slices.Clone(home), func(m roster.Member) bool { return m.ID == s.self })
	need := len(home)/2 + 1
	for range MaxPrekeys {
		c, key, err := s.st.take(r.MUID, s.cfg.Clock(), slot, len(home))
		if err != nil {
			return nil, err
		}
		if c == nil {
			return nil, fmt.Errorf("%w: no mail card for %s", ErrNotFound, r.MUID)
		}
		id, ok := key.Prekey()
		if !ok {
			return Encode(&TakeResponse{Card: c, Key: LongTerm})
		}
		body := mustJSON(&PrekeyDropRequest{MUID: r.MUID, IDs: []PrekeyID{id}})
		marked := len(each(others, func(m roster.Member) bool {
			b, err := s.call(ctx, m, TypePrekeyDrop, body)
			if err != nil {
				return false
			}
			resp, err := DecodePrekeyDropResponse(b)
			return err == nil && resp.Dropped == 1
		}))
		if self {
			marked++
		}
		if marked >= need {
			return Encode(&TakeResponse{Card: c, Key: key})
		}
		s.log.Debug("prekey passed over: no majority marked it", "muid", r.MUID, "marked", marked, "need", need)
	}
	c, _, err := s.st.card(r.MUID)
	if err != nil || c == nil {
		return nil, fmt.Errorf("%w: no mail card for %s", ErrNotFound, r.MUID)
	}
	return Encode(&TakeResponse{Card: c, Key: LongTerm})
}

func (s *Server) handlePrekeyDrop(_ context.Context, req *transport.Request) ([]byte, error) {
	r, err := DecodePrekeyDropRequest(req.Body)
	if err != nil {
		return nil, err
	}
	n, err := s.st.dropPrekeys(r.MUID, r.IDs, s.cfg.Clock())
	if err != nil {
		return nil, err
	}
	return Encode(&PrekeyDropResponse{Dropped: n})
}

// --- messages ---

func (s *Server) handleDeliver(ctx context.Context, req *transport.Request) ([]byte, error) {
	env, err := DecodeDeliverRequest(req.Body)
	if err != nil {
		return nil, err
	}
	state, _, err := s.st.put(env, nil, s.self, s.cfg.Clock())
	if err != nil {
		return nil, err
	}
	resp := &DeliverResponse{ID: env.ID, State: state, Target: s.cfg.Replicas}
	if state == CellStored {
		// Also for a repeated delivery (added false): the first may have
		// been cut short before its replicas were placed; pushing again is
		// a no-op where a copy is held.
		resp.Copies = s.place(ctx, env)
	}
	return Encode(resp)
}

// place brings a stored message to R copies on the first nodes of its
// mailbox's order (this node, holding it, counts as one wherever it
// ranks): the others are pushed the envelope, as many at once as copies
// are missing, passing over nodes that fail. A node that already holds it
// answers at once (replicate is idempotent). Every node pushed to is
// recorded as a holder (an acknowledgement's drop goes to each); the
// confirmed copies are returned.
func (s *Server) place(ctx context.Context, env *Envelope) int {
	ranked := s.home(env.To)
	confirmed := []string{s.self}
	var tried []string // pushed to, confirmed or not: a push that timed out may still have landed
	next := 0
	for len(confirmed) < s.cfg.Replicas {
		var batch []roster.Member
		for ; next < len(ranked) && len(batch) < s.cfg.Replicas-len(confirmed); next++ {
			if ranked[next].ID != s.self {
				batch = append(batch, ranked[next])
			}
		}
		if len(batch) == 0 {
			break
		}
		body, err := EncodeReplicate(env, slices.Clone(confirmed))
		if err != nil {
			break
		}
		sum := sha256.Sum256(body)
		for _, m := range batch {
			tried = append(tried, m.ID)
		}
		confirmed = append(confirmed, each(batch, func(m roster.Member) bool {
			cctx, cancel := context.WithTimeout(ctx, pushTimeout)
			defer cancel()
			b, err := s.tr.RequestHashed(cctx, m.Peer(), TypeReplicate, body, sum)
			if err != nil {
				s.log.Debug("replica not placed", "id", env.ID.String(), "node", m.ID[:12], "err", err)
				return false
			}
			r, err := DecodeDeliverResponse(b)
			return err == nil && r.ID == env.ID
		})...)
	}
	if err := s.st.setHolders(env, append(tried, confirmed...), s.self); err != nil {
		s.log.Warn("holders not recorded", "id", env.ID.String(), "err", err)
	}
	return min(len(confirmed), MaxHolders)
}

func (s *Server) handleReplicate(_ context.Context, req *transport.Request) ([]byte, error) {
	env, holders, err := DecodeReplicate(req.Body)
	if err != nil {
		return nil, err
	}
	state, _, err := s.st.put(env, append(holders, string(req.From)), s.self, s.cfg.Clock())
	if err != nil {
		return nil, err
	}
	return Encode(&DeliverResponse{ID: env.ID, State: state, Copies: 1, Target: s.cfg.Replicas})
}

func (s *Server) handleList(_ context.Context, req *transport.Request) ([]byte, error) {
	r, err := DecodeListRequest(req.Body)
	if err != nil {
		return nil, err
	}
	if err := owns(req, r.MUID); err != nil {
		return nil, err
	}
	items, more, err := s.st.list(r.MUID, r.After, limitOr(r.Limit, MaxList))
	if err != nil {
		return nil, err
	}
	return Encode(&ListResponse{Items: items, More: more})
}

func (s *Server) handleFetch(_ context.Context, req *transport.Request) ([]byte, error) {
	r, err := DecodeFetchRequest(req.Body)
	if err != nil {
		return nil, err
	}
	if err := owns(req, r.MUID); err != nil {
		return nil, err
	}
	envs, err := s.st.fetch(r.MUID, r.IDs)
	if err != nil {
		return nil, err
	}
	return EncodeFetchResponse(envs)
}

// handleAck deletes the acknowledged messages here and, before answering,
// on every other node known to hold them (the holders recorded with each
// message and the mailbox's home cells), forwarding the owner's signed
// proof, which each checks again.
func (s *Server) handleAck(ctx context.Context, req *transport.Request) ([]byte, error) {
	r, err := DecodeAckRequest(req.Body)
	if err != nil {
		return nil, err
	}
	p := r.Proof
	if p.Owner != PubKey(req.Env.Sender) {
		return nil, fmt.Errorf("%w: an acknowledgement is sent by the mailbox owner", ErrForbidden)
	}
	if err := p.Verify(); err != nil {
		return nil, err
	}
	n, holders, err := s.st.ack(p.MUID, p.IDs, s.cfg.Clock())
	if err != nil {
		return nil, err
	}
	targets := s.homeOthers(p.MUID)
	for _, h := range holders {
		if m, ok := s.roster.Lookup(h); ok && !slices.ContainsFunc(targets, func(t roster.Member) bool { return t.ID == h }) && h != s.self {
			targets = append(targets, m)
		}
	}
	body := mustJSON(r)
	each(targets, func(m roster.Member) bool {
		_, err := s.call(ctx, m, TypeDrop, body)
		return err == nil
	})
	return Encode(&AckResponse{Acked: n})
}

func (s *Server) handleDrop(_ context.Context, req *transport.Request) ([]byte, error) {
	r, err := DecodeAckRequest(req.Body)
	if err != nil {
		return nil, err
	}
	if err := r.Proof.Verify(); err != nil {
		return nil, err
	}
	n, _, err := s.st.ack(r.Proof.MUID, r.Proof.IDs, s.cfg.Clock())
	if err != nil {
		return nil, err
	}
	return Encode(&AckResponse{Acked: n})
}

func (s *Server) handleStatus(_ context.Context, req *transport.Request) ([]byte, error) {
	r, err := DecodeStatusRequest(req.Body)
	if err != nil {
		return nil, err
	}
	states, err := s.st.status(r.IDs)
	if err != nil {
		return nil, err
	}
	return Encode(&StatusResponse{States: states})
}

func (s *Server) handleMembers(context.Context, *transport.Request) ([]byte, error) {
	ms := s.Members()
	if len(ms) > MaxMembers {
		ms = RankMembers(s.self, ms)[:MaxMembers]
	}
	return Encode(&MembersResponse{Members: ms, Replicas: s.cfg.Replicas})
}
