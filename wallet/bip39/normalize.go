package bip39

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// maxTyped is the longest typed word kept for lookup and suggestions (in
// bytes); a longer word cannot be a list word and is reported as unknown.
const maxTyped = 32

// scanWords walks input NFKD-normalised and lower-cased, and calls fn for
// every white-space separated word; fn returns false to stop. long reports a
// word longer than maxTyped bytes (word then holds its start). The slice
// given to fn aliases a buffer that is wiped when scanWords returns, as is
// the normaliser's internal state.
func scanWords(input []byte, fn func(word []byte, long bool) bool) {
	it := new(norm.Iter)
	buf := new([maxTyped]byte)
	defer func() {
		*it = norm.Iter{}
		clear(buf[:])
	}()

	n, long := 0, false
	emit := func() bool {
		if n == 0 && !long {
			return true
		}
		more := fn(buf[:n], long)
		clear(buf[:n])
		n, long = 0, false
		return more
	}

	it.Init(norm.NFKD, input)
	for !it.Done() {
		seg := it.Next()
		for len(seg) > 0 {
			r, size := utf8.DecodeRune(seg)
			seg = seg[size:]
			if unicode.IsSpace(r) {
				if !emit() {
					return
				}
				continue
			}
			r = unicode.ToLower(r)
			if n+utf8.RuneLen(r) > maxTyped {
				long = true
				continue
			}
			n += utf8.EncodeRune(buf[n:], r)
		}
	}
	emit()
}

// countWords returns the number of words scanWords finds.
func countWords(input []byte) int {
	count := 0
	scanWords(input, func([]byte, bool) bool {
		count++
		return true
	})
	return count
}

// appendNFKD appends NFKD(src) to dst. The result's length is measured first
// so dst is grown at most once and no partial copy is left behind; the
// normaliser's internal state is wiped.
func appendNFKD(dst, src []byte) []byte {
	it := new(norm.Iter)
	defer func() { *it = norm.Iter{} }()

	size := 0
	for it.Init(norm.NFKD, src); !it.Done(); {
		size += len(it.Next())
	}
	if cap(dst)-len(dst) < size {
		grown := make([]byte, len(dst), len(dst)+size)
		copy(grown, dst)
		dst = grown
	}
	for it.Init(norm.NFKD, src); !it.Done(); {
		dst = append(dst, it.Next()...)
	}
	return dst
}
