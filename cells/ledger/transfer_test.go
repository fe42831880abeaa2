package ledger

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"

	"github.com/borgios/borghui/signer"
)

// keyA is the reference client's key A.1 (MUID 12oA2EuJzDFshybkA7CNN7w1PJVrnEGU8d).
func keyA(t testing.TB) signer.Key {
	t.Helper()
	b, _ := hex.DecodeString("5fa8f0f782cb0d144c5022e3ce40d7a46e33097372e6799b8208aa22fcc35d31")
	k, err := signer.NewMemKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

const muidA, muidB = "12oA2EuJzDFshybkA7CNN7w1PJVrnEGU8d", "1B1xrS6Xi6uhCoXcH8UzSETk81S2pmpWjQ"

// highS returns the same signature with s replaced by n-s (still valid).
func highS(t testing.TB, der Sig) Sig {
	t.Helper()
	sig, err := ecdsa.ParseDERSignature(der)
	if err != nil {
		t.Fatal(err)
	}
	r, s := sig.R(), sig.S()
	s.Negate() // ecdsa.Signature.Serialize would normalise it back: encode by hand
	if !s.IsOverHalfOrder() {
		t.Fatal("negated S is not high")
	}
	rb, sb := r.Bytes(), s.Bytes()
	enc := func(x []byte) []byte {
		for len(x) > 1 && x[0] == 0 && x[1] < 0x80 {
			x = x[1:]
		}
		if x[0] >= 0x80 {
			x = append([]byte{0}, x...)
		}
		return append([]byte{0x02, byte(len(x))}, x...)
	}
	body := append(enc(rb[:]), enc(sb[:])...)
	return append([]byte{0x30, byte(len(body))}, body...)
}

func TestTransferCanonical(t *testing.T) {
	k := keyA(t)
	tr, err := NewTransfer(k, muidB, 5*NanoPerShell, 1000, 1, time.UnixMilli(1700000000000), `thanks "bob" \ é`)
	if err != nil {
		t.Fatal(err)
	}
	want := "BorgIOS/v1/ledger-transfer\n" +
		`{"amount":"5.000000000","fee":"0.000001000","from":"` + hex.EncodeToString(k.PublicKey()) +
		`","memo":"thanks \"bob\" \\ é","seq":1,"time":1700000000000,"to":"` + muidB + `"}`
	if got := string(tr.Canonical()); got != want {
		t.Fatalf("canonical:\n got %s\nwant %s", got, want)
	}
	if tr.ID() != Hash(sha256.Sum256([]byte(want))) {
		t.Fatal("id is not SHA-256 of the canonical bytes")
	}
	if got := tr.ID().String(); got != "8a0a2ad03032f1d02796ae2f9042a1c5054eb6f2fd1b5aff2772977ce0e4896d" {
		t.Fatalf("transfer id %s changed", got)
	}
	if s, _ := tr.Sender(); s != muidA {
		t.Fatalf("sender %s, want %s", s, muidA)
	}
	if err := tr.Verify(); err != nil {
		t.Fatal(err)
	}
	sig, _ := ecdsa.ParseDERSignature(tr.Sig)
	if s := sig.S(); s.IsOverHalfOrder() {
		t.Fatal("signed with a high S")
	}
}

func TestTransferValidation(t *testing.T) {
	a := keyA(t)
	base := newState()
	base.set(muidA, Account{Balance: Shells(100), Seq: 3})
	base.set(muidB, Account{Balance: Shells(1)})
	producer := muidOf(t, newKey(t))
	mk := func(f func(*Transfer)) *Transfer {
		tr := &Transfer{To: muidB, Amount: Shells(10), Fee: Shells(1), Seq: 4, Time: 1700000000000, Memo: "x"}
		if f != nil {
			f(tr)
		}
		if err := tr.Sign(a); err != nil {
			return tr // the case checks the sign error
		}
		return tr
	}
	tests := []struct {
		name   string
		t      func() *Transfer
		prep   func(*overlay) // applied before the transfer (same overlay)
		err    error          // from Verify
		reason string         // from apply
	}{
		{name: "valid", t: func() *Transfer { return mk(nil) }},
		{name: "exact balance", t: func() *Transfer {
			return mk(func(tr *Transfer) { tr.Amount, tr.Fee = Shells(99), Shells(1) })
		}},
		{name: "zero fee", t: func() *Transfer { return mk(func(tr *Transfer) { tr.Fee = 0 }) }},
		{name: "bad signature", t: func() *Transfer {
			tr := mk(nil)
			tr.Amount++
			return tr
		}, err: ErrBadSignature},
		{name: "signature by another key", t: func() *Transfer {
			tr := mk(nil)
			other := newKey(t)
			tr.Sig, _ = signLowS(other, tr.ID())
			return tr
		}, err: ErrBadSignature},
		{name: "high-S accepted", t: func() *Transfer {
			tr := mk(nil)
			tr.Sig = highS(t, tr.Sig)
			return tr
		}},
		{name: "not DER", t: func() *Transfer {
			tr := mk(nil)
			tr.Sig = append(tr.Sig, 0)
			return tr
		}, err: ErrBadSignature},
		{name: "zero amount", t: func() *Transfer { return mk(func(tr *Transfer) { tr.Amount = 0 }) }, err: ErrMalformed},
		{name: "amount above supply", t: func() *Transfer { return mk(func(tr *Transfer) { tr.Amount = GenesisSupply + 1 }) }, err: ErrMalformed},
		{name: "fee above supply", t: func() *Transfer { return mk(func(tr *Transfer) { tr.Fee = math.MaxUint64 }) }, err: ErrMalformed},
		{name: "overdraft", t: func() *Transfer { return mk(func(tr *Transfer) { tr.Amount = Shells(100) }) }, reason: ReasonFunds},
		{name: "overdraft by the fee", t: func() *Transfer {
			return mk(func(tr *Transfer) { tr.Amount, tr.Fee = Shells(99), Shells(1)+1 })
		}, reason: ReasonFunds},
		{name: "recipient overflow", t: func() *Transfer { return mk(nil) }, prep: func(o *overlay) {
			o.put(muidB, Account{Balance: math.MaxUint64 - 5})
		}, reason: ReasonOverflow},
		{name: "seq gap", t: func() *Transfer { return mk(func(tr *Transfer) { tr.Seq = 6 }) }, reason: ReasonSeqGap},
		{name: "stale seq", t: func() *Transfer { return mk(func(tr *Transfer) { tr.Seq = 3 }) }, reason: ReasonStaleSeq},
		{name: "duplicate seq", t: func() *Transfer { return mk(func(tr *Transfer) { tr.Memo = "second" }) }, prep: func(o *overlay) {
			if _, _, err := o.apply(mk(nil), producer); err != nil {
				t.Fatal(err)
			}
		}, reason: ReasonStaleSeq},
		{name: "seq zero", t: func() *Transfer { return mk(func(tr *Transfer) { tr.Seq = 0 }) }, err: ErrMalformed},
		{name: "seq too large", t: func() *Transfer { return mk(func(tr *Transfer) { tr.Seq = MaxInteger + 1 }) }, err: ErrMalformed},
		{name: "bad recipient checksum", t: func() *Transfer {
			return mk(func(tr *Transfer) { tr.To = muidB[:len(muidB)-1] + "R" })
		}, err: ErrMalformed},
		{name: "recipient not a MUID", t: func() *Transfer { return mk(func(tr *Transfer) { tr.To = "bob" }) }, err: ErrMalformed},
		{name: "to self", t: func() *Transfer { return mk(func(tr *Transfer) { tr.To = muidA }) }, err: ErrMalformed},
		{name: "memo too long", t: func() *Transfer {
			return mk(func(tr *Transfer) { tr.Memo = strings.Repeat("é", 71) })
		}, err: ErrMalformed},
		{name: "memo of 140 bytes", t: func() *Transfer {
			return mk(func(tr *Transfer) { tr.Memo = strings.Repeat("é", 70) })
		}},
		{name: "memo with a control character", t: func() *Transfer { return mk(func(tr *Transfer) { tr.Memo = "a\nb" }) }, err: ErrMalformed},
		{name: "memo not UTF-8", t: func() *Transfer { return mk(func(tr *Transfer) { tr.Memo = "\xff" }) }, err: ErrMalformed},
		{name: "negative time", t: func() *Transfer { return mk(func(tr *Transfer) { tr.Time = -1 }) }, err: ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := tc.t()
			err := tr.Verify()
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("Verify = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			o := newOverlay(base.clone())
			if tc.prep != nil {
				tc.prep(o)
			}
			before := o.get(muidA)
			_, _, err = o.apply(tr, producer)
			if tc.reason != "" {
				if !errors.Is(err, ErrInvalid) || reasonOf(err) != tc.reason {
					t.Fatalf("apply = %v, want %s", err, tc.reason)
				}
				if o.get(muidA) != before {
					t.Fatal("a refused transfer changed the sender")
				}
				return
			}
			if err != nil {
				t.Fatalf("apply: %v", err)
			}
			if _, total, _ := o.digest(); total != Shells(101) {
				t.Fatalf("supply changed: %s", total)
			}
			if got := o.get(muidA); got.Seq != 4 || got.Balance != before.Balance-tr.Amount-tr.Fee {
				t.Fatalf("sender after: %+v", got)
			}
			if got := o.get(producer).Balance; got != tr.Fee {
				t.Fatalf("producer got %s, want the fee %s", got, tr.Fee)
			}
		})
	}
}

func TestNewTransferNeedsAValidKey(t *testing.T) {
	if _, err := NewTransfer(nil, muidB, 1, 0, 1, time.Now(), ""); !errors.Is(err, ErrMalformed) {
		t.Fatal(err)
	}
	if _, err := NewTransfer(keyA(t), muidB, 0, 0, 1, time.Now(), ""); !errors.Is(err, ErrMalformed) {
		t.Fatal(err)
	}
}
