package ftree

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
)

func TestRecordCanonicalBytes(t *testing.T) {
	priv := make([]byte, 32)
	priv[31] = 1
	k, err := NewMemECDHKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	r := &RootRecord{Version: 2, Prev: hashOf("p"), Manifest: hashOf("m"), Size: 42, Time: 1700000000000}
	if err := r.Sign(k); err != nil {
		t.Fatal(err)
	}
	want := RootDomain + `{"manifest":"` + hashOf("m").String() + `","owner":"` + pub(t, k).String() +
		`","prev":"` + hashOf("p").String() + `","size":42,"time":1700000000000,"version":2}`
	if got := string(r.Canonical()); got != want {
		t.Fatalf("canonical bytes\n got %s\nwant %s", got, want)
	}
}

func TestRecordVerify(t *testing.T) {
	a, b := newKey(t), newKey(t)
	v1 := next(t, a, nil, "one")
	good := next(t, a, v1, "two")
	mutate := func(f func(r *RootRecord)) *RootRecord {
		r := *good
		r.Signature = append(Sig(nil), good.Signature...)
		f(&r)
		return &r
	}
	highS := mutate(func(r *RootRecord) {
		sig, _ := ecdsa.ParseDERSignature(r.Signature)
		rr, s := sig.R(), sig.S()
		s.Negate()
		r.Signature = derHighS(rr, s) // ecdsa's Serialize would normalise s again
	})
	tests := []struct {
		name string
		rec  *RootRecord
		want error
	}{
		{"valid", good, nil},
		{"high-S accepted", highS, nil},
		{"version changed", mutate(func(r *RootRecord) { r.Version = 3 }), ErrBadSignature},
		{"prev changed", mutate(func(r *RootRecord) { r.Prev = hashOf("x") }), ErrBadSignature},
		{"manifest changed", mutate(func(r *RootRecord) { r.Manifest = hashOf("x") }), ErrBadSignature},
		{"size changed", mutate(func(r *RootRecord) { r.Size = 1 }), ErrBadSignature},
		{"time changed", mutate(func(r *RootRecord) { r.Time++ }), ErrBadSignature},
		{"owner swapped", mutate(func(r *RootRecord) { r.Owner = pub(t, b) }), ErrBadSignature},
		{"signature byte flipped", mutate(func(r *RootRecord) { r.Signature[len(r.Signature)-1] ^= 1 }), ErrBadSignature},
		{"not DER", mutate(func(r *RootRecord) { r.Signature = append(r.Signature, 0) }), ErrBadSignature},
		{"version 0", mutate(func(r *RootRecord) { r.Version = 0 }), ErrMalformed},
		{"v2 without prev", mutate(func(r *RootRecord) { r.Prev = Hash{} }), ErrMalformed},
		{"no manifest", mutate(func(r *RootRecord) { r.Manifest = Hash{} }), ErrMalformed},
		{"size beyond 2^53", mutate(func(r *RootRecord) { r.Size = MaxInteger + 1 }), ErrMalformed},
		{"negative time", mutate(func(r *RootRecord) { r.Time = -1 }), ErrMalformed},
		{"no owner", mutate(func(r *RootRecord) { r.Owner = PubKey{} }), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.rec.Verify(); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
	if string(good.Signature) == string(highS.Signature) {
		t.Fatal("the high-S case did not change the signature")
	}
	if sig, _ := ecdsa.ParseDERSignature(good.Signature); sig == nil || func() bool { s := sig.S(); return s.IsOverHalfOrder() }() {
		t.Fatal("Sign emitted a high-S signature")
	}
}

// derHighS encodes (r, s) as DER without normalising s.
func derHighS(r, s secp256k1.ModNScalar) []byte {
	enc := func(v secp256k1.ModNScalar) []byte {
		b := v.Bytes()
		x := b[:]
		for len(x) > 1 && x[0] == 0 && x[1] < 0x80 {
			x = x[1:]
		}
		if x[0] >= 0x80 {
			x = append([]byte{0}, x...)
		}
		return append([]byte{0x02, byte(len(x))}, x...)
	}
	body := append(enc(r), enc(s)...)
	return append([]byte{0x30, byte(len(body))}, body...)
}

func TestNextRootAndNewest(t *testing.T) {
	a, b := newKey(t), newKey(t)
	v1 := next(t, a, nil, "one")
	v2 := next(t, a, v1, "two")
	if v1.Version != 1 || !v1.Prev.IsZero() || v2.Version != 2 || v2.Prev != v1.Hash() {
		t.Fatalf("chain: v1 %d %s, v2 %d %s", v1.Version, v1.Prev, v2.Version, v2.Prev)
	}
	if _, err := NextRoot(b, v1, hashOf("x"), 1, time.Now()); !errors.Is(err, ErrForbidden) {
		t.Fatalf("extending another owner's record: %v", err)
	}
	forged := *v2
	forged.Version = 9
	other := next(t, b, nil, "b")
	if got := Newest(pub(t, a), v1, nil, &forged, other, v2); got != v2 {
		t.Fatalf("Newest picked %+v, want v2", got)
	}
	if got := Newest(pub(t, a), other); got != nil {
		t.Fatalf("Newest of another owner's records = %+v", got)
	}
}

func TestStrictDecoding(t *testing.T) {
	a := newKey(t)
	good, err := Encode(&RootGetRequest{Owner: pub(t, a)})
	if err != nil {
		t.Fatal(err)
	}
	hexKey := pub(t, a).String()
	tests := []struct {
		name string
		body string
		ok   bool
	}{
		{"valid", string(good), true},
		{"whitespace around", " \n" + string(good) + "\n", true},
		{"unknown member", `{"owner":"` + hexKey + `","x":1}`, false},
		{"member in capitals", `{"Owner":"` + hexKey + `"}`, false},
		{"member twice", `{"owner":"` + hexKey + `","owner":"` + hexKey + `"}`, false},
		{"trailing value", string(good) + `{}`, false},
		{"not an object", `["` + hexKey + `"]`, false},
		{"missing owner", `{}`, false},
		{"uppercase hex", `{"owner":"` + strings.ToUpper(hexKey) + `"}`, false},
		{"compressed key", `{"owner":"02` + hexKey[2:66] + `"}`, false},
		{"too large", `{"owner":"` + hexKey + `"` + strings.Repeat(" ", MaxRequest) + `}`, false},
		{"too deep", `{"owner":` + strings.Repeat("[", 20) + strings.Repeat("]", 20) + `}`, false},
		{"empty", ``, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeRootGetRequest([]byte(tt.body))
			if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrMalformed)) {
				t.Fatalf("decode = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}
