package wallet

import (
	"crypto/rand"
	"errors"
	"fmt"
	"sync"

	"github.com/awnumar/memcall"
	"github.com/awnumar/memguard"
	"golang.org/x/crypto/chacha20poly1305"
)

// MemoryStatus says how secrets are held in this process.
type MemoryStatus struct {
	// Locked is true when secrets are opened only into locked (unswappable)
	// memory with guard pages.
	Locked bool
	// Reason explains, for the log and the person, why memory is not locked.
	Reason string
}

// lockProbeBytes is the locked memory the conduit needs at most at once: a
// few LockedBuffers of one page each plus memguard's coffer. Probing this
// much up front tells whether memguard would panic later.
const lockProbeBytes = 16 * 4096

var (
	memOnce   sync.Once
	memStatus MemoryStatus
	// forceUnlocked makes tests exercise the fallback.
	forceUnlocked bool
)

// PrepareMemory raises the process's locked-memory limit where the OS allows
// it and checks that secrets can be held in locked memory. It is safe to call
// more than once; the first call decides for the life of the process.
//
// When memory cannot be locked, secrets are still kept sealed under a
// process key and wiped after use, but the OS may write them to swap. The
// caller should warn the person clearly; nothing else changes.
func PrepareMemory() MemoryStatus {
	memOnce.Do(func() {
		if forceUnlocked {
			memStatus = MemoryStatus{Reason: "memory locking disabled for this test"}
			return
		}
		raiseMemlockLimit()
		if err := probeLock(lockProbeBytes); err != nil {
			memStatus = MemoryStatus{Reason: "this computer does not let BorgHUI lock memory (" + err.Error() + "); your key is still sealed, but could be written to the swap file"}
			return
		}
		memStatus = MemoryStatus{Locked: true}
	})
	return memStatus
}

func probeLock(n int) error {
	b, err := memcall.Alloc(n)
	if err != nil {
		return err
	}
	defer memcall.Free(b)
	if err := memcall.Lock(b); err != nil {
		return err
	}
	return memcall.Unlock(b)
}

// sealed is a secret at rest in memory: encrypted, never readable in place.
type sealed struct {
	enclave *memguard.Enclave // when memory locks
	box     []byte            // fallback: XChaCha20-Poly1305 under fallbackKey
	size    int
}

// opened is a secret opened for use; Destroy wipes it.
type opened struct {
	lb    *memguard.LockedBuffer
	plain []byte
}

var (
	fallbackOnce sync.Once
	fallbackKey  [chacha20poly1305.KeySize]byte
)

// seal takes ownership of b: it is wiped before seal returns.
func seal(b []byte) (*sealed, error) {
	defer clear(b)
	if len(b) == 0 {
		return nil, errors.New("wallet: empty secret")
	}
	if PrepareMemory().Locked {
		return &sealed{enclave: memguard.NewEnclave(b), size: len(b)}, nil
	}
	fallbackOnce.Do(func() {
		if _, err := rand.Read(fallbackKey[:]); err != nil {
			panic("wallet: no system randomness: " + err.Error())
		}
	})
	aead, err := chacha20poly1305.NewX(fallbackKey[:])
	if err != nil {
		return nil, fmt.Errorf("wallet: sealing: %w", err)
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(b)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("wallet: sealing: %w", err)
	}
	return &sealed{box: aead.Seal(nonce, nonce, b, nil), size: len(b)}, nil
}

// open returns the secret in locked memory (or, in the fallback, a heap copy
// that Destroy wipes).
func (s *sealed) open() (*opened, error) {
	if s == nil {
		return nil, errors.New("wallet: identity is locked")
	}
	if s.enclave != nil {
		lb, err := s.enclave.Open()
		if err != nil {
			return nil, fmt.Errorf("wallet: opening sealed secret: %w", err)
		}
		return &opened{lb: lb}, nil
	}
	if s.box == nil {
		return nil, errors.New("wallet: identity is locked")
	}
	aead, err := chacha20poly1305.NewX(fallbackKey[:])
	if err != nil {
		return nil, fmt.Errorf("wallet: opening sealed secret: %w", err)
	}
	ns := aead.NonceSize()
	plain, err := aead.Open(make([]byte, 0, s.size), s.box[:ns], s.box[ns:], nil)
	if err != nil {
		return nil, fmt.Errorf("wallet: opening sealed secret: %w", err)
	}
	return &opened{plain: plain}, nil
}

// destroy forgets the sealed secret.
func (s *sealed) destroy() {
	if s == nil {
		return
	}
	s.enclave = nil
	clear(s.box)
	s.box = nil
}

func (o *opened) bytes() []byte {
	if o.lb != nil {
		return o.lb.Bytes()
	}
	return o.plain
}

func (o *opened) destroy() {
	if o.lb != nil {
		o.lb.Destroy()
		return
	}
	clear(o.plain)
	o.plain = nil
}

// Purge wipes every secret this process holds in locked memory. Call it on
// the way out (quit, signal, stick removed); it is safe to call more than once.
func Purge() {
	memguard.Purge()
	clear(fallbackKey[:])
}
