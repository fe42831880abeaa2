package conduit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/borgios/borghui/cells/crono"
	"github.com/borgios/borghui/cells/ftree"
	"github.com/borgios/borghui/cells/ledger"
	"github.com/borgios/borghui/cells/mail"
	"github.com/borgios/borghui/cells/shard"
	"github.com/borgios/borghui/conduit/drive"
	"github.com/borgios/borghui/conduit/files"
	"github.com/borgios/borghui/failover"
	"github.com/borgios/borghui/internal/dirs"
	"github.com/borgios/borghui/peer/transport"
	"github.com/borgios/borghui/wallet"
)

// EndpointsFile is the name of the saved endpoint lists in the data
// folder (see failover.Save).
const EndpointsFile = "endpoints.json"

// Endpoints are the receptors of each cell type the conduit may use, by
// cell name (shardTreeCell, ftreeFileMgrCell, peerPaysCell, mailTreeCell,
// cronoTreeCell).
type Endpoints map[string][]failover.Endpoint

// lists makes a failover list of each cell's endpoints (as saved on the
// stick and probed while a session runs).
func (eps Endpoints) lists() map[string]*failover.List {
	out := make(map[string]*failover.List, len(eps))
	for cell, es := range eps {
		out[cell] = failover.New(failover.Config{Cell: cell}, es)
	}
	return out
}

// Session is what an unlocked person has on the network: their files,
// mail, wallet and network time, as the UI uses them.
type Session struct {
	Drive  *drive.Drive
	Files  *files.Service
	Mail   *mail.Account
	Wallet *Wallet
	Clock  *crono.Clock

	shards    *ShardStore
	roots     *FtreeRoots
	pool      *mail.Pool
	mailNet   *mail.Multi
	crono     []*transport.Client
	key       *wallet.Identity
	lists     map[string]*failover.List // by cell: probed, shown on the Network page
	published bool                      // the mail card went out this session
	journals  string                    // upload journals on the stick ("" = none)
}

// SessionOptions configures Connect.
type SessionOptions struct {
	// Dir is the data folder on the stick: mail keeps its prekeys,
	// mailbox and outbox below it, and the endpoints are saved there.
	Dir string
	// Nick goes on the mail card.
	Nick string
	// Replicas is R for shards (default 3).
	Replicas int
	// OnSwitch is told when a wallet call moves to another endpoint.
	OnSwitch func(from, to failover.Endpoint, why error)
	// Unsaved leaves the endpoints off the stick (the conduit's own solo
	// node, which is not a network to come back to).
	Unsaved bool
	// Poll is how often the outbox asks the cells whether sent mail was
	// delivered (0: the mail package's default, 30 s).
	Poll time.Duration
	// NoMail leaves the mail account closed (Mail is nil): a session that
	// is only read from, while another one owns the mail folder.
	NoMail bool
}

// Connect opens the unlocked person's session over eps: the shard and
// ftree cells for the drive (loaded), the mail cells for the mail account,
// the ledger cells for the wallet, the crono cells for network time
// (synced once; a failure leaves the host clock). Every cell type is
// needed but crono. The endpoints are saved on the stick for next time.
func (c *Conduit) Connect(ctx context.Context, eps Endpoints, o SessionOptions) (*Session, error) {
	id, err := c.Signer()
	if err != nil {
		return nil, err
	}
	if o.Replicas <= 0 {
		o.Replicas = shard.DefaultReplicas
	}
	s := &Session{key: id}
	if o.Dir != "" {
		s.journals = filepath.Join(o.Dir, "journals")
	}
	fail := func(err error) (*Session, error) {
		s.Close()
		return nil, err
	}
	addrs := func(cell string) []string {
		var out []string
		for _, e := range eps[cell] {
			out = append(out, e.Addr)
		}
		return out
	}
	if s.shards, err = DialShards(ctx, id, addrs(shard.CellName), o.Replicas); err != nil {
		return fail(err)
	}
	if s.roots, err = DialFtree(ctx, id, addrs(ftree.CellName)); err != nil {
		return fail(err)
	}
	s.Files = &files.Service{Store: s.shards, Keys: id}
	s.Drive = drive.New(drive.Config{Files: s.Files, Roots: s.roots, Release: s.shards, Owner: id, Now: c.cfg.Now})
	if err := s.Drive.Load(ctx); err != nil {
		return fail(err)
	}
	if !o.NoMail {
		if s.Mail, s.pool, s.mailNet, err = openMail(ctx, id, addrs(mail.CellName), filepath.Join(o.Dir, "mail"), resolveNick(filepath.Join(o.Dir, "mail"), o.Nick, id.MUID()), o.Poll); err != nil {
			return fail(err)
		}
	}
	if s.Wallet, err = NewWallet(id, eps[ledger.CellName], WalletOptions{OnSwitch: o.OnSwitch, Clock: c.cfg.Now}); err != nil {
		return fail(err)
	}
	var callers []crono.Caller
	for _, a := range addrs(crono.CellName) {
		if tc, err := transport.Dial(ctx, a, transport.ClientConfig{Key: id}); err == nil {
			s.crono = append(s.crono, tc)
			callers = append(callers, crono.ReceptorCaller{C: tc})
		}
	}
	s.Clock = crono.NewClock(callers, c.cfg.Now)
	if len(callers) > 0 {
		if err := s.Clock.Sync(ctx); err != nil {
			c.log.Warn("network time not synced; using this computer's clock", "err", err)
		}
	}
	s.lists = eps.lists()
	if err := dirs.MkdirAll(o.Dir, 0o700); err == nil && !o.Unsaved {
		if err := failover.Save(filepath.Join(o.Dir, EndpointsFile), s.lists); err != nil {
			c.log.Warn("endpoints not saved", "err", err)
		}
	}
	return s, nil
}

// resolveNick is the nickname for the mail card: the one given (kept in
// dir/nick for next time, where `borghui mail` keeps it too), else the one
// kept, else "borg-" and the start of the address, which the person can
// change later.
func resolveNick(dir, given, muid string) string {
	path := filepath.Join(dir, "nick")
	if given != "" {
		if err := dirs.MkdirAll(dir, 0o700); err == nil {
			// Removed, not overwritten: some FAT drivers lose data when a
			// file is reopened and written past its end.
			_ = os.Remove(path)
			_ = os.WriteFile(path, []byte(given+"\n"), 0o600)
		}
		return given
	}
	if b, err := os.ReadFile(path); err == nil {
		if n := strings.TrimSpace(string(b)); mail.CheckNick(n) == nil {
			return n
		}
	}
	return "borg-" + muid[1:min(7, len(muid))]
}

// openMail opens the mail account over the mail cells found through the
// first receptor that answers; its outbox asks for delivery states every
// poll.
func openMail(ctx context.Context, id *wallet.Identity, receptors []string, dir, nick string, poll time.Duration) (*mail.Account, *mail.Pool, *mail.Multi, error) {
	var errs []error
	for _, a := range receptors {
		members, replicas, err := mail.Discover(ctx, id, a)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		pool := mail.NewPool(id)
		net := mail.NewMulti(pool.Dial, members, replicas)
		acct, err := mail.OpenAccount(mail.AccountConfig{Identity: id, Dir: dir, Net: net, Nick: nick,
			Outbox: mail.OutboxConfig{StatusEvery: poll}})
		if err != nil {
			pool.Close()
			return nil, nil, nil, err
		}
		return acct, pool, net, nil
	}
	return nil, nil, nil, fmt.Errorf("conduit: no mail cell answered: %w", errors.Join(errs...))
}

// Close ends the session's connections and closes the mail account.
func (s *Session) Close() {
	s.closeMail()
	if s.Wallet != nil {
		s.Wallet.Close()
	}
	if s.roots != nil {
		s.roots.Close()
	}
	if s.shards != nil {
		s.shards.Close()
	}
	for _, c := range s.crono {
		c.Close()
	}
}

// closeMail closes the mail account and its connections, leaving the
// mail folder to another session.
func (s *Session) closeMail() {
	if s.Mail != nil {
		s.Mail.Close()
	}
	if s.pool != nil {
		s.pool.Close()
	}
	s.Mail, s.pool, s.mailNet = nil, nil, nil
}

// Link returns a borg://cap/ link to a file of the drive: whoever holds it
// can read that file (and nothing else).
func (s *Session) Link(id drive.EntryID) (string, error) {
	e, err := s.Drive.Get(id)
	if err != nil {
		return "", err
	}
	if e.Folder {
		return "", fmt.Errorf("conduit: link to %q: %w", e.Name, drive.ErrIsFolder)
	}
	key, err := files.FileKey(s.Files.Keys, files.ID(e.File))
	if err != nil {
		return "", err
	}
	defer key.Wipe()
	c := &ftree.Capability{Manifest: ftree.Hash(e.Manifest), Key: key[:], Size: uint64(e.Size), Name: e.Name}
	return ftree.EncodeLink(c)
}

// OpenLink opens the file a borg://cap/ link names: its manifest (name,
// size, type) and a reader of its bytes. Closing the reader wipes the
// link's key, which the reader needs until then.
func (s *Session) OpenLink(ctx context.Context, link string) (*files.Manifest, *LinkReader, error) {
	c, err := ftree.ParseLink(link)
	if err != nil {
		return nil, nil, err
	}
	defer c.Wipe()
	if c.Folder {
		return nil, nil, fmt.Errorf("conduit: open link: %w", drive.ErrIsFolder)
	}
	key := new(files.Key)
	copy(key[:], c.Key)
	m, r, err := s.Files.Open(ctx, files.ID(c.Manifest), key)
	if err != nil {
		key.Wipe()
		return nil, nil, err
	}
	return m, &LinkReader{Reader: r, key: key}, nil
}

// LinkReader reads a file opened through a link.
type LinkReader struct {
	*files.Reader
	key *files.Key
}

// Close ends the read and wipes the key.
func (r *LinkReader) Close() error {
	err := r.Reader.Close()
	r.key.Wipe()
	return err
}
