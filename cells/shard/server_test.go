package shard

import (
	"bytes"
	"context"
	"errors"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/borgios/borghui/peer/transport"
)

// TestNetwork runs one 5-node tree (R = 3) through the cell's life:
// round trips, refusals, ownership, corruption and loss with repair.
func TestNetwork(t *testing.T) {
	tn := startNet(t, 5, Config{Replicas: 3, Quota: 8 << 20})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	aliceKey, bobKey := newKey(t), newKey(t)
	net := tn.network(t, aliceKey)

	t.Run("round trips on R distinct nodes", func(t *testing.T) {
		for _, n := range []int{0, 1, chunk - 1, chunk, chunk + 1, 3 * chunk} {
			blob := randBytes(t, n)
			r, err := net.Put(ctx, blob)
			if err != nil || r.Copies != 3 {
				t.Fatalf("%d bytes: put %+v, %v", n, r, err)
			}
			id := Sum(blob)
			hs := tn.holders(id)
			if len(hs) != 3 {
				t.Fatalf("%d bytes: %d holders", n, len(hs))
			}
			home := net.Ranked(id)[:3]
			for _, m := range home {
				if !slices.Contains(hs, m.ID) {
					t.Fatalf("%d bytes: home node %.8s holds no copy", n, m.ID)
				}
			}
			got, rep, err := net.Get(ctx, id)
			if err != nil || !bytes.Equal(got, blob) || rep.Copies != 3 || rep.Repaired != 0 {
				t.Fatalf("%d bytes: get %d bytes, %+v, %v", n, len(got), rep, err)
			}
		}
	})

	t.Run("wrong hash refused", func(t *testing.T) {
		blob := randBytes(t, 100)
		c := dialClient(t, tn, aliceKey, 0)
		if _, err := c.PutSum(ctx, Sum([]byte("other")), blob); !errors.Is(err, ErrHashMismatch) {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("quota", func(t *testing.T) {
		// 8 MiB per node, 3 MiB blobs: each node takes two. Replicas
		// refused by full nodes show as under-replicated puts until the
		// home node itself is full and refuses.
		key := newKey(t)
		quotaNet := tn.network(t, key)
		var err error
		for i := 0; i < 10; i++ {
			if _, err = quotaNet.Put(ctx, randBytes(t, 3*chunk)); err != nil && !errors.Is(err, ErrUnderReplicated) {
				break
			}
		}
		if !errors.Is(err, ErrQuota) {
			t.Fatalf("err = %v, want quota", err)
		}
		owner := string(transport.IDOf(key.PublicKey()))
		for _, s := range tn.servers {
			if u := s.Store().Usage(owner); u > 8<<20 {
				t.Fatalf("%.8s: usage %d over quota", s.self, u)
			}
		}
	})

	t.Run("idempotent put and two owners", func(t *testing.T) {
		blob := randBytes(t, 5000)
		id := Sum(blob)
		bobNet := tn.network(t, bobKey)
		for _, n := range []*Network{net, net, bobNet} {
			if _, err := n.Put(ctx, blob); err != nil {
				t.Fatal(err)
			}
		}
		for _, h := range tn.holders(id) {
			m, _ := tn.server(h).Store().Meta(id)
			if len(m.Owners) != 2 {
				t.Fatalf("holder %.8s: owners %d", h, len(m.Owners))
			}
		}
		// Bob deletes his reference: alice's keeps every copy.
		if err := bobNet.Delete(ctx, id); err != nil {
			t.Fatal(err)
		}
		if got, _, err := net.Get(ctx, id); err != nil || !bytes.Equal(got, blob) {
			t.Fatalf("alice's copy after bob's delete: %v", err)
		}
	})

	t.Run("delete by a non-owner refused, by the owner done", func(t *testing.T) {
		blob := randBytes(t, 2000)
		id := Sum(blob)
		if _, err := net.Put(ctx, blob); err != nil {
			t.Fatal(err)
		}
		mallory := tn.network(t, newKey(t))
		if err := mallory.Delete(ctx, id); !errors.Is(err, ErrNotOwner) {
			t.Fatalf("mallory: %v", err)
		}
		if hs := tn.holders(id); len(hs) != 3 {
			t.Fatalf("after refused delete: %d holders", len(hs))
		}
		if err := net.Delete(ctx, id); err != nil {
			t.Fatal(err)
		}
		for _, s := range tn.servers {
			if s.Store().Has(id) {
				t.Fatalf("%.8s still lists the shard", s.self)
			}
			s.Store().GC()
			if _, err := os.Stat(s.Store().blobPath(id)); !os.IsNotExist(err) {
				t.Fatalf("%.8s kept the blob after GC", s.self)
			}
		}
	})

	t.Run("corrupt copy detected, served elsewhere, repaired", func(t *testing.T) {
		blob := randBytes(t, chunk)
		id := Sum(blob)
		if _, err := net.Put(ctx, blob); err != nil {
			t.Fatal(err)
		}
		first := tn.server(net.Ranked(id)[0].ID)
		bad := bytes.Clone(blob)
		bad[0] ^= 0xff
		os.WriteFile(first.Store().blobPath(id), bad, 0o600)
		got, rep, err := net.Get(ctx, id)
		if err != nil || !bytes.Equal(got, blob) {
			t.Fatalf("get: %v", err)
		}
		if rep.Served == first.self || len(rep.Failed) != 1 || rep.Repaired != 3 {
			t.Fatalf("report %+v", rep)
		}
		if first.Store().Stats().Corrupt != 1 || !first.Store().Verify(id) {
			t.Fatal("corrupt copy not counted or not repaired")
		}
	})

	t.Run("repair after a holder's store is wiped", func(t *testing.T) {
		blob := randBytes(t, 3000)
		id := Sum(blob)
		if _, err := net.Put(ctx, blob); err != nil {
			t.Fatal(err)
		}
		lost := tn.server(net.Ranked(id)[1].ID)
		lost.wipe(t)
		if hs := tn.holders(id); len(hs) != 2 {
			t.Fatalf("%d holders after wipe", len(hs))
		}
		got, rep, err := net.Get(ctx, id)
		if err != nil || !bytes.Equal(got, blob) || rep.Copies != 2 || rep.Repaired != 3 {
			t.Fatalf("get: %+v, %v", rep, err)
		}
		if !lost.Store().Verify(id) || len(tn.holders(id)) != 3 {
			t.Fatal("the wiped holder was not restored")
		}
		m, _ := lost.Store().Meta(id)
		if len(m.Owners) != 1 {
			t.Fatal("restored copy lost its owner")
		}
	})
}

func dialClient(t *testing.T, tn *testNet, key interface {
	PublicKey() []byte
	Sign([32]byte) ([]byte, error)
}, i int) *Client {
	t.Helper()
	pool := NewPool(key)
	t.Cleanup(pool.Close)
	c, err := pool.Dial(context.Background(), tn.servers[i].Members()[0])
	if err != nil {
		t.Fatal(err)
	}
	return NewClient(c)
}
