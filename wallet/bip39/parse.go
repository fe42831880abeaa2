package bip39

import "slices"

// Parse reads a BIP39 English mnemonic of 12, 15, 18, 21 or 24 words,
// tolerantly (see the package documentation), checks its checksum and
// returns the word indices; the caller wipes them with clear(). Errors:
// *WordCountError, *UnknownWordError, ErrChecksum, checked in that order.
func Parse(input []byte) ([]uint16, error) {
	indices, err := ParseWords(input, wordCounts...)
	if err != nil {
		return nil, err
	}
	var entropy [Entropy24]byte
	_, err = IndicesToEntropy(indices, entropy[:0])
	clear(entropy[:])
	if err != nil {
		clear(indices)
		return nil, err
	}
	return indices, nil
}

// ParseWords looks up every word of input in the English list with the same
// tolerance as Parse, but checks no checksum. counts lists the accepted word
// counts (none: any non-zero count); a wrong count is reported as
// *WordCountError before any word is looked up, then the first unknown word
// as *UnknownWordError. It serves other phrase formats over the same list
// (the 27-word legacy borgHUI phrase). The caller wipes the result.
func ParseWords(input []byte, counts ...int) ([]uint16, error) {
	n := countWords(input)
	if n == 0 || (len(counts) > 0 && !slices.Contains(counts, n)) {
		return nil, &WordCountError{Got: n, Want: slices.Clone(counts)}
	}
	out := make([]uint16, 0, n)
	var err error
	scanWords(input, func(word []byte, long bool) bool {
		if !long {
			if i, ok := lookup(word); ok {
				out = append(out, i)
				return true
			}
		}
		err = &UnknownWordError{Position: len(out) + 1, Suggestions: closest(word, maxSuggestions, true)}
		return false
	})
	if err != nil {
		clear(out)
		return nil, err
	}
	return out, nil
}
