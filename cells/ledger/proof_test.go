package ledger

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"testing"
	"time"
)

func TestStorageProof(t *testing.T) {
	holder := newKey(t)
	content := []byte("hello")
	shard := Hash(sha256.Sum256(content))
	c, err := NewChallenge(shard, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(append(c.Nonce[:], content...))
	if c.Answer(content) != want {
		t.Fatal("answer is not SHA-256(nonce ‖ content)")
	}
	now := time.UnixMilli(1700000000000)
	p, err := c.Prove(holder, content, now)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewChallenge(shard, nil)
	tests := []struct {
		name    string
		proof   func() *Proof
		c       Challenge
		content []byte
		err     error
	}{
		{"valid", func() *Proof { return p }, c, content, nil},
		{"another nonce", func() *Proof { return p }, other, content, ErrProof},
		{"wrong content", func() *Proof { return p }, c, []byte("hellO"), ErrProof},
		{"answer made without the content", func() *Proof {
			q, _ := c.Prove(holder, []byte("other bytes"), now)
			q.Shard, q.Size = shard, 5
			return q
		}, c, content, ErrProof},
		{"stated size wrong", func() *Proof {
			q := *p
			q.Size = 6
			return &q
		}, c, content, ErrProof},
		{"signature tampered", func() *Proof {
			q := *p
			q.Time++
			return &q
		}, c, content, ErrBadSignature},
		{"signed by someone else", func() *Proof {
			q := *p
			q.Holder, _ = PubKeyOf(newKey(t).PublicKey())
			return &q
		}, c, content, ErrBadSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.proof().Verify(tc.c, tc.content)
			if tc.err == nil && err != nil || tc.err != nil && !errors.Is(err, tc.err) {
				t.Fatalf("Verify = %v, want %v", err, tc.err)
			}
		})
	}
	raw := mustJSON(p)
	q, err := DecodeProof(raw)
	if err != nil || q.Verify(c, content) != nil || !bytes.Equal(mustJSON(q), raw) {
		t.Fatalf("proof round trip: %v", err)
	}
}

func TestComputePayouts(t *testing.T) {
	h1, h2 := newKey(t), newKey(t)
	at := func(k interface{ PublicKey() []byte }, shard byte, size uint64, ms int64) *Proof {
		pk, _ := PubKeyOf(k.PublicKey())
		return &Proof{Shard: Hash{shard}, Size: size, Holder: pk, Time: ms}
	}
	hour := int64(time.Hour / time.Millisecond)
	proofs := []*Proof{
		at(h1, 1, 1<<30, 10),       // 1 GiB, window 0
		at(h1, 1, 1<<30, 20),       // same window: not paid twice
		at(h1, 1, 1<<30, hour+5),   // window 1
		at(h1, 2, 1<<29, 30),       // half a GiB
		at(h2, 1, 1<<20, 40),       // 1 MiB: 1e6/1024 = 976.5625 → 976
		at(h2, 3, 3, 50),           // 3 bytes: below a nano-shell
		at(h2, 3, 3, 60),           // same window again
		at(h2, 4, 1, hour*1000+1),  // another 1 byte, far window
		at(h2, 5, 1<<30, 0),        // 1 GiB more
		at(h2, 5, 1<<30, 2*hour-1), // window 1 of shard 5
		at(h2, 5, 1<<30, 2*hour),   // window 2 of shard 5
	}
	got, err := ComputePayouts(proofs, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Amount{
		// h1: 1 GiB in windows 0 and 1 of shard 1, ½ GiB of shard 2: 2.5 GiB-hours at 0.001 shells
		muidOf(t, h1): 2_500_000,
		// h2: (1 MiB + 3 B + 1 B + 3 GiB) × 1 h × 10^6 / 2^30 = 3,000,976.56… → floored
		muidOf(t, h2): 3_000_976,
	}
	if len(got) != 2 {
		t.Fatalf("credits %+v", got)
	}
	for _, c := range got {
		if c.Amount != want[c.MUID] {
			t.Errorf("%s: %d, want %d", c.MUID, c.Amount, want[c.MUID])
		}
	}
	if got[0].MUID > got[1].MUID {
		t.Fatal("credits not sorted")
	}
	// the rate is a parameter: 1 shell per GiB-hour, 30-minute windows
	got, _ = ComputePayouts(proofs[:1], Shells(1), 30*time.Minute)
	if len(got) != 1 || got[0].Amount != Shells(1)/2 {
		t.Fatalf("rate/period: %+v", got)
	}
	netKey := newKey(t)
	ts, err := PayoutTransfers(netKey, append(got, Credit{MUID: muidOf(t, netKey), Amount: 5}), 7, time.Now())
	if err != nil || len(ts) != 1 || ts[0].Seq != 7 || ts[0].Amount != Shells(1)/2 || ts[0].Verify() != nil || ts[0].Memo != PayoutMemo {
		t.Fatalf("payout transfers %+v %v", ts, err)
	}
}
