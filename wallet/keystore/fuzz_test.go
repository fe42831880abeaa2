package keystore

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// fuzzLimits keeps every header the fuzzer can reach cheap to try.
var fuzzLimits = limits{time: 2, memoryKiB: 256, threads: 2, work: 512}

// fuzzSeeds adds a valid file and damaged, foreign and hostile variants;
// it returns the valid file.
func fuzzSeeds(f *testing.F) []byte {
	// Fixed salt and nonce: every fuzz worker process must build the same file.
	valid, err := sealWith(testPayload, testPass, testMeta, TestParams, bytes.Repeat([]byte{1}, saltSize), bytes.Repeat([]byte{2}, nonceSize))
	if err != nil {
		f.Fatal(err)
	}
	l := layoutOf(valid)
	newer := bytes.Clone(valid)
	binary.BigEndian.PutUint16(newer[l.version:], 2)
	seeds := [][]byte{
		valid,
		{},
		valid[:len(magic)],
		valid[:l.ct],
		valid[:len(valid)-1],
		flip(valid, l.salt),
		flip(valid, l.ct),
		resum(flip(valid, l.muid)),
		resum(newer),
		withParams(valid, Params{Time: 1, MemoryKiB: 100 << 20, Threads: 255}),
		[]byte(`{"address":"d1b2","crypto":{"kdf":"scrypt"},"version":3}`),
		[]byte(magic + "\x00\x01\x00\x00\x00\x00"),
	}
	for _, s := range seeds {
		f.Add(s, false)
		f.Add(s, true)
	}
	return valid
}

// prepare optionally recomputes the checksum so the fuzzer reaches the
// parser and the AEAD, not only the checksum test.
func prepare(data []byte, fix bool) []byte {
	if fix && len(data) >= checksumSize {
		return resum(data)
	}
	return data
}

// FuzzOpen: the decoder never panics, always returns a classified error or
// the payload, and returns a payload only for the unmodified valid file.
func FuzzOpen(f *testing.F) {
	valid := fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte, fix bool) {
		data = prepare(data, fix)
		payload, meta, err := openBytes(data, testPass, fuzzLimits)
		if err != nil {
			if payload != nil || meta != (Meta{}) {
				t.Fatalf("error %v with payload or meta", err)
			}
			if !isAny(err, ErrCorrupt, ErrForeign, ErrUnsupportedVersion, ErrWrongPassphrase) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		if !bytes.Equal(data, valid) {
			t.Fatalf("payload returned for a mutated file")
		}
		if !bytes.Equal(payload, testPayload) || !meta.equal(testMeta) {
			t.Fatalf("valid file decrypted to the wrong content")
		}
	})
}

// FuzzReadMeta: the header decoder never panics; an accepted header is
// within limits; without a recomputed checksum only the seed is accepted.
func FuzzReadMeta(f *testing.F) {
	valid := fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte, fix bool) {
		data = prepare(data, fix)
		fl, err := parse(data, fileLimits)
		if err != nil {
			if fl != nil {
				t.Fatal("error with a result")
			}
			if !isAny(err, ErrCorrupt, ErrForeign, ErrUnsupportedVersion) {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		if !fix && !bytes.Equal(data, valid) {
			t.Fatalf("mutated file accepted despite its checksum")
		}
		if fl.params.within(fileLimits) != nil || fl.meta.validate() != nil ||
			len(fl.salt) < minSaltSize || len(fl.nonce) != nonceSize || len(fl.ct) < tagSize {
			t.Fatalf("accepted header out of bounds: %+v", fl)
		}
	})
}
