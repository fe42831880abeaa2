package e2e

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/borgios/borghui/cells/ledger"
	"github.com/borgios/borghui/conduit"
	"github.com/borgios/borghui/failover"
	"github.com/borgios/borghui/wallet"
)

// TestWalletOnDevnet drives the conduit's Wallet service against three real
// ledger processes: the development network wallet funds A, A sends B
// 12.5 shells, both balances and histories are right, bad input is refused
// with its reason, and when the endpoint serving A is killed the wallet
// carries on through another one and says it switched.
func TestWalletOnDevnet(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dn := startNet(t, ctx, ledger.CellName, 3, nil)
	var eps []failover.Endpoint
	for _, n := range dn.Nodes() {
		ep := n.Endpoints[ledger.CellName]
		eps = append(eps, failover.Endpoint{Addr: ep.Recp, ID: ep.ID})
	}
	var mu sync.Mutex
	var switches []string
	open := func(id *wallet.Identity) *conduit.Wallet {
		w, err := conduit.NewWallet(id, eps, conduit.WalletOptions{OnSwitch: func(from, to failover.Endpoint, why error) {
			mu.Lock()
			switches = append(switches, from.Addr+" -> "+to.Addr+": "+why.Error())
			mu.Unlock()
		}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(w.Close)
		return w
	}
	ids := map[string]*wallet.Identity{}
	for _, name := range []string{"a", "b"} {
		id, err := wallet.NewNodeKey()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(id.Destroy)
		ids[name] = id
	}
	dev, err := conduit.DevNetworkWallet()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dev.Destroy)
	network, a, b := open(dev), open(ids["a"]), open(ids["b"])

	send := func(from *conduit.Wallet, to, amount string) {
		t.Helper()
		d, err := from.Prepare(ctx, to, amount, "", "e2e")
		if err != nil {
			t.Fatal(err)
		}
		st, err := from.Send(ctx, d)
		if err != nil || st.Status == ledger.StatusRejected {
			t.Fatalf("send %s: %+v %v", amount, st, err)
		}
		for deadline := time.Now().Add(30 * time.Second); st.Status != ledger.StatusApplied; time.Sleep(50 * time.Millisecond) {
			if st, err = from.Status(ctx, st.ID); err != nil {
				t.Fatal(err)
			}
			if time.Now().After(deadline) {
				t.Fatalf("transfer of %s not applied: %+v", amount, st)
			}
		}
	}
	balance := func(w *conduit.Wallet) ledger.Amount {
		t.Helper()
		r, err := w.Balance(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return r.Balance
	}
	send(network, a.MUID(), "100")
	send(a, b.MUID(), "12.5")
	if got, want := balance(a), ledger.Shells(100)-ledger.Shells(25)/2; got != want {
		t.Fatalf("A holds %s, want %s", got, want)
	}
	if got, want := balance(b), ledger.Shells(25)/2; got != want {
		t.Fatalf("B holds %s, want %s", got, want)
	}
	ha, err := a.History(ctx, nil, 10)
	if err != nil || len(ha.Entries) != 2 || ha.Entries[0].Transfer.To != b.MUID() {
		t.Fatalf("A's history: %+v %v", ha, err)
	}
	if hb, err := b.History(ctx, nil, 10); err != nil || len(hb.Entries) != 1 {
		t.Fatalf("B's history: %+v %v", hb, err)
	}

	for _, tc := range []struct {
		to, amount string
		want       error
	}{
		{b.MUID(), "0", conduit.ErrBadAmount},
		{b.MUID(), "-1", conduit.ErrBadAmount},
		{b.MUID(), "1.0000000001", conduit.ErrBadAmount},
		{b.MUID(), "1000", conduit.ErrTooPoor},
		{"not-an-address", "1", conduit.ErrBadRecipient},
		{a.MUID(), "1", conduit.ErrToSelf},
	} {
		if _, err := a.Prepare(ctx, tc.to, tc.amount, "", ""); !errors.Is(err, tc.want) {
			t.Errorf("Prepare(%.10s…, %q): %v, want %v", tc.to, tc.amount, err, tc.want)
		}
	}

	// Kill the endpoint A's wallet rates best: it carries on elsewhere.
	best := a.Health()[0]
	for _, n := range dn.Nodes() {
		if n.Endpoints[ledger.CellName].Recp == best.Addr {
			n.Kill()
		}
	}
	if got := balance(a); got != ledger.Shells(100)-ledger.Shells(25)/2 {
		t.Fatalf("after the kill A reads %s", got)
	}
	send(a, b.MUID(), "1")
	mu.Lock()
	defer mu.Unlock()
	if len(switches) == 0 {
		t.Fatal("the wallet never reported switching endpoint")
	}
	t.Logf("switches: %v", switches)
}
