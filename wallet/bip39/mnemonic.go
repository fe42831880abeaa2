package bip39

// AppendMnemonic appends the words of indices joined by single ASCII spaces
// to dst: the canonical (already NFKD) mnemonic that Seed uses as PBKDF2
// password. dst is grown at most once, so pass a buffer with room (or nil) to
// leave no stale partial copy behind; the caller wipes the result.
//
// It panics if an index is not below 2048; indices from Parse, ParseWords or
// EntropyToIndices always are.
func AppendMnemonic(dst []byte, indices []uint16) []byte {
	need := 0
	for i, x := range indices {
		if x >= listSize {
			panic("bip39: word index out of range")
		}
		if i > 0 {
			need++
		}
		need += len(english[x])
	}
	if cap(dst)-len(dst) < need {
		grown := make([]byte, len(dst), len(dst)+need)
		copy(grown, dst)
		dst = grown
	}
	for i, x := range indices {
		if i > 0 {
			dst = append(dst, ' ')
		}
		dst = append(dst, english[x]...)
	}
	return dst
}
