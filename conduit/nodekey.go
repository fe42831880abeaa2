package conduit

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/borgios/borghui/internal/dirs"
	"github.com/borgios/borghui/wallet"
	"github.com/borgios/borghui/wallet/keystore"
)

// NodeKeyFolder is the folder, under a node's data folder, that holds its key.
const NodeKeyFolder = "nodekey"

// OpenNodeKey loads the network node key kept in dataDir (in the keystore
// format, under passphrase), or makes and saves a new one on first start.
// testKDF selects the tiny Argon2id cost (devnets and tests only).
func OpenNodeKey(dataDir string, passphrase []byte, testKDF bool) (*wallet.Identity, error) {
	var params keystore.Params
	if testKDF {
		params = keystore.TestParams
	}
	store := &keystore.Store{Dir: filepath.Join(dataDir, NodeKeyFolder), Params: params}
	payload, _, err := store.Open(passphrase)
	if err == nil {
		defer clear(payload)
		return wallet.UnmarshalSecret(payload)
	}
	if !errors.Is(err, keystore.ErrNotFound) && !errors.Is(err, keystore.ErrNoDataFolder) {
		return nil, fromKeystore(err)
	}
	id, err := wallet.NewNodeKey()
	if err != nil {
		return nil, err
	}
	payload, err = id.MarshalSecret()
	if err != nil {
		id.Destroy()
		return nil, err
	}
	defer clear(payload)
	if err := mkdir(store.Dir); err != nil {
		id.Destroy()
		return nil, err
	}
	meta := keystore.Meta{MUID: id.MUID(), BorgDoge: id.BorgDoge(), Kind: string(wallet.KindNode)}
	if err := store.Create(payload, passphrase, meta); err != nil {
		id.Destroy()
		return nil, fmt.Errorf("conduit: saving the node key: %w", fromKeystore(err))
	}
	return id, nil
}

func mkdir(dir string) error {
	if err := dirs.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("conduit: making %s: %w", dir, err)
	}
	return nil
}
