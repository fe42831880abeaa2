package conduit

import (
	"context"
	"errors"
	"fmt"

	"github.com/borgios/borghui/cells/shard"
	"github.com/borgios/borghui/conduit/files"
	"github.com/borgios/borghui/signer"
)

// ShardStore is the Files service's store on the shard cells: rendezvous
// placement over the members, R copies per shard, failover and repair on
// read (package shard's Network), requests signed by the person's key.
type ShardStore struct {
	net  *shard.Network
	pool *shard.Pool
}

// DialShards finds the shard tree's members through the first receptor of
// receptors that answers and returns a store keeping replicas copies.
func DialShards(ctx context.Context, key signer.Key, receptors []string, replicas int) (*ShardStore, error) {
	var errs []error
	for _, addr := range receptors {
		members, err := shard.Discover(ctx, key, addr)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		pool := shard.NewPool(key)
		return &ShardStore{net: shard.NewNetwork(pool.Dial, members, replicas), pool: pool}, nil
	}
	return nil, fmt.Errorf("conduit: no shard cell answered: %w", errors.Join(errs...))
}

// Put stores sealed bytes on R holders; fewer is an error.
func (s *ShardStore) Put(ctx context.Context, id files.ID, sealed []byte) error {
	_, err := s.net.PutSum(ctx, shard.ID(id), sealed)
	return err
}

// Fetch returns a shard's bytes from whichever holder answers with the right ones.
func (s *ShardStore) Fetch(ctx context.Context, id files.ID) ([]byte, error) {
	b, _, err := s.net.Get(ctx, shard.ID(id))
	return b, err
}

// PutAt stores one copy of an erasure-coded shard on the node of slot
// p.Slot in the rendezvous order of p.Group (wrapping past the members),
// so the shards of a group land on distinct nodes while there are enough.
func (s *ShardStore) PutAt(ctx context.Context, id files.ID, sealed []byte, p files.Place) error {
	order := s.order(p)
	if len(order) == 0 {
		return fmt.Errorf("conduit: %w", shard.ErrNoHolder)
	}
	return s.net.PutOne(ctx, order[0], shard.ID(id), sealed)
}

// FetchAt reads an erasure-coded shard from its slot's node, then from the
// others in the group's order.
func (s *ShardStore) FetchAt(ctx context.Context, id files.ID, p files.Place) ([]byte, error) {
	b, _, err := s.net.GetFrom(ctx, shard.ID(id), s.order(p))
	return b, err
}

// order is the group's rendezvous order rotated to start at p's slot.
func (s *ShardStore) order(p files.Place) []shard.Member {
	ranked := s.net.Ranked(shard.ID(p.Group))
	if len(ranked) == 0 {
		return nil
	}
	k := p.Slot % len(ranked)
	return append(ranked[k:], ranked[:k]...)
}

// Delete releases the caller's reference to a shard on every node holding it.
func (s *ShardStore) Delete(ctx context.Context, id files.ID) error {
	return s.net.Delete(ctx, shard.ID(id))
}

// Close closes the store's connections.
func (s *ShardStore) Close() { s.pool.Close() }

// Members are the shard cells the store spreads over.
func (s *ShardStore) Members() []shard.Member { return s.net.Members() }

// Refresh asks the receptor at addr for the shard tree's members and, if it
// names any, spreads over them from now on (nodes that joined since the
// session opened take their share; nodes that left stop being asked).
func (s *ShardStore) Refresh(ctx context.Context, key signer.Key, addr string) error {
	ms, err := shard.Discover(ctx, key, addr)
	if err != nil {
		return err
	}
	if len(ms) > 0 {
		s.net.SetMembers(ms)
	}
	return nil
}
