package bip39

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

var (
	// ErrChecksum: every word is in the list but the checksum does not match,
	// so a word is wrong or the words are out of order.
	ErrChecksum = errors.New("bip39: checksum mismatch")
	// ErrEntropyLength: entropy is not 16..32 bytes in steps of 4.
	ErrEntropyLength = errors.New("bip39: entropy must be 16 to 32 bytes in steps of 4")
	// ErrInvalidIndex: a word index is not below 2048.
	ErrInvalidIndex = errors.New("bip39: word index out of range")
)

// WordCountError reports a wrong number of words.
type WordCountError struct {
	Got  int   // words found
	Want []int // accepted counts (empty when any non-zero count is accepted)
}

func (e *WordCountError) Error() string {
	if len(e.Want) == 0 {
		return "bip39: no words"
	}
	want := make([]string, len(e.Want))
	for i, n := range e.Want {
		want[i] = strconv.Itoa(n)
	}
	list := want[0]
	if len(want) > 1 {
		list = strings.Join(want[:len(want)-1], ", ") + " or " + want[len(want)-1]
	}
	return fmt.Sprintf("bip39: %d words, want %s", e.Got, list)
}

// UnknownWordError reports the first word that is neither a list word nor a
// four-or-more-letter prefix of one. It never holds the typed word.
type UnknownWordError struct {
	Position    int      // 1-based position of the word
	Suggestions []string // up to four list words close to the typed one, best first; for the UI only
}

func (e *UnknownWordError) Error() string {
	return fmt.Sprintf("bip39: word %d is not in the English word list", e.Position)
}
