package keystore

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

var (
	testPass    = []byte("correct horse battery staple")
	otherPass   = []byte("Tr0ub4dor&3")
	testPayload = []byte("opaque wallet secret: 32 bytes!!")
	newPayload  = []byte("a different opaque wallet secret")
	testMeta    = Meta{MUID: "muid-7f3a", BorgDoge: "DBorgDoge9xQ", Kind: "bip39", Created: time.Date(2026, 11, 21, 15, 30, 0, 123456789, time.UTC)}
	newMeta     = Meta{MUID: "muid-0b11", BorgDoge: "DBorgDoge7kP", Kind: "legacy", Created: time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)}
)

// newStore returns a Store in a fresh data folder using TestParams.
func newStore(t *testing.T) *Store {
	t.Helper()
	return &Store{Dir: t.TempDir(), Params: TestParams}
}

// created returns a Store holding a keystore of testPayload/testPass, and
// that file's bytes.
func created(t *testing.T) (*Store, []byte) {
	t.Helper()
	s := newStore(t)
	if err := s.Create(testPayload, testPass, testMeta); err != nil {
		t.Fatalf("Create: %v", err)
	}
	b, err := os.ReadFile(s.path())
	if err != nil {
		t.Fatal(err)
	}
	return s, b
}

// validFile returns a fresh v1 image of testPayload under testPass.
func validFile(t testing.TB) []byte {
	t.Helper()
	b, err := seal(testPayload, testPass, testMeta, TestParams)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// snapshot maps every file below dir (relative slash path) to its content,
// and every folder to "<dir>".
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			m[filepath.ToSlash(rel)] = "<dir>"
			return nil
		}
		b, err := os.ReadFile(p)
		m[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func assertSnapshot(t *testing.T, dir string, want map[string]string) {
	t.Helper()
	got := snapshot(t, dir)
	if len(got) != len(want) {
		t.Errorf("folder entries changed: got %v, want %v", keys(got), keys(want))
		return
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s changed on disk", k)
		}
	}
}

func keys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// resum recomputes the trailing checksum (a deliberate, not accidental, edit).
func resum(b []byte) []byte {
	b = bytes.Clone(b)
	sum := sha256.Sum256(b[:len(b)-checksumSize])
	copy(b[len(b)-checksumSize:], sum[:])
	return b
}

// flip returns a copy of b with the byte at i inverted.
func flip(b []byte, i int) []byte {
	b = bytes.Clone(b)
	b[i] ^= 0xff
	return b
}

// layout holds the offsets of every region of a v1 file.
type layout struct {
	version, hdrLen, kdf, time, memory, threads, saltLen, salt, check, aead,
	nonce, created, muidLen, muid, ctLen, ct, ctN, sum int
}

func layoutOf(b []byte) layout {
	var l layout
	l.version = 8
	l.hdrLen = 10
	l.kdf = 14
	l.time = 15
	l.memory = 19
	l.threads = 23
	l.saltLen = 24
	l.salt = 25
	l.check = l.salt + int(b[l.saltLen])
	l.aead = l.check + checkSize
	l.nonce = l.aead + 1
	l.created = l.nonce + nonceSize
	l.muidLen = l.created + 12
	l.muid = l.muidLen + 2
	l.ctLen = 14 + int(binary.BigEndian.Uint32(b[l.hdrLen:]))
	l.ct = l.ctLen + 4
	l.ctN = int(binary.BigEndian.Uint32(b[l.ctLen:]))
	l.sum = len(b) - checksumSize
	return l
}

// withParams returns b with the KDF cost replaced and the checksum redone.
func withParams(b []byte, p Params) []byte {
	b = bytes.Clone(b)
	l := layoutOf(b)
	binary.BigEndian.PutUint32(b[l.time:], p.Time)
	binary.BigEndian.PutUint32(b[l.memory:], p.MemoryKiB)
	b[l.threads] = p.Threads
	return resum(b)
}

// isAny reports whether err matches one of the sentinels.
func isAny(err error, targets ...error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}

// checkUserMessage asserts the person-facing text exists and leaks nothing.
func checkUserMessage(t *testing.T, err error) {
	t.Helper()
	msg := UserMessage(err)
	if msg == "" || strings.Contains(msg, string(testPass)) || strings.Contains(msg, "keystore:") || strings.ContainsAny(msg, "/\\") {
		t.Errorf("UserMessage(%v) = %q", err, msg)
	}
	if strings.Contains(err.Error(), string(testPass)) || strings.Contains(err.Error(), string(testPayload)) {
		t.Errorf("error text leaks a secret: %v", err)
	}
}
