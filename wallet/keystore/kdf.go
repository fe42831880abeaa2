package keystore

import (
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"
	"runtime/debug"

	"golang.org/x/crypto/argon2"
)

// Params is the Argon2id cost stored in every keystore file.
type Params struct {
	Time      uint32 // passes over memory
	MemoryKiB uint32 // memory in KiB
	Threads   uint8  // lanes (parallelism)
}

// DefaultParams is the cost for real identities: Argon2id t=4, m=256 MiB,
// p=4 (RFC 9106 §4 style: memory first, then passes to reach the time
// budget; 4 lanes so 4-core hosts unlock faster, 2-core hosts lose nothing).
//
// Measured on the 2-core build machine (Intel Xeon vCPU, linux/amd64,
// Go 1.26.8, shared with other jobs) with BenchmarkUnlockDefault, i.e. one
// whole Store.Open: 0.68–0.80 s/op over five runs of 10–20 ops, typically
// ≈0.72 s (best single Argon2id run 0.59 s): inside the 0.5–1 s target.
// Alternatives measured: t=3 (≈0.47 s best) was below the target floor,
// 512 MiB was rejected as too heavy for small guest PCs. Create, Replace and
// ChangePassphrase cost two to three unlocks (seal, verify, open old). The
// read-side caps below allow up to 4× this work and no more.
var DefaultParams = Params{Time: 4, MemoryKiB: 256 << 10, Threads: 4}

// TestParams is a tiny cost (64 KiB, one pass) for fast tests elsewhere.
// NEVER use it for a real identity: it makes a passphrase guess nearly free.
var TestParams = Params{Time: 1, MemoryKiB: 64, Threads: 1}

// Limits applied to Params read from a file (and to Params used to write
// one), so a hostile or damaged header cannot make us allocate or compute
// without bound. A file outside them is ErrCorrupt; the KDF is not run.
const (
	MaxTime      = 16
	MaxMemoryKiB = 1 << 20 // 1 GiB
	MaxThreads   = 16
	// MaxWork caps Time × MemoryKiB at 4× DefaultParams (≈2.5 s here).
	MaxWork = 4 * 4 * (256 << 10)
)

// limits is the set of caps a decoder enforces; tests and fuzzers use
// smaller ones so that every accepted header is cheap.
type limits struct {
	time, memoryKiB uint32
	threads         uint8
	work            uint64
}

var fileLimits = limits{time: MaxTime, memoryKiB: MaxMemoryKiB, threads: MaxThreads, work: MaxWork}

// Validate reports whether p is usable: Time ≥ 1, 1 ≤ Threads ≤ MaxThreads,
// 8×Threads ≤ MemoryKiB ≤ MaxMemoryKiB, Time ≤ MaxTime and
// Time×MemoryKiB ≤ MaxWork. The error wraps ErrInvalid.
func (p Params) Validate() error {
	if err := p.within(fileLimits); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}

// within checks p against l. The error is unwrapped; callers add the
// sentinel (ErrInvalid when writing, ErrCorrupt when reading).
func (p Params) within(l limits) error {
	switch {
	case p.Time < 1 || p.Time > l.time:
		return fmt.Errorf("argon2id time %d outside 1..%d", p.Time, l.time)
	case p.Threads < 1 || p.Threads > l.threads:
		return fmt.Errorf("argon2id threads %d outside 1..%d", p.Threads, l.threads)
	case p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > l.memoryKiB:
		return fmt.Errorf("argon2id memory %d KiB outside %d..%d", p.MemoryKiB, 8*uint32(p.Threads), l.memoryKiB)
	case uint64(p.Time)*uint64(p.MemoryKiB) > l.work:
		return fmt.Errorf("argon2id work %d×%d KiB above %d", p.Time, p.MemoryKiB, l.work)
	}
	return nil
}

// HKDF labels (info strings) separating the two uses of the Argon2id output.
const (
	labelKey   = "borghui/keystore/v1/aead-key"
	labelCheck = "borghui/keystore/v1/passphrase-check"
	masterSize = 32
	keySize    = 32
	checkSize  = 32
)

// deriveKeys runs Argon2id over passphrase and salt with p (which the caller
// has validated), then splits the output with HKDF-SHA256-Expand into the
// AEAD key and the public passphrase check value. The Argon2id output is
// wiped here; the caller wipes key.
//
// Limit: x/crypto/argon2 does not wipe its internal memory blocks, and the
// AEAD keeps its own key copy until garbage-collected.
func deriveKeys(passphrase, salt []byte, p Params) (key, check []byte, err error) {
	master := argon2.IDKey(passphrase, salt, p.Time, p.MemoryKiB, p.Threads, masterSize)
	defer clear(master)
	if p.MemoryKiB >= 8<<10 {
		// Argon2's blocks (256 MiB by default) are garbage now; without
		// this, the heap target they set keeps the idle conduit at ~550 MB
		// for two minutes after an unlock (measured: 558 → 23 MB), and the
		// passphrase-derived blocks linger in freed memory.
		debug.FreeOSMemory()
	}
	key, err = hkdf.Expand(sha256.New, master, labelKey, keySize)
	if err != nil {
		return nil, nil, fmt.Errorf("keystore: hkdf: %w", err)
	}
	check, err = hkdf.Expand(sha256.New, master, labelCheck, checkSize)
	if err != nil {
		clear(key)
		return nil, nil, fmt.Errorf("keystore: hkdf: %w", err)
	}
	return key, check, nil
}
