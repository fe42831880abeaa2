package ledger

import (
	"bytes"
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
	"github.com/borgios/borghui/peer/tree"
	"github.com/borgios/borghui/signer"
)

// Defaults of Config.
const (
	DefaultBatchEvery  = 50 * time.Millisecond
	DefaultSyncEvery   = 500 * time.Millisecond
	DefaultResendAfter = 2 * time.Second
	DefaultPendingTTL  = 2 * time.Minute
	requestTimeout     = 5 * time.Second
	maxReorgBlocks     = 4096
	forwardGather      = 10 * time.Millisecond // a new transfer waits this long for others to forward with
)

// Config configures a Server. Zero fields take defaults.
type Config struct {
	// Dir is the data folder; the database is Dir/ledger.db (required).
	Dir string
	// Key is the node's identity key, the cell's own (required): it signs
	// the blocks this node makes as root, and fees go to its MUID.
	Key signer.Key
	// NetworkKey is the network wallet's 65-byte public key (required).
	// The genesis block, and so the whole chain, derives from it: nodes
	// with another key are another network.
	NetworkKey []byte
	// NetworkSigner holds the network wallet key on the one node that pays
	// storage rewards (PayStorage); nil elsewhere.
	NetworkSigner signer.Key
	// Rate is the storage reward in nano-shells per GiB-hour (default
	// DefaultRate, 0.001 shells); ProofPeriod the window one proof pays
	// for (default one hour).
	Rate        Amount
	ProofPeriod time.Duration
	// BatchEvery is how often the root makes a block of what is pending
	// (sooner when MaxBlockTransfers are ready). Default 50 ms.
	BatchEvery time.Duration
	// SyncEvery is how often a member compares its tip with the root's
	// (and the root with one member's). Default 500 ms.
	SyncEvery time.Duration
	// ResendAfter is when a member forwards a still-pending transfer to
	// the root again. Default 2 s.
	ResendAfter time.Duration
	// PendingTTL is how long the root keeps a transfer that cannot apply
	// yet (a gap in its sender's seqs) before refusing it as expired;
	// other members wait twice as long. Default 2 min.
	PendingTTL time.Duration
	// RosterEvery is the member announcement period (package roster).
	RosterEvery time.Duration
	// Clock gives block times; default time.Now.
	Clock func() time.Time
	// Log receives events (never keys).
	Log *slog.Logger

	rosterPoll   time.Duration // tests shorten it
	forwardEvery time.Duration
	maxBroadcast int // largest block broadcast whole (default tree.MaxPayload); tests lower it
}

// Server is the ledger cell's server side on one node: receptor handlers
// for clients, node-to-node handlers, the block producer (while the node
// is the tree's root), the forwarder (while it is not) and the chain sync.
type Server struct {
	cfg      Config
	cell     *peer.Cell
	tr       *transport.Transport
	roster   *roster.Roster
	self     transport.NodeID
	producer string // MUID of the node key: fees of its blocks
	network  string // MUID of the network wallet
	genesis  tip
	st       *store
	log      *slog.Logger

	mu    sync.RWMutex // guards live and head; only the run loop writes them
	live  *state
	head  tip
	total Amount

	pend *pool
	rej  *rejects
	sigs *sigCache

	intake chan intakeMsg
	hints  chan transport.Peer
	kickF  chan struct{} // wakes the forwarder
	kickP  chan struct{} // wakes the producer

	stats stats
	payMu sync.Mutex // one PayStorage at a time

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

type intakeMsg struct {
	origin  tree.NodeID
	payload []byte
}

type stats struct {
	produced, applied, refused, reorgs, rolledBack, dropped atomic.Uint64
	lastApplied                                             atomic.Int64 // unix ns of the last block applied
}

// Stats are a node's running totals.
type Stats struct {
	Height     uint64
	Pending    int
	Produced   uint64 // blocks made as root
	Applied    uint64 // blocks applied (made here or received)
	Refused    uint64 // blocks refused as invalid
	Reorgs     uint64 // switches to a better branch
	RolledBack uint64 // blocks undone by those switches
	Dropped    uint64 // broadcasts dropped (intake full); sync recovers them
}

// Mount opens the chain in cfg.Dir and mounts the ledger on cell, which
// must be a peerPaysCell whose key is cfg.Key.
func Mount(cell *peer.Cell, cfg Config) (*Server, error) {
	if cell == nil || cell.Name() != CellName {
		return nil, fmt.Errorf("ledger: mount needs a %s cell", CellName)
	}
	if cfg.Dir == "" || cfg.Key == nil {
		return nil, errors.New("ledger: a data folder and the node key are required")
	}
	if string(transport.IDOf(cfg.Key.PublicKey())) != string(cell.ID()) {
		return nil, errors.New("ledger: Config.Key is not the cell's key")
	}
	nk, err := PubKeyOf(cfg.NetworkKey)
	if err != nil {
		return nil, fmt.Errorf("ledger: network key: %w", err)
	}
	if cfg.Rate == 0 {
		cfg.Rate = DefaultRate
	}
	if cfg.ProofPeriod <= 0 {
		cfg.ProofPeriod = DefaultProofPeriod
	}
	if cfg.BatchEvery <= 0 {
		cfg.BatchEvery = DefaultBatchEvery
	}
	if cfg.SyncEvery <= 0 {
		cfg.SyncEvery = DefaultSyncEvery
	}
	if cfg.ResendAfter <= 0 {
		cfg.ResendAfter = DefaultResendAfter
	}
	if cfg.PendingTTL <= 0 {
		cfg.PendingTTL = DefaultPendingTTL
	}
	if cfg.forwardEvery <= 0 {
		cfg.forwardEvery = cfg.ResendAfter / 4 // new transfers kick the forwarder at once
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.maxBroadcast <= 0 {
		cfg.maxBroadcast = tree.MaxPayload
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, cell: cell, tr: cell.Transport(), self: transport.NodeID(cell.ID()), log: cfg.Log.With("cell", CellName),
		pend: newPool(), rej: newRejects(), sigs: newSigCache(maxRejects), intake: make(chan intakeMsg, 256), hints: make(chan transport.Peer, 16),
		kickF: make(chan struct{}, 1), kickP: make(chan struct{}, 1)}
	if s.producer, err = MUIDOf(cfg.Key.PublicKey()); err != nil {
		return nil, err
	}
	if s.network, err = MUIDOf(nk[:]); err != nil {
		return nil, err
	}
	g, err := Genesis(nk)
	if err != nil {
		return nil, err
	}
	gs := newState()
	gs.set(s.network, Account{Balance: GenesisSupply})
	s.genesis = tip{Height: 0, Hash: g.Hash(), State: g.State}
	if s.st, err = openStore(cfg.Dir, s.genesis, gs); err != nil {
		return nil, err
	}
	if s.live, s.head, err = s.st.load(); err != nil {
		s.st.close()
		return nil, err
	}
	h, total, err := s.live.digest()
	if err == nil && (h != s.head.State || total != GenesisSupply) {
		err = fmt.Errorf("%w: the accounts do not match the head's state hash", ErrCorrupt)
	}
	if err != nil {
		s.st.close()
		return nil, err
	}
	s.total = total
	s.ctx, s.cancel = context.WithCancel(context.Background())
	recp := []struct {
		typ string
		h   func(*transport.Request) ([]byte, error)
	}{
		{TypeSubmit, s.handleSubmit}, {TypeStatus, s.handleStatus}, {TypeBalance, s.handleBalance},
		{TypeHistory, s.handleHistory}, {TypeState, s.handleState},
	}
	for _, r := range recp {
		if err == nil {
			err = cell.HandleReceptor(r.typ, s.guard(r.typ, r.h))
		}
	}
	node := []struct {
		typ string
		h   func(*transport.Request) ([]byte, error)
	}{
		{TypeForward, s.handleForward}, {TypeHead, s.handleState}, {TypeBlocks, s.handleBlocks}, {TypeHashes, s.handleHashes},
	}
	for _, r := range node {
		if err == nil {
			err = s.tr.Handle(r.typ, s.guard(r.typ, r.h))
		}
	}
	if err == nil {
		s.roster, err = roster.Start(cell, roster.Config{Type: TypeHello, Every: cfg.RosterEvery, Poll: cfg.rosterPoll, Log: s.log})
	}
	if err != nil {
		s.cancel()
		s.st.close()
		return nil, fmt.Errorf("ledger: mounting: %w", err)
	}
	cell.OnDeliver(s.onDeliver)
	s.wg.Add(3)
	go s.run()
	go s.forwarder()
	go s.poller()
	return s, nil
}

// Close stops the loops, hands the transfers still pending here to another
// member (best effort, so a leaving root loses none) and closes the
// database. The handlers stay registered on the cell and answer "closed".
func (s *Server) Close() error {
	var err error
	s.once.Do(func() {
		s.cancel()
		s.wg.Wait()
		s.handOff()
		s.roster.Close()
		err = s.st.close()
	})
	return err
}

// handOff forwards the pool to the root, or (at the root) to another
// member, which forwards it on to the next root.
func (s *Server) handOff() {
	ts := s.pend.all()
	if len(ts) == 0 {
		return
	}
	var targets []transport.Peer
	if v := s.cell.View(); v.Root.ID != "" && transport.NodeID(v.Root.ID) != s.self {
		targets = append(targets, transport.Peer{ID: transport.NodeID(v.Root.ID), Addr: v.Root.Addr})
	}
	for _, m := range s.roster.Others() {
		targets = append(targets, m.Peer())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	for len(ts) > 0 {
		n := min(len(ts), MaxForwardBatch)
		body := mustJSON(&ForwardRequest{Transfers: ts[:n]})
		sent := false
		for _, p := range targets {
			if _, err := s.tr.Request(ctx, p, TypeForward, body); err == nil {
				sent = true
				break
			}
		}
		if !sent {
			s.log.Warn("pending transfers not handed off", "count", len(ts))
			return
		}
		ts = ts[n:]
	}
}

// Stats returns the node's running totals.
func (s *Server) Stats() Stats {
	s.mu.RLock()
	h := s.head.Height
	s.mu.RUnlock()
	return Stats{Height: h, Pending: s.pend.len(), Produced: s.stats.produced.Load(), Applied: s.stats.applied.Load(),
		Refused: s.stats.refused.Load(), Reorgs: s.stats.reorgs.Load(), RolledBack: s.stats.rolledBack.Load(),
		Dropped: s.stats.dropped.Load()}
}

// Head returns the node's chain tip.
func (s *Server) Head() StateResponse {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return StateResponse{Height: s.head.Height, Hash: s.head.Hash, State: s.head.State, Supply: s.total, Accounts: len(s.live.keys)}
}

// Account returns an account at the node's tip.
func (s *Server) Account(muid string) Account {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.live.acc[muid]
}

// Members lists the ledger tree's members this node knows, itself
// included, with their receptor addresses.
func (s *Server) Members() []roster.Member { return s.roster.Members() }

// Check audits the node's chain: the accounts in memory and in the
// database are the same, their hash is the head's state hash, every
// balance is within the supply and the balances add up to GenesisSupply.
func (s *Server) Check() error {
	s.mu.RLock()
	h, total, err := s.live.digest()
	head := s.head
	mem := s.live.clone()
	s.mu.RUnlock()
	if err != nil {
		return err
	}
	if h != head.State {
		return fmt.Errorf("%w: state hash %s, head says %s", ErrCorrupt, h, head.State)
	}
	if total != GenesisSupply {
		return fmt.Errorf("%w: supply %s, want %s", ErrCorrupt, total, GenesisSupply)
	}
	for m, a := range mem.acc {
		if a.Balance > GenesisSupply {
			return fmt.Errorf("%w: account %s holds %s", ErrCorrupt, m, a.Balance)
		}
	}
	disk, dtip, err := s.st.load()
	if err != nil {
		return err
	}
	if dtip.Height >= head.Height && dtip.Hash == head.Hash {
		dh, _, err := disk.digest()
		if err != nil {
			return err
		}
		if dh != h {
			return fmt.Errorf("%w: the database's accounts differ from memory", ErrCorrupt)
		}
	}
	return nil
}

// guard refuses work after Close and turns errors into coded responses.
func (s *Server) guard(typ string, h func(*transport.Request) ([]byte, error)) transport.Handler {
	return func(_ context.Context, req *transport.Request) ([]byte, error) {
		if s.ctx.Err() != nil {
			return nil, remote(ErrClosed)
		}
		b, err := h(req)
		if err != nil {
			re := remote(err)
			if re.Code == CodeInternal {
				s.log.Error("ledger request failed", "type", typ, "err", err)
			}
			return nil, re
		}
		return b, nil
	}
}

func (s *Server) isRoot() bool { return s.cell.View().Role == tree.RoleRoot }

// status is a transfer's status on this node: in the chain, pending here,
// refused (remembered), or unknown.
func (s *Server) status(id Hash) (*StatusResponse, error) {
	h, i, ok, err := s.st.txPlace(id)
	if err != nil {
		return nil, err
	}
	s.mu.RLock()
	top := s.head.Height
	s.mu.RUnlock()
	if ok && h <= top { // a block being applied shows once the accounts do
		return &StatusResponse{ID: id, Status: StatusApplied, Height: h, Index: i}, nil
	}
	if s.pend.has(id) {
		return &StatusResponse{ID: id, Status: StatusPending}, nil
	}
	if reason, ok := s.rej.get(id); ok {
		return &StatusResponse{ID: id, Status: StatusRejected, Reason: reason}, nil
	}
	return &StatusResponse{ID: id, Status: StatusUnknown}, nil
}

func (s *Server) reject(id Hash, reason string) *StatusResponse {
	s.rej.add(id, reason)
	return &StatusResponse{ID: id, Status: StatusRejected, Reason: reason}
}

// admit takes a transfer (already through check) into the pool: a known
// one answers its status; a bad signature or a seq the account has passed
// is refused; a seq too far ahead or a full pool is ErrBusy.
func (s *Server) admit(t *Transfer) (*StatusResponse, error) {
	id := t.ID()
	st, err := s.status(id)
	if err != nil || st.Status != StatusUnknown {
		return st, err
	}
	if !s.sigs.has(id, t.Sig) {
		if err := verifySig(t.From[:], id, t.Sig); err != nil {
			return s.reject(id, ReasonBadSignature), nil
		}
		s.sigs.add(id, t.Sig)
	}
	s.mu.RLock()
	acct := s.live.acc[t.sender]
	s.mu.RUnlock()
	switch {
	case t.Seq <= acct.Seq: // another transfer took this seq (this one is not in the chain)
		return s.reject(id, ReasonConflict), nil
	case t.Seq > acct.Seq+MaxSeqAhead:
		return nil, fmt.Errorf("%w: seq %d is more than %d past the account's %d", ErrBusy, t.Seq, MaxSeqAhead, acct.Seq)
	}
	// Funds are checked when the root orders the transfer, against the
	// state it then has (a node that is behind would refuse wrongly here).
	if !s.pend.add(t, id, time.Now()) {
		return nil, fmt.Errorf("%w: too many pending transfers", ErrBusy)
	}
	kick(s.kickF)
	kick(s.kickP)
	return &StatusResponse{ID: id, Status: StatusPending}, nil
}

func kick(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

func (s *Server) handleSubmit(req *transport.Request) ([]byte, error) {
	m, err := DecodeSubmitRequest(req.Body)
	if err != nil {
		return nil, err
	}
	st, err := s.admit(m.Transfer)
	if err != nil {
		return nil, err
	}
	return Encode(st)
}

func (s *Server) handleStatus(req *transport.Request) ([]byte, error) {
	m, err := DecodeStatusRequest(req.Body)
	if err != nil {
		return nil, err
	}
	st, err := s.status(m.ID)
	if err != nil {
		return nil, err
	}
	return Encode(st)
}

func (s *Server) handleBalance(req *transport.Request) ([]byte, error) {
	m, err := DecodeBalanceRequest(req.Body)
	if err != nil {
		return nil, err
	}
	s.mu.RLock()
	a, h := s.live.acc[m.MUID], s.head.Height
	s.mu.RUnlock()
	return Encode(&BalanceResponse{MUID: m.MUID, Balance: a.Balance, Seq: a.Seq, Height: h})
}

func (s *Server) handleHistory(req *transport.Request) ([]byte, error) {
	m, err := DecodeHistoryRequest(req.Body)
	if err != nil {
		return nil, err
	}
	limit := m.Limit
	if limit == 0 {
		limit = MaxHistoryPage
	}
	es, more, err := s.st.history(m.MUID, m.Before, limit)
	if err != nil {
		return nil, err
	}
	if es == nil {
		es = []*HistoryEntry{}
	}
	return Encode(&HistoryResponse{MUID: m.MUID, Entries: es, More: more})
}

func (s *Server) handleState(req *transport.Request) ([]byte, error) {
	if _, err := DecodeStateRequest(req.Body); err != nil {
		return nil, err
	}
	h := s.Head()
	return Encode(&h)
}

func (s *Server) handleForward(req *transport.Request) ([]byte, error) {
	m, err := DecodeForwardRequest(req.Body)
	if err != nil {
		return nil, err
	}
	out := &ForwardResponse{Results: make([]*StatusResponse, len(m.Transfers))}
	for i, t := range m.Transfers {
		st, err := s.admit(t)
		if err != nil {
			if !errors.Is(err, ErrBusy) {
				return nil, err
			}
			st = &StatusResponse{ID: t.ID(), Status: StatusUnknown} // not taken: ask again later
		}
		out.Results[i] = st
	}
	return Encode(out)
}

func (s *Server) handleBlocks(req *transport.Request) ([]byte, error) {
	m, err := DecodeBlocksRequest(req.Body)
	if err != nil {
		return nil, err
	}
	raws, err := s.st.blocksRaw(m.From, m.Count, MaxResponse-1024)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(`{"blocks":[`)
	for i, r := range raws {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(r)
	}
	b.WriteString(`]}`)
	return b.Bytes(), nil
}

func (s *Server) handleHashes(req *transport.Request) ([]byte, error) {
	m, err := DecodeHashesRequest(req.Body)
	if err != nil {
		return nil, err
	}
	hs, err := s.st.hashes(m.From, m.Count)
	if err != nil {
		return nil, err
	}
	if hs == nil {
		hs = []Hash{}
	}
	return Encode(&HashesResponse{From: m.From, Hashes: hs})
}

// onDeliver queues block broadcasts for the run loop (it runs on the
// cell's event loop: no work here).
func (s *Server) onDeliver(d tree.Deliver) {
	if !bytes.HasPrefix(d.Payload, []byte(BlockPrefix)) && !bytes.HasPrefix(d.Payload, []byte(TipPrefix)) {
		return
	}
	select {
	case s.intake <- intakeMsg{origin: d.Origin, payload: d.Payload}:
	default:
		s.stats.dropped.Add(1)
	}
}

// peerOf returns how to reach node id.
func (s *Server) peerOf(id transport.NodeID) transport.Peer {
	if m, ok := s.roster.Lookup(string(id)); ok {
		return m.Peer()
	}
	if v := s.cell.View(); transport.NodeID(v.Root.ID) == id {
		return transport.Peer{ID: id, Addr: v.Root.Addr}
	}
	return transport.Peer{ID: id}
}

// forwarder sends pending transfers to the root while this node is not
// the root, and sweeps the pool.
func (s *Server) forwarder() {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.forwardEvery)
	defer t.Stop()
	lastSweep := time.Now()
	var lastRoot transport.NodeID
	var lastFull time.Time
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		case <-s.kickF:
			// let a burst of submissions gather into one forward
			select {
			case <-s.ctx.Done():
				return
			case <-time.After(forwardGather):
			}
		}
		if time.Since(lastSweep) > time.Second {
			s.sweep()
			lastSweep = time.Now()
		}
		v := s.cell.View()
		if v.Role == tree.RoleRoot || v.Pos == 0 || v.Root.ID == "" || transport.NodeID(v.Root.ID) == s.self {
			continue
		}
		root := transport.Peer{ID: transport.NodeID(v.Root.ID), Addr: v.Root.Addr}
		full := root.ID != lastRoot || time.Since(lastFull) >= s.cfg.ResendAfter/4
		if full {
			lastRoot, lastFull = root.ID, time.Now()
		}
		for s.ctx.Err() == nil {
			batch := s.pend.due(root.ID, time.Now(), s.cfg.ResendAfter, MaxForwardBatch, full)
			if len(batch) == 0 {
				break
			}
			s.forward(root, batch)
			if len(batch) < MaxForwardBatch {
				break
			}
			full = false
		}
	}
}

func (s *Server) forward(root transport.Peer, batch []*Transfer) {
	ids := make([]Hash, len(batch))
	for i, t := range batch {
		ids[i] = t.ID()
	}
	ctx, cancel := context.WithTimeout(s.ctx, requestTimeout)
	defer cancel()
	b, err := s.tr.Request(ctx, root, TypeForward, mustJSON(&ForwardRequest{Transfers: batch}))
	var resp *ForwardResponse
	if err == nil {
		resp, err = DecodeForwardResponse(b)
	}
	if err == nil && len(resp.Results) != len(batch) {
		err = fmt.Errorf("%w: %d results for %d transfers", ErrBadResponse, len(resp.Results), len(batch))
	}
	if err != nil {
		s.log.Debug("forward to the root failed", "root", root.ID.Short(), "err", err)
		s.pend.retry(ids, time.Now().Add(250*time.Millisecond), s.cfg.ResendAfter)
		return
	}
	var again []Hash
	for i, r := range resp.Results {
		if r.ID != ids[i] {
			again = append(again, ids[i])
			continue
		}
		switch r.Status {
		case StatusRejected:
			s.pend.remove(ids[i])
			s.rej.add(ids[i], r.Reason)
		case StatusUnknown:
			again = append(again, ids[i])
		}
	}
	if len(again) > 0 {
		s.pend.retry(again, time.Now().Add(250*time.Millisecond), s.cfg.ResendAfter)
	}
}

// sweep drops expired transfers and those whose seq the chain passed.
func (s *Server) sweep() {
	ttl := s.cfg.PendingTTL
	if !s.isRoot() {
		ttl *= 2
	}
	s.mu.RLock()
	expired, passed := s.pend.sweep(time.Now(), ttl, func(m string) uint64 { return s.live.acc[m].Seq })
	s.mu.RUnlock()
	for _, pt := range expired {
		s.rej.add(pt.id, ReasonExpired)
	}
	for _, pt := range passed {
		if _, _, ok, _ := s.st.txPlace(pt.id); !ok {
			s.rej.add(pt.id, ReasonConflict)
		}
	}
}
