package conduit

import "unicode/utf8"

// MinPassphraseRunes is the shortest keystore passphrase accepted.
const MinPassphraseRunes = 10

// Strength rates a passphrase from 0 (very weak) to 4 (strong) by its length
// and variety. It is a guard against the obviously weak, not a guarantee;
// the browser shows the same rating live (assets/app.js mirrors it).
func Strength(p []byte) int {
	n := utf8.RuneCount(p)
	var lower, upper, digit, other bool
	distinct := make(map[rune]struct{}, 16)
	for _, r := range string(p) { // ranging over a conversion does not allocate a string
		distinct[r] = struct{}{}
		switch {
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= '0' && r <= '9':
			digit = true
		default:
			other = true
		}
	}
	classes := 0
	for _, b := range []bool{lower, upper, digit, other} {
		if b {
			classes++
		}
	}
	if len(distinct) <= 3 {
		return 0
	}
	score := 0
	switch {
	case n >= 20:
		score = 3
	case n >= 14:
		score = 2
	case n >= MinPassphraseRunes:
		score = 1
	}
	if classes >= 3 || (classes >= 2 && n >= 16) {
		score++
	}
	if score > 4 {
		score = 4
	}
	return score
}

// checkNewPassphrase refuses passphrases that are too weak or mistyped.
func checkNewPassphrase(pass, confirm []byte) error {
	if utf8.RuneCount(pass) < MinPassphraseRunes {
		return &PassphraseError{Reason: "Choose a passphrase of at least 10 characters; a few unrelated words work well."}
	}
	if Strength(pass) < 2 {
		return &PassphraseError{Reason: "That passphrase is too easy to guess. Make it longer or mix in other words, digits or symbols."}
	}
	if !equalBytes(pass, confirm) {
		return &PassphraseError{Reason: "The two passphrases differ. Type the same passphrase twice."}
	}
	return nil
}

func equalBytes(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	var v byte
	for i := range a {
		v |= a[i] ^ b[i]
	}
	return v == 0
}
