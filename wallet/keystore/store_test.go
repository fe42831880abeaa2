package keystore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	s, _ := created(t)
	if ok, err := s.Exists(); !ok || err != nil {
		t.Fatalf("Exists = %v, %v", ok, err)
	}
	m, err := s.ReadMeta()
	if err != nil || !m.equal(testMeta) {
		t.Fatalf("ReadMeta = %+v, %v", m, err)
	}
	p, m, err := s.Open(testPass)
	if err != nil || !bytes.Equal(p, testPayload) || !m.equal(testMeta) {
		t.Fatalf("Open = %q, %+v, %v", p, m, err)
	}
	if got := keys(snapshot(t, s.Dir)); len(got) != 2 || got[1] != FileName {
		t.Errorf("folder holds %v, want only %s", got, FileName)
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(s.path())
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("mode = %v, %v; want 0600", fi.Mode().Perm(), err)
		}
	}
}

func TestCreatedIsNormalised(t *testing.T) {
	s := newStore(t)
	before := time.Now()
	m := testMeta
	m.Created = time.Time{}
	if err := s.Create(testPayload, testPass, m); err != nil {
		t.Fatal(err)
	}
	got, err := s.ReadMeta()
	if err != nil || got.Created.Location() != time.UTC || got.Created.Before(before.Add(-time.Second)) {
		t.Fatalf("zero Created read back as %v, %v", got.Created, err)
	}
	s2 := newStore(t)
	m.Created = time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("CET", 3600))
	if err := s2.Create(testPayload, testPass, m); err != nil {
		t.Fatal(err)
	}
	if got, _ := s2.ReadMeta(); !got.Created.Equal(m.Created) || got.Created.Location() != time.UTC {
		t.Fatalf("Created = %v, want %v in UTC", got.Created, m.Created)
	}
}

// TestOpenErrors: every damaged or foreign file gives the clear error from
// both ReadMeta and Open, no payload, and leaves the folder byte-identical.
func TestOpenErrors(t *testing.T) {
	valid := validFile(t)
	l := layoutOf(valid)
	rng := rand.New(rand.NewPCG(1, 2))
	randomBytes := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.UintN(256))
		}
		return b
	}
	newer := bytes.Clone(valid)
	binary.BigEndian.PutUint16(newer[l.version:], 2)
	newerOther := append([]byte(magic+"\x00\x07"), bytes.Repeat([]byte{0xab}, 300)...)
	newerOther = resum(append(newerOther, make([]byte, checksumSize)...))

	type tc struct {
		name    string
		file    []byte
		pass    []byte
		metaErr error // nil: ReadMeta succeeds
		openErr error
	}
	cases := []tc{
		{name: "wrong passphrase", file: valid, pass: otherPass, openErr: ErrWrongPassphrase},
		{name: "empty passphrase", file: valid, pass: []byte{}, openErr: ErrWrongPassphrase},
		{name: "foreign json", file: []byte(`{"address":"d1b2","crypto":{"cipher":"aes-128-ctr","kdf":"scrypt"},"version":3}`), metaErr: ErrForeign, openErr: ErrForeign},
		{name: "foreign text", file: []byte("hello, this is not a keystore\n"), metaErr: ErrForeign, openErr: ErrForeign},
		{name: "foreign png", file: append([]byte("\x89PNG\r\n\x1a\n"), randomBytes(100)...), metaErr: ErrForeign, openErr: ErrForeign},
		{name: "newer version", file: resum(newer), metaErr: ErrUnsupportedVersion, openErr: ErrUnsupportedVersion},
		{name: "newer version, other layout", file: newerOther, metaErr: ErrUnsupportedVersion, openErr: ErrUnsupportedVersion},
	}
	for _, n := range []int{16, 200, 5000, maxFileSize + 10} {
		cases = append(cases, tc{name: "random " + strconv.Itoa(n), file: randomBytes(n), metaErr: ErrForeign, openErr: ErrForeign})
	}
	for _, n := range []int{0, 1, 4, 7, 8, 9, 13, 14, 20, l.salt + 3, l.ct, l.ct + 5, l.sum, l.sum + 1, len(valid) - 1} {
		cases = append(cases, tc{name: "truncated to " + strconv.Itoa(n), file: valid[:n], metaErr: ErrCorrupt, openErr: ErrCorrupt})
	}
	cases = append(cases, tc{name: "extra byte appended", file: append(bytes.Clone(valid), 0), metaErr: ErrCorrupt, openErr: ErrCorrupt})
	flips := []struct {
		region string
		at     int
	}{
		{"magic first", 0}, {"magic middle", 4}, {"magic last", 7},
		{"version", l.version + 1}, {"header length", l.hdrLen + 3},
		{"kdf id", l.kdf}, {"time", l.time + 3}, {"memory", l.memory + 1}, {"threads", l.threads},
		{"salt length", l.saltLen}, {"salt first", l.salt}, {"salt last", l.check - 1},
		{"check value", l.check + 7}, {"aead id", l.aead}, {"nonce first", l.nonce}, {"nonce last", l.created - 1},
		{"created", l.created + 5}, {"muid length", l.muidLen + 1}, {"muid", l.muid + 2},
		{"ciphertext length", l.ctLen + 3}, {"ciphertext first", l.ct}, {"ciphertext middle", l.ct + l.ctN/2},
		{"tag last", l.sum - 1}, {"checksum first", l.sum}, {"checksum last", len(valid) - 1},
	}
	for _, f := range flips {
		cases = append(cases, tc{name: "flipped " + f.region, file: flip(valid, f.at), metaErr: ErrCorrupt, openErr: ErrCorrupt})
	}

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newStore(t)
			if err := os.WriteFile(s.path(), c.file, 0o600); err != nil {
				t.Fatal(err)
			}
			before := snapshot(t, s.Dir)
			_, err := s.ReadMeta()
			if c.metaErr == nil && err != nil || c.metaErr != nil && !errors.Is(err, c.metaErr) {
				t.Errorf("ReadMeta error = %v, want %v", err, c.metaErr)
			}
			pass := c.pass
			if pass == nil {
				pass = testPass
			}
			p, m, err := s.Open(pass)
			if !errors.Is(err, c.openErr) || p != nil || m != (Meta{}) {
				t.Errorf("Open = %q, %+v, %v; want error %v", p, m, err, c.openErr)
			}
			if err != nil {
				checkUserMessage(t, err)
			}
			if ok, err := s.Exists(); !ok || err != nil {
				t.Errorf("Exists = %v, %v", ok, err)
			}
			assertSnapshot(t, s.Dir, before)
		})
	}
}

// TestTamperedHeader: edits with a recomputed checksum pass ReadMeta (it
// cannot tell without the key) but never open: the header is AEAD data.
func TestTamperedHeader(t *testing.T) {
	valid := validFile(t)
	l := layoutOf(valid)
	cases := []struct {
		name string
		at   int
		want error
	}{
		{"muid", l.muid, ErrCorrupt},
		{"created", l.created + 7, ErrCorrupt},
		{"nonce", l.nonce + 3, ErrCorrupt},
		{"ciphertext", l.ct + 1, ErrCorrupt},
		{"tag", l.sum - 1, ErrCorrupt},
		{"salt", l.salt + 1, ErrWrongPassphrase},
		{"check value", l.check, ErrWrongPassphrase},
		{"time cost", l.time + 3, ErrWrongPassphrase},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := bytes.Clone(valid)
			b[c.at] ^= 0x01 // a plausible edit, e.g. "muid-7f3a" → "luid-7f3a"
			b = resum(b)
			if c.name == "time cost" {
				b = withParams(valid, Params{Time: 2, MemoryKiB: TestParams.MemoryKiB, Threads: 1})
			}
			s := newStore(t)
			if err := os.WriteFile(s.path(), b, 0o600); err != nil {
				t.Fatal(err)
			}
			before := snapshot(t, s.Dir)
			if _, err := s.ReadMeta(); err != nil {
				t.Errorf("ReadMeta: %v", err)
			}
			p, _, err := s.Open(testPass)
			if !errors.Is(err, c.want) || p != nil {
				t.Errorf("Open = %q, %v; want %v", p, err, c.want)
			}
			assertSnapshot(t, s.Dir, before)
		})
	}
}

// TestAbsurdParams: costs outside the caps are ErrCorrupt before any
// Argon2id memory is allocated.
func TestAbsurdParams(t *testing.T) {
	valid := validFile(t)
	cases := []struct {
		name string
		p    Params
	}{
		{"100 GiB memory", Params{Time: 1, MemoryKiB: 100 << 20, Threads: 1}},
		{"max uint32 memory", Params{Time: 1, MemoryKiB: ^uint32(0), Threads: 4}},
		{"2 GiB memory", Params{Time: 1, MemoryKiB: 2 << 20, Threads: 4}},
		{"billion passes", Params{Time: 1 << 30, MemoryKiB: 64, Threads: 1}},
		{"255 threads", Params{Time: 1, MemoryKiB: 1 << 20, Threads: 255}},
		{"work above cap", Params{Time: 16, MemoryKiB: 1 << 20, Threads: 4}},
		{"zero time", Params{Time: 0, MemoryKiB: 64, Threads: 1}},
		{"zero threads", Params{Time: 1, MemoryKiB: 64, Threads: 0}},
		{"memory below 8 per lane", Params{Time: 1, MemoryKiB: 8, Threads: 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newStore(t)
			if err := os.WriteFile(s.path(), withParams(valid, c.p), 0o600); err != nil {
				t.Fatal(err)
			}
			before := snapshot(t, s.Dir)
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			_, errMeta := s.ReadMeta()
			p, _, errOpen := s.Open(testPass)
			runtime.ReadMemStats(&m1)
			if !errors.Is(errMeta, ErrCorrupt) || !errors.Is(errOpen, ErrCorrupt) || p != nil {
				t.Errorf("ReadMeta: %v; Open: %v; want ErrCorrupt", errMeta, errOpen)
			}
			if d := m1.TotalAlloc - m0.TotalAlloc; d > 1<<20 {
				t.Errorf("allocated %d bytes rejecting the file", d)
			}
			assertSnapshot(t, s.Dir, before)
		})
	}
}

func TestParamsValidate(t *testing.T) {
	for _, p := range []Params{DefaultParams, TestParams, {Time: MaxTime, MemoryKiB: MaxWork / MaxTime, Threads: MaxThreads}} {
		if err := p.Validate(); err != nil {
			t.Errorf("%+v: %v", p, err)
		}
	}
	for _, p := range []Params{{}, {Time: 1, MemoryKiB: MaxMemoryKiB + 1, Threads: 1}, {Time: MaxTime + 1, MemoryKiB: 64, Threads: 1}, {Time: 1, MemoryKiB: 1024, Threads: MaxThreads + 1}} {
		if err := p.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: %v, want ErrInvalid", p, err)
		}
	}
	// A Store with absurd Params refuses to write, and writes nothing.
	s := &Store{Dir: t.TempDir(), Params: Params{Time: 1, MemoryKiB: 100 << 20, Threads: 1}}
	if err := s.Create(testPayload, testPass, testMeta); !errors.Is(err, ErrInvalid) {
		t.Errorf("Create with absurd Params: %v", err)
	}
	assertSnapshot(t, s.Dir, map[string]string{".": "<dir>"})
	if (&Store{}).params() != DefaultParams {
		t.Error("zero Params is not DefaultParams")
	}
}

func TestNotFound(t *testing.T) {
	s := newStore(t)
	before := snapshot(t, s.Dir)
	if ok, err := s.Exists(); ok || err != nil {
		t.Errorf("Exists = %v, %v", ok, err)
	}
	if _, err := s.ReadMeta(); !errors.Is(err, ErrNotFound) {
		t.Errorf("ReadMeta: %v", err)
	}
	if _, _, err := s.Open(testPass); !errors.Is(err, ErrNotFound) {
		t.Errorf("Open: %v", err)
	} else {
		checkUserMessage(t, err)
	}
	if err := s.ChangePassphrase(testPass, otherPass); !errors.Is(err, ErrNotFound) {
		t.Errorf("ChangePassphrase: %v", err)
	}
	assertSnapshot(t, s.Dir, before)
}

// TestMissingFolder: Dir does not exist → ErrNoDataFolder from every call,
// and nothing is created (neither Dir nor anything beside it).
func TestMissingFolder(t *testing.T) {
	parent := t.TempDir()
	s := &Store{Dir: filepath.Join(parent, "BorgData"), Params: TestParams}
	cwd, _ := os.Getwd()
	cwdBefore := snapshot(t, cwd)
	calls := map[string]func() error{
		"Exists":           func() error { _, err := s.Exists(); return err },
		"ReadMeta":         func() error { _, err := s.ReadMeta(); return err },
		"Open":             func() error { _, _, err := s.Open(testPass); return err },
		"Create":           func() error { return s.Create(testPayload, testPass, testMeta) },
		"Replace":          func() error { _, err := s.Replace(testPayload, testPass, testMeta); return err },
		"ChangePassphrase": func() error { return s.ChangePassphrase(testPass, otherPass) },
	}
	for name, call := range calls {
		err := call()
		if !errors.Is(err, ErrNoDataFolder) || !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: %v, want ErrNoDataFolder wrapping fs.ErrNotExist", name, err)
		} else {
			checkUserMessage(t, err)
		}
	}
	assertSnapshot(t, parent, map[string]string{".": "<dir>"})
	assertSnapshot(t, cwd, cwdBefore)

	// A file where the folder should be is also "no data folder".
	file := filepath.Join(parent, "notadir")
	os.WriteFile(file, []byte("x"), 0o600)
	if _, err := (&Store{Dir: file}).Exists(); !errors.Is(err, ErrNoDataFolder) {
		t.Errorf("Dir is a file: %v", err)
	}
	if err := (&Store{}).Create(testPayload, testPass, testMeta); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty Dir: %v", err)
	}
}

func TestInvalidArguments(t *testing.T) {
	s := newStore(t)
	long := strings.Repeat("m", MaxMetaField+1)
	cases := []struct {
		name          string
		payload, pass []byte
		meta          Meta
	}{
		{"empty payload", nil, testPass, testMeta},
		{"payload too large", make([]byte, MaxPayloadSize+1), testPass, testMeta},
		{"empty passphrase", testPayload, []byte{}, testMeta},
		{"muid not utf-8", testPayload, testPass, Meta{MUID: "\xff\xfe"}},
		{"kind too long", testPayload, testPass, Meta{Kind: long}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := s.Create(c.payload, c.pass, c.meta); !errors.Is(err, ErrInvalid) {
				t.Errorf("Create: %v", err)
			}
			if _, err := s.Replace(c.payload, c.pass, c.meta); !errors.Is(err, ErrInvalid) {
				t.Errorf("Replace: %v", err)
			}
			assertSnapshot(t, s.Dir, map[string]string{".": "<dir>"})
		})
	}
	if err := s.Create(make([]byte, MaxPayloadSize), testPass, testMeta); err != nil {
		t.Errorf("largest payload: %v", err)
	}
	if err := s.ChangePassphrase(testPass, nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("ChangePassphrase to empty: %v", err)
	}
}

// TestCreateOverExisting: Create never overwrites anything.
func TestCreateOverExisting(t *testing.T) {
	valid := validFile(t)
	for name, content := range map[string][]byte{
		"valid":   valid,
		"damaged": valid[:50],
		"foreign": []byte(`{"hello":"world"}`),
		"empty":   {},
	} {
		t.Run(name, func(t *testing.T) {
			s := newStore(t)
			os.WriteFile(s.path(), content, 0o600)
			before := snapshot(t, s.Dir)
			err := s.Create(newPayload, otherPass, newMeta)
			if !errors.Is(err, ErrExists) {
				t.Errorf("Create: %v, want ErrExists", err)
			} else {
				checkUserMessage(t, err)
			}
			assertSnapshot(t, s.Dir, before)
		})
	}
}

var backupNameRE = regexp.MustCompile(`^identity-\d{8}T\d{6}Z(-\d+)?\.keystore$`)

func TestReplace(t *testing.T) {
	s, old := created(t)
	backup, err := s.Replace(newPayload, otherPass, newMeta)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(backup) != filepath.Join(s.Dir, BackupDir) || !backupNameRE.MatchString(filepath.Base(backup)) {
		t.Errorf("backup path %q", backup)
	}
	if b, _ := os.ReadFile(backup); !bytes.Equal(b, old) {
		t.Error("backup bytes differ from the old file")
	}
	p, m, err := OpenFile(backup, testPass)
	if err != nil || !bytes.Equal(p, testPayload) || !m.equal(testMeta) {
		t.Errorf("backup opens to %q, %v", p, err)
	}
	p, m, err = s.Open(otherPass)
	if err != nil || !bytes.Equal(p, newPayload) || !m.equal(newMeta) {
		t.Errorf("new file opens to %q, %+v, %v", p, m, err)
	}
	if _, _, err := s.Open(testPass); !errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("old passphrase on new file: %v", err)
	}

	// A second backup in the same second gets its own name.
	now = func() time.Time { return time.Date(2026, 11, 21, 15, 30, 0, 0, time.UTC) }
	defer func() { now = func() time.Time { return time.Now().UTC() } }()
	b1, err1 := s.Replace(testPayload, testPass, testMeta)
	b2, err2 := s.Replace(newPayload, otherPass, newMeta)
	if err1 != nil || err2 != nil || filepath.Base(b1) != "identity-20261121T153000Z.keystore" || filepath.Base(b2) != "identity-20261121T153000Z-2.keystore" {
		t.Errorf("same-second backups: %q %v, %q %v", b1, err1, b2, err2)
	}
	for _, name := range keys(snapshot(t, s.Dir)) {
		if strings.Contains(name, ":") || strings.HasSuffix(name, tmpExt) || strings.HasSuffix(name, oldSuffix) {
			t.Errorf("unexpected name %q", name)
		}
	}
}

func TestReplaceDamagedOrMissing(t *testing.T) {
	s := newStore(t)
	if b, err := s.Replace(testPayload, testPass, testMeta); err != nil || b != "" {
		t.Fatalf("Replace on empty folder: %q, %v", b, err)
	}
	damaged := []byte("\x89BORGKS\n\x00\x01 damaged")
	os.WriteFile(s.path(), damaged, 0o600)
	b, err := s.Replace(newPayload, otherPass, newMeta)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(b); !bytes.Equal(got, damaged) {
		t.Error("backup of a damaged file is not byte-identical")
	}
	if p, _, err := s.Open(otherPass); err != nil || !bytes.Equal(p, newPayload) {
		t.Errorf("Open after replacing damaged file: %v", err)
	}
}

func TestChangePassphrase(t *testing.T) {
	s, old := created(t)
	if err := s.ChangePassphrase(testPass, otherPass); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Open(testPass); !errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("old passphrase: %v", err)
	}
	p, m, err := s.Open(otherPass)
	if err != nil || !bytes.Equal(p, testPayload) || !m.equal(testMeta) {
		t.Fatalf("new passphrase: %q, %+v, %v", p, m, err)
	}
	cur, _ := os.ReadFile(s.path())
	lo, lc := layoutOf(old), layoutOf(cur)
	if bytes.Equal(old[lo.salt:lo.check], cur[lc.salt:lc.check]) || bytes.Equal(old[lo.nonce:lo.created], cur[lc.nonce:lc.created]) {
		t.Error("salt or nonce reused")
	}
	backups, _ := os.ReadDir(filepath.Join(s.Dir, BackupDir))
	if len(backups) != 1 {
		t.Fatalf("backups: %v", backups)
	}
	if p, _, err := OpenFile(filepath.Join(s.Dir, BackupDir, backups[0].Name()), testPass); err != nil || !bytes.Equal(p, testPayload) {
		t.Errorf("backup: %v", err)
	}

	// Wrong old passphrase: error, nothing changes, no backup made.
	before := snapshot(t, s.Dir)
	if err := s.ChangePassphrase(testPass, []byte("x")); !errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("wrong old passphrase: %v", err)
	}
	assertSnapshot(t, s.Dir, before)
}

// TestConcurrentReadMeta: many readers while a writer keeps re-encrypting
// the file, with plain rename-over and with the FAT fallback; every read
// sees one whole keystore (run with -race).
func TestConcurrentReadMeta(t *testing.T) {
	t.Run("rename over", func(t *testing.T) { concurrentReadMeta(t) })
	t.Run("fat fallback", func(t *testing.T) { fatRename(t, false); concurrentReadMeta(t) })
}

func concurrentReadMeta(t *testing.T) {
	s, _ := created(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		pass := [][]byte{testPass, otherPass}
		for i := range 40 { // bounded: each change also writes a backup
			if err := s.ChangePassphrase(pass[i%2], pass[(i+1)%2]); err != nil {
				t.Errorf("ChangePassphrase: %v", err)
				return
			}
		}
	}()
	var readers sync.WaitGroup
	for range 16 {
		readers.Go(func() {
			r := &Store{Dir: s.Dir}
			for n := 0; ; n++ {
				select {
				case <-done:
					if n >= 20 {
						return
					}
				default:
				}
				m, err := r.ReadMeta()
				if err != nil || !m.equal(testMeta) {
					t.Errorf("ReadMeta = %+v, %v", m, err)
					return
				}
			}
		})
	}
	readers.Wait()
	<-done
}

func TestUserMessage(t *testing.T) {
	if UserMessage(nil) != "" {
		t.Error("nil error has a message")
	}
	cases := []struct {
		err  error
		want string
	}{
		{ErrWrongPassphrase, "passphrase does not open"},
		{ErrCorrupt, "damaged. Restore from your 24 words"},
		{ErrForeign, "not a BorgHUI identity"},
		{ErrUnsupportedVersion, "newer BorgHUI"},
		{ErrNotFound, "no identity"},
		{ErrExists, "already exists"},
		{ErrNoDataFolder, "BorgData folder is missing"},
		{ErrReadOnly, "read-only"},
		{ErrDiskFull, "full"},
		{ErrVerifyFailed, "nothing was changed"},
		{ErrInvalid, "internal error"},
		{errors.New("keystore: something else"), "could not be read or written"},
	}
	for _, c := range cases {
		wrapped := errors.Join(errors.New("context"), c.err)
		if got := UserMessage(wrapped); !strings.Contains(got, c.want) {
			t.Errorf("UserMessage(%v) = %q, want it to contain %q", c.err, got, c.want)
		}
	}
}
