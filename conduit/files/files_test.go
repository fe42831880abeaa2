package files

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"
	"time"
)

type fakeIdentity struct{ secret byte }

func (f fakeIdentity) DeriveKey(label string, info []byte, dst []byte) error {
	for i := range dst {
		dst[i] = f.secret ^ byte(i) ^ info[i%len(info)] ^ byte(len(label))
	}
	return nil
}

// roundTrip seals size random bytes and opens them again from the sealed
// chunks, checking every chunk against its shard ID.
func roundTrip(t *testing.T, size int64, chunkSize int) {
	t.Helper()
	plain := make([]byte, size)
	rand.Read(plain)
	file, _ := NewFileID()
	key, err := FileKey(fakeIdentity{1}, file)
	if err != nil {
		t.Fatal(err)
	}
	store := map[ID][]byte{}
	refs, err := SealStream(bytes.NewReader(plain), size, chunkSize, key, file, func(_ uint32, s []byte) error {
		store[ShardID(s)] = bytes.Clone(s)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	m := &Manifest{Version: ManifestVersion, File: HexID(file), Name: "x.bin", Size: size, ChunkSize: chunkSize, Created: time.Unix(1700000000, 0).UTC(), Chunks: refs}
	sealedM, err := SealManifest(key, m)
	if err != nil {
		t.Fatal(err)
	}
	back, err := OpenManifest(key, sealedM)
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	total := uint32(len(back.Chunks))
	for i, c := range back.Chunks {
		s := store[ID(c.ID)]
		if ShardID(s) != ID(c.ID) {
			t.Fatalf("chunk %d does not match its id", i)
		}
		if got, err = OpenChunk(got, key, file, uint32(i), total, s); err != nil {
			t.Fatalf("chunk %d: %v", i, err)
		}
	}
	if !bytes.Equal(got, plain) {
		t.Fatalf("round trip of %d bytes differs", size)
	}
}

func TestRoundTrips(t *testing.T) {
	const c = DefaultChunkSize
	for _, size := range []int64{0, 1, c - 1, c, c + 1, 3*c + 17} {
		t.Run(fmt.Sprint(size), func(t *testing.T) { roundTrip(t, size, c) })
	}
}

func TestTamperDetected(t *testing.T) {
	file, _ := NewFileID()
	other, _ := NewFileID()
	key, _ := FileKey(fakeIdentity{1}, file)
	wrong, _ := FileKey(fakeIdentity{2}, file)
	sealed, err := SealChunk(nil, key, file, 1, 3, []byte("secret chunk contents"))
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte { b := bytes.Clone(sealed); b[i] ^= 1; return b }
	tests := []struct {
		name         string
		key          *Key
		file         ID
		index, total uint32
		data         []byte
	}{
		{"flipped nonce", key, file, 1, 3, flip(0)},
		{"flipped ciphertext", key, file, 1, 3, flip(30)},
		{"flipped tag", key, file, 1, 3, flip(len(sealed) - 1)},
		{"moved to another position", key, file, 2, 3, sealed},
		{"file truncated (fewer chunks)", key, file, 1, 2, sealed},
		{"another file", key, other, 1, 3, sealed},
		{"wrong key", wrong, file, 1, 3, sealed},
		{"truncated bytes", key, file, 1, 3, sealed[:len(sealed)-5]},
		{"too short", key, file, 1, 3, sealed[:10]},
	}
	for _, tt := range tests {
		if _, err := OpenChunk(nil, tt.key, tt.file, tt.index, tt.total, tt.data); !errors.Is(err, ErrOpen) {
			t.Errorf("%s: %v, want ErrOpen", tt.name, err)
		}
	}
	if p, err := OpenChunk(nil, key, file, 1, 3, sealed); err != nil || string(p) != "secret chunk contents" {
		t.Fatalf("the untouched chunk: %q %v", p, err)
	}
}

func TestNoPlaintextInSealedBytes(t *testing.T) {
	marker := []byte("PLAINTEXT-MARKER-7f3a")
	plain := bytes.Repeat(marker, 10000)
	file, _ := NewFileID()
	key, _ := FileKey(fakeIdentity{1}, file)
	var all []byte
	refs, err := SealStream(bytes.NewReader(plain), int64(len(plain)), 64<<10, key, file, func(_ uint32, s []byte) error {
		all = append(all, s...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	m := &Manifest{Version: ManifestVersion, File: HexID(file), Name: "PLAINTEXT-MARKER-7f3a.txt", Size: int64(len(plain)), ChunkSize: 64 << 10, Chunks: refs}
	sm, err := SealManifest(key, m)
	if err != nil {
		t.Fatal(err)
	}
	all = append(all, sm...)
	if bytes.Contains(all, marker) || bytes.Contains(all, marker[:8]) {
		t.Fatal("a plaintext marker is visible in the sealed bytes")
	}
}

func TestManifestRejects(t *testing.T) {
	file, _ := NewFileID()
	key, _ := FileKey(fakeIdentity{1}, file)
	good := Manifest{Version: ManifestVersion, File: HexID(file), Size: 5, ChunkSize: 4, Chunks: []ChunkRef{{Size: 4 + Overhead}, {Size: 1 + Overhead}}}
	if _, err := SealManifest(key, &good); err != nil {
		t.Fatal(err)
	}
	bad := []func(m *Manifest){
		func(m *Manifest) { m.Version = 2 },
		func(m *Manifest) { m.ChunkSize = 0 },
		func(m *Manifest) { m.Size = 9 },
		func(m *Manifest) { m.Chunks[1].Size = 7 },
		func(m *Manifest) { m.Erasure = &Erasure{Data: 2, Parity: 1} },
	}
	for i, f := range bad {
		m := good
		m.Chunks = append([]ChunkRef(nil), good.Chunks...)
		f(&m)
		if _, err := SealManifest(key, &m); err == nil {
			t.Errorf("case %d: an inconsistent manifest was sealed", i)
		}
	}
	sealed, _ := SealManifest(key, &good)
	otherKey, _ := FileKey(fakeIdentity{1}, ID{7})
	if _, err := OpenManifest(otherKey, sealed); !errors.Is(err, ErrOpen) {
		t.Fatalf("manifest opened with another file's key: %v", err)
	}
}

func TestErasureRebuild(t *testing.T) {
	const data, parity = 4, 2
	group := make([][]byte, 3) // a short last group
	for i := range group {
		group[i] = make([]byte, 100+i*7)
		rand.Read(group[i])
	}
	par, err := Parity(group, data, parity)
	if err != nil {
		t.Fatal(err)
	}
	sizes := []int{len(group[0]), len(group[1]), len(group[2])}
	tests := []struct {
		name      string
		lostData  []int
		lostPar   []int
		wantError bool
	}{
		{"nothing lost", nil, nil, false},
		{"two data chunks lost", []int{0, 2}, nil, false},
		{"one data, one parity lost", []int{1}, []int{0}, false},
		{"three lost (more than parity)", []int{0, 1}, []int{1}, true},
	}
	for _, tt := range tests {
		chunks := make([][]byte, len(group))
		for i := range group {
			chunks[i] = append([]byte(nil), group[i]...)
		}
		ps := [][]byte{append([]byte(nil), par[0]...), append([]byte(nil), par[1]...)}
		for _, i := range tt.lostData {
			chunks[i] = nil
		}
		for _, i := range tt.lostPar {
			ps[i] = nil
		}
		err := Rebuild(chunks, sizes, ps, data)
		if tt.wantError {
			if err == nil {
				t.Errorf("%s: rebuilt from too few shards", tt.name)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		for i := range group {
			if !bytes.Equal(chunks[i], group[i]) {
				t.Fatalf("%s: chunk %d differs", tt.name, i)
			}
		}
	}
}

func TestSealStreamSizeMismatch(t *testing.T) {
	file, _ := NewFileID()
	key, _ := FileKey(fakeIdentity{1}, file)
	noop := func(uint32, []byte) error { return nil }
	if _, err := SealStream(bytes.NewReader(make([]byte, 10)), 20, 8, key, file, noop); err == nil {
		t.Fatal("a short source was accepted")
	}
	if _, err := SealStream(bytes.NewReader(make([]byte, 30)), 20, 8, key, file, noop); err == nil {
		t.Fatal("a longer source was accepted")
	}
}

func FuzzOpenChunk(f *testing.F) {
	file := ID{1}
	key := &Key{2}
	s, _ := SealChunk(nil, key, file, 0, 1, []byte("hello"))
	f.Add(s, uint32(0), uint32(1))
	f.Add([]byte{}, uint32(0), uint32(1))
	f.Fuzz(func(t *testing.T, data []byte, index, total uint32) {
		// Only the genuine chunk, at its own place, opens under this key.
		if _, err := OpenChunk(nil, key, file, index, total, data); err == nil && !(bytes.Equal(data, s) && index == 0 && total == 1) {
			t.Fatalf("forged input opened: %x at %d/%d", data, index, total)
		}
	})
}

func FuzzOpenManifest(f *testing.F) {
	file := ID{3}
	key := &Key{4}
	s, _ := SealManifest(key, &Manifest{Version: ManifestVersion, File: HexID(file), Size: 0, ChunkSize: 8, Chunks: []ChunkRef{{Size: Overhead}}})
	f.Add(s)
	f.Add([]byte("{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := OpenManifest(key, data)
		if err == nil && !bytes.Equal(data, s) {
			t.Fatalf("a forged manifest opened: %+v", m)
		}
	})
}
