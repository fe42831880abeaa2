package conduit

import "github.com/borgios/borghui/wallet"

// devWalletWords are the well-known BIP39 test words (all "abandon" but the
// last). The development network's wallet is the identity they give: its
// key is public knowledge, so its shells are play money for devnets, solo
// mode and benchmarks. A real network names its own wallet's public key
// (borghui node --network-key).
const devWalletWords = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon art"

// DevNetworkWallet returns the development network's wallet identity (the
// caller destroys it). Never use it for anything of value.
func DevNetworkWallet() (*wallet.Identity, error) {
	return wallet.FromWords([]byte(devWalletWords), nil)
}
