package conduit

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/borgios/borghui/wallet"
	"github.com/borgios/borghui/wallet/keystore"
)

// Config is what a Conduit needs from its host program.
type Config struct {
	// KeystoreDir is the folder on the stick that holds the keystore.
	KeystoreDir string
	// TestKDF makes new keystores with keystore.TestParams, a tiny Argon2id
	// cost for tests and devnets only. Never for a real identity.
	TestKDF bool
	// Remember, when set, stores which hosts may recall the passphrase from
	// their keyring. Nil disables the feature.
	Remember *RememberList
	// Log receives events, never secrets.
	Log *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Network, when set, opens a Session whenever the identity is
	// unlocked (see NetworkConfig). Nil: the conduit stays offline.
	Network *NetworkConfig
}

// State is where the identity on the stick stands.
type State int

const (
	// NoIdentity: the stick holds no keystore yet.
	NoIdentity State = iota
	// Locked: a keystore exists and is not opened.
	Locked
	// Unlocked: the identity is open and can sign.
	Unlocked
)

func (s State) String() string {
	switch s {
	case NoIdentity:
		return "none"
	case Locked:
		return "locked"
	case Unlocked:
		return "unlocked"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// IdentityInfo is the public face of an identity.
type IdentityInfo struct {
	MUID      string
	BorgDoge  string
	PublicKey string // uncompressed, hex
	Kind      wallet.Kind
}

// Conduit is the application core. Its methods are safe for concurrent use.
type Conduit struct {
	cfg    Config
	store  *keystore.Store
	events *Bus
	log    *slog.Logger
	net    network

	mu    sync.Mutex
	id    *wallet.Identity
	draft *draft
}

// New returns a Conduit over the keystore in cfg.KeystoreDir.
func New(cfg Config) *Conduit {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	var params keystore.Params // zero: the default cost
	if cfg.TestKDF {
		params = keystore.TestParams
	}
	return &Conduit{
		cfg:    cfg,
		store:  &keystore.Store{Dir: cfg.KeystoreDir, Params: params},
		events: NewBus(),
		log:    cfg.Log,
		net:    network{kick: make(chan struct{}, 1)},
	}
}

// Events is the conduit's event bus.
func (c *Conduit) Events() *Bus { return c.events }

// State reports whether an identity exists and whether it is unlocked.
func (c *Conduit) State() (State, error) {
	c.mu.Lock()
	unlocked := c.id != nil
	c.mu.Unlock()
	if unlocked {
		return Unlocked, nil
	}
	ok, err := c.store.Exists()
	if err != nil {
		return NoIdentity, fromKeystore(err)
	}
	if ok {
		return Locked, nil
	}
	return NoIdentity, nil
}

// Identity returns the unlocked identity's public face.
func (c *Conduit) Identity() (IdentityInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.id == nil {
		return IdentityInfo{}, ErrLocked
	}
	return infoOf(c.id), nil
}

// LockedIdentity returns the public header of the keystore on the stick, so
// the unlock page can say whose identity it is.
func (c *Conduit) LockedIdentity() (IdentityInfo, error) {
	m, err := c.store.ReadMeta()
	if err != nil {
		if errors.Is(err, keystore.ErrNotFound) {
			return IdentityInfo{}, ErrNoIdentity
		}
		return IdentityInfo{}, fromKeystore(err)
	}
	return IdentityInfo{MUID: m.MUID, BorgDoge: m.BorgDoge, Kind: wallet.Kind(m.Kind)}, nil
}

func infoOf(id *wallet.Identity) IdentityInfo {
	return IdentityInfo{MUID: id.MUID(), BorgDoge: id.BorgDoge(), PublicKey: id.PublicKeyHex(), Kind: id.Kind()}
}

// Signer returns the unlocked identity, which satisfies signer.Key.
func (c *Conduit) Signer() (*wallet.Identity, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.id == nil {
		return nil, ErrLocked
	}
	return c.id, nil
}

// Unlock opens the keystore with the passphrase (wiped by the caller).
func (c *Conduit) Unlock(passphrase []byte) error {
	payload, _, err := c.store.Open(passphrase)
	if err != nil {
		if errors.Is(err, keystore.ErrNotFound) {
			return ErrNoIdentity
		}
		c.log.Warn("unlock failed", "reason", keystore.UserMessage(err))
		return fromKeystore(err)
	}
	defer clear(payload)
	id, err := wallet.UnmarshalSecret(payload)
	if err != nil {
		return err
	}
	c.setIdentity(id)
	c.log.Info("identity unlocked", "muid", id.MUID())
	return nil
}

// Lock wipes the identity from memory. The keystore stays on the stick.
func (c *Conduit) Lock() {
	c.mu.Lock()
	id := c.id
	c.id = nil
	c.mu.Unlock()
	c.stopNetwork()
	if id != nil {
		id.Destroy()
		c.log.Info("identity locked")
		c.events.Publish(Event{Type: "identity", State: Locked.String()})
	}
}

// Close wipes every secret the conduit holds.
func (c *Conduit) Close() {
	c.Lock()
	c.mu.Lock()
	c.dropDraftLocked()
	c.mu.Unlock()
}

func (c *Conduit) setIdentity(id *wallet.Identity) {
	c.mu.Lock()
	old := c.id
	c.id = id
	c.mu.Unlock()
	if old != nil {
		c.stopNetwork()
		old.Destroy()
	}
	c.events.Publish(Event{Type: "identity", State: Unlocked.String()})
	c.startNetwork()
}

// save writes id to the keystore under passphrase: a new keystore, or, when
// replace is set, over the existing one after keeping a backup.
func (c *Conduit) save(id *wallet.Identity, passphrase []byte, replace bool) error {
	payload, err := id.MarshalSecret()
	if err != nil {
		return err
	}
	defer clear(payload)
	meta := keystore.Meta{MUID: id.MUID(), BorgDoge: id.BorgDoge(), Kind: string(id.Kind()), Created: c.cfg.Now().UTC()}
	exists, err := c.store.Exists()
	if err != nil {
		return fromKeystore(err)
	}
	if !exists {
		return fromKeystore(c.store.Create(payload, passphrase, meta))
	}
	if !replace {
		return ErrIdentityExists
	}
	backup, err := c.store.Replace(payload, passphrase, meta)
	if err != nil {
		return fromKeystore(err)
	}
	c.log.Info("identity replaced; the old keystore was kept", "backup", backup)
	return nil
}

// adopt saves a freshly derived identity and makes it the unlocked one. On
// any error the identity is wiped.
func (c *Conduit) adopt(id *wallet.Identity, passphrase, confirm []byte, replace bool) error {
	if err := checkNewPassphrase(passphrase, confirm); err != nil {
		id.Destroy()
		return err
	}
	if err := c.save(id, passphrase, replace); err != nil {
		id.Destroy()
		return err
	}
	c.setIdentity(id)
	c.log.Info("identity saved", "muid", id.MUID(), "kind", string(id.Kind()))
	return nil
}
