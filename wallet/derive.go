package wallet

import (
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
)

// DeriveKey fills dst with a key derived from the identity's secret for one
// purpose: HKDF-SHA256 with the BIP39 seed as input key material (the bare
// private key for a legacy or node identity), salt "BorgIOS/v1/derive/" +
// label, and info. Distinct labels give independent keys (files, mail, …);
// restoring from the words restores every derived key.
func (id *Identity) DeriveKey(label string, info []byte, dst []byte) error {
	if label == "" || len(dst) == 0 || len(dst) > 64 {
		return errors.New("wallet: DeriveKey needs a label and 1 to 64 bytes of output")
	}
	src := id.seed
	if src == nil {
		src = id.key
	}
	o, err := src.open()
	if err != nil {
		return ErrLocked
	}
	defer o.destroy()
	k, err := hkdf.Key(sha256.New, o.bytes(), []byte("BorgIOS/v1/derive/"+label), string(info), len(dst))
	if err != nil {
		return fmt.Errorf("wallet: deriving a key: %w", err)
	}
	copy(dst, k)
	clear(k)
	return nil
}
