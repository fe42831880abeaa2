package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"testing"
	"time"

	"github.com/borgios/borghui/cells/ftree"
	"github.com/borgios/borghui/cells/ledger"
	"github.com/borgios/borghui/cells/mail"
	"github.com/borgios/borghui/conduit"
	"github.com/borgios/borghui/conduit/files"
	"github.com/borgios/borghui/failover"
	"github.com/borgios/borghui/peer"
)

// TestSessionsOnDevnet opens two people's sessions (conduit.Connect) on
// three real node processes running every cell: A stores a file in her
// drive and mails B a link to it; B collects the letter, opens the link
// and reads the same bytes; the development wallet funds A, A pays B;
// both clocks are synced to the network.
func TestSessionsOnDevnet(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dn := startNet(t, ctx, "all", 3, nil)
	eps := conduit.Endpoints{}
	for _, n := range dn.Nodes() {
		for _, d := range peer.Cells {
			ep := n.Endpoints[d.Name]
			eps[d.Name] = append(eps[d.Name], failover.Endpoint{Addr: ep.Recp, ID: ep.ID})
		}
	}
	waitMembers(t, ctx, dn.Nodes()[0].Endpoints, 3)
	open := func(words, nick string) *conduit.Session {
		t.Helper()
		dir := t.TempDir()
		c := conduit.New(conduit.Config{KeystoreDir: dir, TestKDF: true})
		t.Cleanup(c.Close)
		pass := []byte("session test passphrase 123")
		if err := c.RestoreWords([]byte(words), nil, pass, pass, false); err != nil {
			t.Fatal(err)
		}
		s, err := c.Connect(ctx, eps, conduit.SessionOptions{Dir: dir, Nick: nick})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		return s
	}
	a := open("legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth title", "alice")
	b := open("letter advice cage absurd amount doctor acoustic avoid letter advice cage absurd amount doctor acoustic avoid letter advice cage absurd amount doctor acoustic bless", "bob")
	if !a.Clock.Synced() || !b.Clock.Synced() {
		t.Fatal("a session's clock did not sync with the crono cells")
	}

	// Files and mail: A mails B a link to a file in her drive.
	plain := make([]byte, files.DefaultChunkSize+321)
	rand.Read(plain)
	entry, err := a.Drive.Upload(ctx, "", "report.bin", "application/octet-stream", bytes.NewReader(plain), int64(len(plain)), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	key, err := files.FileKey(a.Files.Keys, files.ID(entry.File))
	if err != nil {
		t.Fatal(err)
	}
	link, err := ftree.EncodeLink(&ftree.Capability{Manifest: ftree.Hash(entry.Manifest), Key: key[:], Size: uint64(entry.Size), Name: entry.Name})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*conduit.Session{a, b} {
		if _, err := s.Mail.Publish(ctx); err != nil {
			t.Fatal(err)
		}
	}
	res, err := a.Mail.Send(ctx, mail.Draft{To: b.Mail.MUID(), Subject: "the report", Body: "here it is", Attachments: []string{link}})
	if err != nil || !res.ForwardSecret {
		t.Fatalf("send: %+v %v", res, err)
	}
	rep, err := b.Mail.Receive(ctx)
	if err != nil || len(rep.New) != 1 || len(rep.New[0].Message.Attachments) != 1 {
		t.Fatalf("receive: %+v %v", rep, err)
	}
	capa, err := ftree.ParseLink(rep.New[0].Message.Attachments[0])
	if err != nil {
		t.Fatal(err)
	}
	var fk files.Key
	copy(fk[:], capa.Key)
	_, rd, err := b.Files.Open(ctx, files.ID(capa.Manifest), &fk)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rd)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("B read %d bytes of A's file: %v", len(got), err)
	}

	// Wallet: the development network wallet funds A, A pays B.
	dev, err := conduit.DevNetworkWallet()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dev.Destroy)
	network, err := conduit.NewWallet(dev, eps[ledger.CellName], conduit.WalletOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(network.Close)
	pay := func(from *conduit.Wallet, to, amount string) {
		t.Helper()
		d, err := from.Prepare(ctx, to, amount, "", "")
		if err != nil {
			t.Fatal(err)
		}
		st, err := from.Send(ctx, d)
		for deadline := time.Now().Add(30 * time.Second); err == nil && st.Status != ledger.StatusApplied; time.Sleep(50 * time.Millisecond) {
			if st.Status == ledger.StatusRejected || time.Now().After(deadline) {
				t.Fatalf("payment of %s: %+v", amount, st)
			}
			st, err = from.Status(ctx, st.ID)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	pay(network, a.Wallet.MUID(), "10")
	pay(a.Wallet, b.Wallet.MUID(), "3")
	if r, err := b.Wallet.Balance(ctx); err != nil || r.Balance != ledger.Shells(3) {
		t.Fatalf("B's balance: %+v %v", r, err)
	}
	if r, err := a.Wallet.Balance(ctx); err != nil || r.Balance != ledger.Shells(7) {
		t.Fatalf("A's balance: %+v %v", r, err)
	}
}
