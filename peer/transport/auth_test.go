package transport

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestMutualAuth(t *testing.T) {
	leakCheck(t)
	a := newNode(t, nil)
	b := newNode(t, nil)
	var from NodeID
	var mu sync.Mutex
	b.Handle("who", func(_ context.Context, r *Request) ([]byte, error) {
		mu.Lock()
		from = r.From
		mu.Unlock()
		return []byte(r.Env.Recipient), nil
	})
	got, err := a.Request(ctxT(t, 5*time.Second), Peer{ID: b.ID(), Addr: b.Addr()}, "who", nil)
	if err != nil {
		t.Fatal(err)
	}
	if NodeID(got) != b.ID() || from != a.ID() {
		t.Fatalf("recipient %s from %s; want %s from %s", got, from, b.ID(), a.ID())
	}
	// B learned A's address from its card and answers on the same connection.
	if _, err := b.Request(ctxT(t, 5*time.Second), Peer{ID: a.ID()}, "who", nil); remoteCode(err) != CodeUnknownType {
		t.Fatalf("B -> A: %v, want unknown-type", err)
	}
	wantCounters(t, "a", a, map[string]uint64{CountConnOut: 1, CountConnIn: 0, CountAccepted: 2, CountUnknownType: 1})
	wantCounters(t, "b", b, map[string]uint64{CountConnOut: 0, CountConnIn: 1, CountAccepted: 2, CountRespError: 1})
}

func TestCardNotBoundToCertRefused(t *testing.T) {
	leakCheck(t)
	b := newNode(t, nil)
	key := newKey(t)
	presented, carded := mustCert(t), mustCert(t)
	now := time.Now()
	tests := []struct {
		name string
		card []byte
	}{
		{"card for another certificate", makeCard(t, key, carded, now)},
		{"expired card", func() []byte {
			return makeCard(t, key, presented, now.Add(-2*time.Hour))
		}()},
		{"garbage card", []byte(`{"addrs":[]}`)},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, h, err := dialRaw(t, b.Addr(), key, presented, tc.card)
			if err != nil {
				t.Fatal(err)
			}
			if h.kind != helloRefuse || h.purpose != refuseBadCard {
				t.Fatalf("hello %q %q, want a bad-card refusal", h.kind, h.purpose)
			}
			wantCounters(t, "b", b, map[string]uint64{CountBadCard: uint64(i + 1), CountConnIn: 0})
		})
	}
	// The same key with its own certificate is accepted.
	_, h, err := dialRaw(t, b.Addr(), key, presented, nil)
	if err != nil || h.kind != helloAccept {
		t.Fatalf("good card: %q %v", h.kind, err)
	}
	waitCounter(t, b, CountConnIn, 1)
}

func TestDialerChecksListenerCard(t *testing.T) {
	leakCheck(t)
	a := newNode(t, nil)
	b := newNode(t, nil)
	c := newNode(t, nil)
	// Dialling B's address while expecting C: B's card names B.
	err := a.Send(ctxT(t, 5*time.Second), Peer{ID: c.ID(), Addr: b.Addr()}, "x", nil)
	if !errors.Is(err, ErrBadCard) {
		t.Fatalf("Send = %v, want ErrBadCard", err)
	}
	wantCounters(t, "a", a, map[string]uint64{CountBadCard: 1, CountConnOut: 0, CountSendFailed: 1, CountUnreachable: 1})

	// A listener whose card binds another certificate.
	key := newKey(t)
	evil := newNode(t, func(cfg *Config) { cfg.Key = key })
	evil.cardMu.Lock()
	forged := makeCard(t, key, mustCert(t), time.Now())
	evil.card.Issued = time.Now().UnixMilli() // keep it from being re-signed
	evil.cardBytes = forged
	evil.cardMu.Unlock()
	err = a.Send(ctxT(t, 5*time.Second), Peer{ID: evil.ID(), Addr: evil.Addr()}, "x", nil)
	if !errors.Is(err, ErrBadCard) {
		t.Fatalf("Send = %v, want ErrBadCard", err)
	}
	wantCounters(t, "a", a, map[string]uint64{CountBadCard: 2, CountConnOut: 0})
}
