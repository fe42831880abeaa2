package ftree

import (
	"errors"
	"sync"
	"testing"
)

func TestRootPutGetHistory(t *testing.T) {
	cell := startNode(t)
	a := newKey(t)
	ca := dial(t, cell, a)
	ctx := testCtx(t)

	if _, err := ca.Root(ctx, pub(t, a)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("root before any write: %v, want ErrNotFound", err)
	}
	var recs []*RootRecord
	var cur *RootRecord
	for i := range MaxHistory + 3 {
		cur = next(t, a, cur, "manifest "+uitoa(uint64(i)))
		if err := ca.PutRoot(ctx, cur); err != nil {
			t.Fatalf("put v%d: %v", cur.Version, err)
		}
		recs = append(recs, cur)
	}
	if err := ca.PutRoot(ctx, cur); err != nil {
		t.Fatalf("retrying the current record: %v", err)
	}
	got, err := ca.Root(ctx, pub(t, a))
	if err != nil || got.Hash() != cur.Hash() {
		t.Fatalf("root = %v, %v; want v%d", got, err, cur.Version)
	}
	hist, err := ca.History(ctx, pub(t, a))
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != MaxHistory {
		t.Fatalf("history holds %d records, want %d", len(hist), MaxHistory)
	}
	for i, r := range hist {
		if want := recs[len(recs)-1-i]; r.Hash() != want.Hash() {
			t.Fatalf("history[%d] is v%d, want v%d", i, r.Version, want.Version)
		}
	}

	// A stale version (an older record, or a new one built on an old base)
	// is refused with the current record.
	for _, stale := range []*RootRecord{recs[2], next(t, a, recs[2], "late")} {
		err := ca.PutRoot(ctx, stale)
		var ce *ConflictError
		if !errors.As(err, &ce) || ce.Current.Hash() != cur.Hash() {
			t.Fatalf("stale v%d: %v, want a conflict carrying v%d", stale.Version, err, cur.Version)
		}
	}
}

func TestRootConcurrentWritersConflict(t *testing.T) {
	cell := startNode(t)
	a := newKey(t)
	ctx := testCtx(t)
	laptop, phone := dial(t, cell, a), dial(t, cell, a)
	v1 := next(t, a, nil, "base")
	if err := laptop.PutRoot(ctx, v1); err != nil {
		t.Fatal(err)
	}
	for round := range 5 {
		base, err := laptop.Root(ctx, pub(t, a))
		if err != nil {
			t.Fatal(err)
		}
		writes := []*RootRecord{next(t, a, base, "laptop "+uitoa(uint64(round))), next(t, a, base, "phone "+uitoa(uint64(round)))}
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i, c := range []*Client{laptop, phone} {
			wg.Go(func() { errs[i] = c.PutRoot(ctx, writes[i]) })
		}
		wg.Wait()
		won := -1
		for i, err := range errs {
			if err == nil {
				if won >= 0 {
					t.Fatalf("round %d: both writers succeeded", round)
				}
				won = i
			}
		}
		if won < 0 {
			t.Fatalf("round %d: no writer succeeded: %v", round, errs)
		}
		var ce *ConflictError
		if !errors.As(errs[1-won], &ce) || !errors.Is(errs[1-won], ErrConflict) || ce.Current.Hash() != writes[won].Hash() {
			t.Fatalf("round %d: loser got %v, want a conflict carrying the winner", round, errs[1-won])
		}
	}
}

func TestRootWriteRefused(t *testing.T) {
	cell := startNode(t)
	a, b := newKey(t), newKey(t)
	ca, cb := dial(t, cell, a), dial(t, cell, b)
	ctx := testCtx(t)
	v1 := next(t, a, nil, "a's files")
	if err := ca.PutRoot(ctx, v1); err != nil {
		t.Fatal(err)
	}
	v2 := next(t, a, v1, "a's files 2")

	signedByB := *next(t, a, v1, "evil")
	bsig, _ := b.Sign(signedByB.Hash())
	signedByB.Signature = bsig

	altered := *v2
	altered.Manifest = hashOf("swapped")

	grown := *v2
	grown.Size++

	gap := *next(t, a, v2, "gap") // v3 on a node at v1

	tests := []struct {
		name string
		c    *Client
		rec  *RootRecord
		want error
	}{
		{"signature by another key", ca, &signedByB, ErrBadSignature},
		{"envelope sender is not the owner", cb, v2, ErrForbidden},
		{"b claims a's record as its own", cb, &signedByB, ErrForbidden},
		{"manifest altered after signing", ca, &altered, ErrBadSignature},
		{"size altered after signing", ca, &grown, ErrBadSignature},
		{"version gap", ca, &gap, ErrConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.c.PutRoot(ctx, tt.rec); !errors.Is(err, tt.want) {
				t.Fatalf("put: %v, want %v", err, tt.want)
			}
			got, err := ca.Root(ctx, pub(t, a))
			if err != nil || got.Hash() != v1.Hash() {
				t.Fatalf("after a refused write the root is %v (%v), want v1", got, err)
			}
		})
	}
	if err := ca.PutRoot(ctx, v2); err != nil {
		t.Fatalf("the owner's own v2: %v", err)
	}
}

func TestShareSealedToRecipient(t *testing.T) {
	cell := startNode(t)
	a, b, c := newKey(t), newKey(t), newKey(t)
	ca, cb, cc := dial(t, cell, a), dial(t, cell, b), dial(t, cell, c)
	ctx := testCtx(t)
	capab := testCap("holiday.mp4")

	id, err := ca.Share(ctx, a, b.PublicKey(), capab)
	if err != nil {
		t.Fatal(err)
	}
	inbox, err := cb.Inbox(ctx, pub(t, b))
	if err != nil || len(inbox) != 1 || inbox[0].ID() != id || inbox[0].Sharer != pub(t, a) {
		t.Fatalf("b's inbox = %v, %v; want the share %s from a", inbox, err, id)
	}
	got, err := OpenCapability(inbox[0].Sealed, b)
	if err != nil || !got.Equal(capab) {
		t.Fatalf("b opens %+v, %v", got, err)
	}

	// C lists only its own (empty) inbox, cannot open b's box, cannot
	// revoke a's share, and cannot store a share in a's name.
	if cInbox, err := cc.Inbox(ctx, pub(t, c)); err != nil || len(cInbox) != 0 {
		t.Fatalf("c's inbox = %v, %v; want empty", cInbox, err)
	}
	if _, err := OpenCapability(inbox[0].Sealed, c); !errors.Is(err, ErrOpen) {
		t.Fatalf("c opened b's capability: %v", err)
	}
	if err := cc.Revoke(ctx, pub(t, b), id); !errors.Is(err, ErrForbidden) {
		t.Fatalf("c revokes: %v, want ErrForbidden", err)
	}
	if _, err := cc.PutShare(ctx, inbox[0]); !errors.Is(err, ErrForbidden) {
		t.Fatalf("c stores a's share: %v, want ErrForbidden", err)
	}
	forged := *inbox[0]
	forged.Time++
	if _, err := ca.PutShare(ctx, &forged); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("altered share: %v, want ErrBadSignature", err)
	}

	// A revokes; the inbox is empty; a second revoke finds nothing.
	if err := ca.Revoke(ctx, pub(t, b), id); err != nil {
		t.Fatal(err)
	}
	if inbox, err := cb.Inbox(ctx, pub(t, b)); err != nil || len(inbox) != 0 {
		t.Fatalf("b's inbox after revoke = %v, %v", inbox, err)
	}
	if err := ca.Revoke(ctx, pub(t, b), id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second revoke: %v, want ErrNotFound", err)
	}
}

func TestInboxPagesAndLimit(t *testing.T) {
	const max = 7
	cell := startNodeWith(t, ServerConfig{MaxInbox: max})
	a, b := newKey(t), newKey(t)
	ca, cb := dial(t, cell, a), dial(t, cell, b)
	cb.page = 3
	ctx := testCtx(t)
	want := map[Hash]bool{}
	for i := range max {
		id, err := ca.Share(ctx, a, b.PublicKey(), testCap("f"+uitoa(uint64(i))))
		if err != nil {
			t.Fatal(err)
		}
		want[id] = true
	}
	if _, err := ca.Share(ctx, a, b.PublicKey(), testCap("one too many")); !errors.Is(err, ErrInboxFull) {
		t.Fatalf("share into a full inbox: %v, want ErrInboxFull", err)
	}
	inbox, err := cb.Inbox(ctx, pub(t, b))
	if err != nil || len(inbox) != max {
		t.Fatalf("inbox of %d shares, %v; want %d", len(inbox), err, max)
	}
	for _, s := range inbox {
		if !want[s.ID()] {
			t.Fatalf("unexpected share %s", s.ID())
		}
		delete(want, s.ID())
	}
}
