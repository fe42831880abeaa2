package conduit

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/borgios/borghui/cells/ftree"
	"github.com/borgios/borghui/peer/transport"
	"github.com/borgios/borghui/signer"
)

// FtreeRoots keeps a person's root record on several ftree cells (the
// drive's Roots): reads ask them all and keep the newest record that
// verifies; a write goes to all and counts when a majority took it.
// Replication is the client's job (cells/ftree doc): a cell that missed
// versions is brought forward by replaying them from the newest history.
type FtreeRoots struct {
	owner   ftree.PubKey
	clients []*ftree.Client
	conns   []*transport.Client
}

// DialFtree connects to the ftree cells at receptors (those that answer;
// none is an error) as key.
func DialFtree(ctx context.Context, key signer.Key, receptors []string) (*FtreeRoots, error) {
	owner, err := ftree.PubKeyOf(key.PublicKey())
	if err != nil {
		return nil, err
	}
	r := &FtreeRoots{owner: owner}
	var errs []error
	for _, addr := range receptors {
		tc, err := transport.Dial(ctx, addr, transport.ClientConfig{Key: key})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		r.conns = append(r.conns, tc)
		r.clients = append(r.clients, ftree.NewClient(ftree.TransportCaller{C: tc}))
	}
	if len(r.clients) == 0 {
		return nil, fmt.Errorf("conduit: no ftree cell answered: %w", errors.Join(errs...))
	}
	return r, nil
}

// Close closes the connections.
func (r *FtreeRoots) Close() {
	for _, c := range r.conns {
		c.Close()
	}
}

// each runs f on every client in parallel and returns their errors.
func (r *FtreeRoots) each(f func(*ftree.Client) error) []error {
	errs := make([]error, len(r.clients))
	var wg sync.WaitGroup
	for i, c := range r.clients {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = f(c) }()
	}
	wg.Wait()
	return errs
}

// Root returns the newest verified record any cell holds; (nil, nil) when
// every cell that answered has none.
func (r *FtreeRoots) Root(ctx context.Context) (*ftree.RootRecord, error) {
	recs := make([]*ftree.RootRecord, len(r.clients))
	i := 0
	var mu sync.Mutex
	errs := r.each(func(c *ftree.Client) error {
		rec, err := c.Root(ctx, r.owner)
		if err == nil {
			mu.Lock()
			recs[i] = rec
			i++
			mu.Unlock()
		}
		return err
	})
	answered := 0
	for _, err := range errs {
		if err == nil || errors.Is(err, ftree.ErrNotFound) {
			answered++
		}
	}
	if answered == 0 {
		return nil, fmt.Errorf("conduit: reading the root record: %w", errors.Join(errs...))
	}
	return ftree.Newest(r.owner, recs[:i]...), nil
}

// PutRoot writes rec to every cell. A cell whose current record is older
// than rec's predecessor is brought forward first (the records in between
// come from the newest history any cell has). It succeeds when a majority
// holds rec; when a cell holds a newer or competing record it returns that
// conflict (matching ftree.ErrConflict), so the caller reloads and retries.
func (r *FtreeRoots) PutRoot(ctx context.Context, rec *ftree.RootRecord) error {
	errs := r.each(func(c *ftree.Client) error {
		err := c.PutRoot(ctx, rec)
		var ce *ftree.ConflictError
		if errors.As(err, &ce) && (ce.Current == nil || ce.Current.Version < rec.Version-1) {
			if r.catchUp(ctx, c, ce.Current, rec.Version-1) == nil {
				err = c.PutRoot(ctx, rec)
			}
		}
		return err
	})
	ok := 0
	var conflict error
	for _, err := range errs {
		var ce *ftree.ConflictError
		switch {
		case err == nil:
			ok++
		case errors.As(err, &ce) && ce.Current != nil && ce.Current.Version >= rec.Version-1 && ce.Current.Hash() != rec.Hash():
			conflict = err
		}
	}
	if ok*2 > len(r.clients) {
		return nil
	}
	if conflict != nil {
		return conflict
	}
	return fmt.Errorf("conduit: the root record reached %d of %d ftree cells: %w", ok, len(r.clients), errors.Join(errs...))
}

// catchUp replays to c the versions after cur up to and including upTo,
// taken from the first cell whose history has them all.
func (r *FtreeRoots) catchUp(ctx context.Context, c *ftree.Client, cur *ftree.RootRecord, upTo uint64) error {
	from := uint64(1)
	if cur != nil {
		from = cur.Version + 1
	}
	for _, src := range r.clients {
		hist, err := src.History(ctx, r.owner) // newest first
		if err != nil {
			continue
		}
		var chain []*ftree.RootRecord
		for i := len(hist) - 1; i >= 0; i-- {
			if v := hist[i].Version; v >= from && v <= upTo {
				chain = append(chain, hist[i])
			}
		}
		if uint64(len(chain)) != upTo-from+1 {
			continue
		}
		for _, h := range chain {
			if err := c.PutRoot(ctx, h); err != nil {
				return err
			}
		}
		return nil
	}
	return errors.New("conduit: no ftree cell has the versions to catch up with")
}
