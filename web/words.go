package web

import (
	"sync"

	"github.com/borgios/borghui/wallet/bip39"
)

// allWords is the BIP39 English list for the autocomplete datalist. It is
// public and static.
var allWords = sync.OnceValue(func() []string {
	out := make([]string, 2048)
	for i := range out {
		out[i] = bip39.Word(i)
	}
	return out
})
