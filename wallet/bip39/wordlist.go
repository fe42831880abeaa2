package bip39

import "github.com/tyler-smith/go-bip39/wordlists"

// listSize is the number of words in a BIP39 list (11 bits per word).
const listSize = 2048

// maxWordLen is the length of the longest English list word.
const maxWordLen = 8

// english is a private copy of the English list, so no other package can
// change the words this one decodes to. The list is sorted and its words are
// unique in their first four letters (both checked by the tests), which
// lookup relies on.
var english = func() (list [listSize]string) {
	if len(wordlists.English) != listSize {
		panic("bip39: English word list does not have 2048 words")
	}
	copy(list[:], wordlists.English)
	return list
}()

// Word returns entry i of the English list, or "" when i is not in 0..2047.
func Word(i int) string {
	if i < 0 || i >= listSize {
		return ""
	}
	return english[i]
}

// compareWord compares a typed word with a list word like bytes.Compare,
// without converting either to another type.
func compareWord(typed []byte, word string) int {
	n := min(len(typed), len(word))
	for i := range n {
		switch {
		case typed[i] < word[i]:
			return -1
		case typed[i] > word[i]:
			return 1
		}
	}
	switch {
	case len(typed) < len(word):
		return -1
	case len(typed) > len(word):
		return 1
	}
	return 0
}

// hasPrefix reports whether word starts with prefix.
func hasPrefix(word string, prefix []byte) bool {
	if len(prefix) > len(word) {
		return false
	}
	for i, c := range prefix {
		if word[i] != c {
			return false
		}
	}
	return true
}

// lowerBound returns the index of the first list word not less than typed.
func lowerBound(typed []byte) int {
	lo, hi := 0, listSize
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if compareWord(typed, english[mid]) > 0 {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// lookup returns the index of typed (already normalised): an exact list word,
// or a prefix of at least four letters of exactly one list word.
func lookup(typed []byte) (uint16, bool) {
	if len(typed) == 0 {
		return 0, false
	}
	i := lowerBound(typed)
	if i == listSize {
		return 0, false
	}
	if compareWord(typed, english[i]) == 0 || (len(typed) >= 4 && hasPrefix(english[i], typed)) {
		return uint16(i), true
	}
	return 0, false
}
