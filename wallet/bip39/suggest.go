package bip39

import "slices"

// maxSuggestions is the number of suggestions an UnknownWordError carries.
const maxSuggestions = 4

// maxEdits is the largest edit distance at which a word is still suggested.
const maxEdits = 2

// Suggest returns up to limit English words for autocomplete: the words that
// start with the normalised prefix (NFKD, lower case, surrounding space
// trimmed; of several words only the last counts), in list order; when none
// does, the word sharing its first four letters and then the words within a
// small edit distance, closest first. The strings are the list's own.
func Suggest(prefix []byte, limit int) []string {
	var last [maxTyped]byte
	defer clear(last[:])
	n := 0
	scanWords(prefix, func(word []byte, _ bool) bool {
		clear(last[:])
		n = copy(last[:], word)
		return true
	})
	return closest(last[:n], limit, false)
}

// closest lists up to limit list words for typed: words starting with it;
// then, if none did or fill is set, the one word sharing its first four
// letters and words within maxEdits edits (optimal string alignment
// distance), closest first and in list order on ties.
func closest(typed []byte, limit int, fill bool) []string {
	if limit <= 0 || len(typed) == 0 {
		return nil
	}
	limit = min(limit, listSize)
	out := make([]string, 0, min(limit, maxSuggestions))
	for i := lowerBound(typed); i < listSize && len(out) < limit && hasPrefix(english[i], typed); i++ {
		out = append(out, english[i])
	}
	if len(out) == limit || (len(out) > 0 && !fill) {
		return out
	}
	if len(typed) >= 4 {
		if i := lowerBound(typed[:4]); i < listSize && hasPrefix(english[i], typed[:4]) && !slices.Contains(out, english[i]) {
			out = append(out, english[i])
		}
	}
	type candidate struct{ dist, index int }
	var cands []candidate
	for i, w := range english {
		if d := editDistance(typed, w); d <= maxEdits && !slices.Contains(out, w) {
			cands = append(cands, candidate{d, i})
		}
	}
	slices.SortStableFunc(cands, func(a, b candidate) int { return a.dist - b.dist })
	for _, c := range cands {
		if len(out) == limit {
			break
		}
		out = append(out, english[c.index])
	}
	return out
}

// editDistance returns the optimal string alignment distance (Levenshtein
// plus adjacent transpositions) between typed and a list word, or
// maxEdits+1 when it is certainly larger than maxEdits.
func editDistance(typed []byte, word string) int {
	if d := len(typed) - len(word); d > maxEdits || d < -maxEdits {
		return maxEdits + 1
	}
	// Three rows over the list word (at most maxWordLen letters).
	var prev2, prev, cur [maxWordLen + 1]int
	for j := range len(word) + 1 {
		prev[j] = j
	}
	for i := 1; i <= len(typed); i++ {
		cur[0] = i
		for j := 1; j <= len(word); j++ {
			cost := 1
			if typed[i-1] == word[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && typed[i-1] == word[j-2] && typed[i-2] == word[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(word)]
}
