package ledger

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/borgios/borghui/signer"
)

const crashEnv = "LEDGER_CRASH_CHILD_DIR"

// TestMain lets the test binary play the child of TestKill9: it appends
// blocks to a store as fast as it can, printing each height once its
// commit returned.
func TestMain(m *testing.M) {
	if dir := os.Getenv(crashEnv); dir != "" {
		if err := crashChild(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	os.Exit(m.Run())
}

func fixedNetworkKey() signer.Key {
	b, _ := hex.DecodeString("c4b6a1f1e8d5a9b0c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0")
	k, _ := signer.NewMemKey(b)
	return k
}

// openTestStore opens dir as a node of the network of netKey would.
func openTestStore(t testing.TB, dir string, netKey signer.Key) (*store, *state, tip) {
	t.Helper()
	st, s, tp, err := openKeyStore(dir, netKey)
	if err != nil {
		t.Fatal(err)
	}
	return st, s, tp
}

func openKeyStore(dir string, netKey signer.Key) (*store, *state, tip, error) {
	nk, _ := PubKeyOf(netKey.PublicKey())
	g, err := Genesis(nk)
	if err != nil {
		return nil, nil, tip{}, err
	}
	m, _ := MUIDOf(nk[:])
	gs := newState()
	gs.set(m, Account{Balance: GenesisSupply})
	st, err := openStore(dir, tip{Hash: g.Hash(), State: g.State}, gs)
	if err != nil {
		return nil, nil, tip{}, err
	}
	s, tp, err := st.load()
	if err != nil {
		st.close()
		return nil, nil, tip{}, err
	}
	return st, s, tp, nil
}

// appendBlock makes a block of ts on top of (s, tp), commits it and
// applies it to s.
func appendBlock(st *store, s *state, tp tip, producer signer.Key, ts []*Transfer) (tip, error) {
	o := newOverlay(s)
	pm, _ := MUIDOf(producer.PublicKey())
	for _, t := range ts {
		if _, _, err := o.apply(t, pm); err != nil {
			return tp, err
		}
	}
	h, _, _ := o.digest()
	b := &Block{Height: tp.Height + 1, Prev: tp.Hash, Time: time.Now().UnixMilli(), State: h, Transfers: ts}
	if err := b.sign(producer, b.IDs()); err != nil {
		return tp, err
	}
	ab, o2, err := validateBlock(s, tp, b, true, nil)
	if err != nil {
		return tp, err
	}
	if err := st.commit(tp.Height, []*appliedBlock{ab}); err != nil {
		return tp, err
	}
	o2.merge()
	return ab.tip, nil
}

func crashChild(dir string) error {
	netKey := fixedNetworkKey()
	st, s, tp, err := openKeyStore(dir, netKey)
	if err != nil {
		return err
	}
	producer, _ := signer.GenerateMemKey(nil)
	for seq := s.acc[mustMUID(netKey)].Seq + 1; ; seq++ {
		to, _ := signer.GenerateMemKey(nil)
		tr, err := NewTransfer(netKey, mustMUID(to), 1000+seq, 1, seq, time.Now(), "crash")
		if err != nil {
			return err
		}
		if tp, err = appendBlock(st, s, tp, producer, []*Transfer{tr}); err != nil {
			return err
		}
		fmt.Fprintln(os.Stdout, tp.Height) // unbuffered: the parent sees only committed heights
	}
}

func mustMUID(k signer.Key) string {
	m, err := MUIDOf(k.PublicKey())
	if err != nil {
		panic(err)
	}
	return m
}

// TestKill9 kills a process with SIGKILL while it appends blocks and
// checks the reopened store holds every committed block and a state that
// matches its head.
func TestKill9(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var last uint64
	sc := bufio.NewScanner(out)
	for last < 30 && sc.Scan() {
		h, err := strconv.ParseUint(sc.Text(), 10, 64)
		if err != nil {
			t.Fatalf("child said %q", sc.Text())
		}
		last = h
	}
	cmd.Process.Kill() // SIGKILL mid-commit
	cmd.Wait()
	if last < 30 {
		t.Fatalf("child committed only %d blocks", last)
	}
	netKey := fixedNetworkKey()
	st, s, tp := openTestStore(t, dir, netKey)
	defer st.close()
	if tp.Height < last {
		t.Fatalf("head %d, the child had committed %d", tp.Height, last)
	}
	h, total, err := s.digest()
	if err != nil || h != tp.State || total != GenesisSupply {
		t.Fatalf("reopened state: %v %v %s", err, h == tp.State, total)
	}
	// every block replays from genesis to the same head
	c := newChain(t, netKey)
	for i := uint64(1); i <= tp.Height; i++ {
		b, err := st.block(i)
		if err != nil {
			t.Fatal(err)
		}
		c.add(t, b)
	}
	if c.tip.Hash != tp.Hash {
		t.Fatal("replay ends elsewhere")
	}
	// and the chain continues
	if _, err := appendBlock(st, s, tp, newKey(t), []*Transfer{pay(t, netKey, muidB, 5, s.acc[muidOf(t, netKey)].Seq+1)}); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d committed blocks survived (head %d)", last, tp.Height)
}

// TestStoreRollback switches a store to another branch and back: accounts,
// transfer index and history follow.
func TestStoreRollback(t *testing.T) {
	netKey, p1, p2, alice := newKey(t), newKey(t), newKey(t), newKey(t)
	dir := t.TempDir()
	st, s, tp := openTestStore(t, dir, netKey)
	defer st.close()
	tp1, err := appendBlock(st, s, tp, p1, []*Transfer{pay(t, netKey, muidOf(t, alice), Shells(5), 1)})
	if err != nil {
		t.Fatal(err)
	}
	a2 := pay(t, alice, muidB, Shells(1), 1)
	tpA, err := appendBlock(st, s, tp1, p1, []*Transfer{a2})
	if err != nil {
		t.Fatal(err)
	}
	if h, _, ok, _ := st.txPlace(a2.ID()); !ok || h != 2 {
		t.Fatal("transfer not indexed")
	}
	if es, _, _ := st.history(muidB, nil, 10); len(es) != 1 || es[0].Balance != Shells(1) {
		t.Fatalf("history %+v", es)
	}
	// another branch from height 1: roll block 2 back, apply 2' and 3'
	undo, _, err := st.undoAt(2)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range undo {
		s.set(u.MUID, u.Prev)
	}
	b2 := pay(t, alice, muidA, Shells(2), 1)
	o := newOverlay(s)
	pm := muidOf(t, p2)
	o.apply(b2, pm)
	h, _, _ := o.digest()
	blk := &Block{Height: 2, Prev: tp1.Hash, Time: tp1.Time + 1, State: h, Transfers: []*Transfer{b2}}
	blk.sign(p2, blk.IDs())
	ab, o2, err := validateBlock(s, tp1, blk, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.commit(1, []*appliedBlock{ab}); err != nil {
		t.Fatal(err)
	}
	o2.merge()
	if _, _, ok, _ := st.txPlace(a2.ID()); ok {
		t.Fatal("rolled-back transfer still indexed")
	}
	if es, _, _ := st.history(muidB, nil, 10); len(es) != 0 {
		t.Fatalf("rolled-back history %+v", es)
	}
	ds, dtip, err := st.load()
	if err != nil || dtip.Hash != ab.tip.Hash || dtip.Hash == tpA.Hash {
		t.Fatalf("head after the switch: %v", err)
	}
	dh, _, _ := ds.digest()
	mh, _, _ := s.digest()
	if dh != mh || dh != dtip.State {
		t.Fatal("database and memory disagree after the switch")
	}
	if ds.acc[muidB] != (Account{}) || ds.acc[muidA].Balance != Shells(2) {
		t.Fatalf("accounts after the switch: %+v", ds.acc)
	}
	// a database of another network is refused
	st.close()
	if _, _, _, err := openKeyStore(dir, newKey(t)); err == nil {
		t.Fatal("opened another network's database")
	}
}
