package conduit

import (
	"crypto/rand"
	"math/big"
	"slices"

	"github.com/borgios/borghui/wallet"
	"github.com/borgios/borghui/wallet/bip39"
	"github.com/borgios/borghui/wallet/legacy"
)

// QuizSize is how many of the new words the person types back.
const QuizSize = 3

// draft is an identity being created: words shown once, then checked.
type draft struct {
	id     *wallet.Identity // derived without a BIP39 passphrase
	quiz   []int            // 0-based positions to check, ascending
	shown  bool
	passed bool
}

// BeginCreate starts creating a new identity from 256 bits of system
// randomness, replacing any draft under way. It returns the 1-based word
// positions the quiz will ask for.
func (c *Conduit) BeginCreate() ([]int, error) {
	entropy, err := wallet.NewEntropy()
	if err != nil {
		return nil, err
	}
	defer clear(entropy)
	id, err := wallet.FromEntropy(entropy, nil)
	if err != nil {
		return nil, err
	}
	quiz, err := pickPositions(bip39.Words24, QuizSize)
	if err != nil {
		id.Destroy()
		return nil, err
	}
	c.mu.Lock()
	c.dropDraftLocked()
	c.draft = &draft{id: id, quiz: quiz}
	c.mu.Unlock()
	c.log.Info("identity creation started")
	return oneBased(quiz), nil
}

// DraftWords returns the new identity's words, once. They are entries of the
// static BIP39 list, so no copy of a secret is made; the caller must not keep
// the slice beyond rendering it.
func (c *Conduit) DraftWords() ([]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.draft == nil {
		return nil, ErrNoDraft
	}
	if c.draft.shown {
		return nil, ErrWordsShown
	}
	indices, err := c.draftIndicesLocked()
	if err != nil {
		return nil, err
	}
	defer clear(indices)
	words := make([]string, len(indices))
	for i, ix := range indices {
		words[i] = bip39.Word(int(ix))
	}
	c.draft.shown = true
	return words, nil
}

// DraftQuiz returns the 1-based positions of the words to confirm.
func (c *Conduit) DraftQuiz() ([]int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.draft == nil {
		return nil, ErrNoDraft
	}
	return oneBased(c.draft.quiz), nil
}

// CheckQuiz compares the typed words (in the order of DraftQuiz) with the
// draft. Typing is forgiving in the same way as restoring.
func (c *Conduit) CheckQuiz(answers [][]byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.draft == nil {
		return ErrNoDraft
	}
	indices, err := c.draftIndicesLocked()
	if err != nil {
		return err
	}
	defer clear(indices)
	var wrong []int
	for i, pos := range c.draft.quiz {
		var typed []byte
		if i < len(answers) {
			typed = answers[i]
		}
		got, err := bip39.ParseWords(typed, 1)
		if err != nil || got[0] != indices[pos] {
			wrong = append(wrong, pos+1)
		}
	}
	if len(wrong) > 0 {
		return &QuizError{Wrong: wrong}
	}
	c.draft.passed = true
	return nil
}

// FinishCreate saves the draft under the keystore passphrase, applying the
// optional BIP39 passphrase, and unlocks it. replace confirms overwriting an
// identity already on the stick (a backup of it is kept).
func (c *Conduit) FinishCreate(passphrase, confirm, bip39Passphrase []byte, replace bool) error {
	c.mu.Lock()
	d := c.draft
	if d == nil {
		c.mu.Unlock()
		return ErrNoDraft
	}
	if !d.passed {
		c.mu.Unlock()
		return ErrQuizNotPassed
	}
	if err := checkNewPassphrase(passphrase, confirm); err != nil {
		c.mu.Unlock()
		return err
	}
	words, err := d.id.AppendWords(nil)
	c.mu.Unlock()
	if err != nil {
		return err
	}
	defer clear(words)
	id, err := wallet.FromWords(words, bip39Passphrase)
	if err != nil {
		return err
	}
	if err := c.adopt(id, passphrase, confirm, replace); err != nil {
		return err
	}
	c.mu.Lock()
	if c.draft == d {
		c.dropDraftLocked()
	}
	c.mu.Unlock()
	return nil
}

// CancelCreate forgets the draft.
func (c *Conduit) CancelCreate() {
	c.mu.Lock()
	c.dropDraftLocked()
	c.mu.Unlock()
}

// RestoreWords restores an identity from its BIP39 words and optional BIP39
// passphrase, saving it under the keystore passphrase.
func (c *Conduit) RestoreWords(words, bip39Passphrase, passphrase, confirm []byte, replace bool) error {
	if err := checkNewPassphrase(passphrase, confirm); err != nil {
		return err
	}
	id, err := wallet.FromWords(words, bip39Passphrase)
	if err != nil {
		return err
	}
	return c.adopt(id, passphrase, confirm, replace)
}

// RestoreLegacyPhrase imports an old borgHUI 27-word phrase.
func (c *Conduit) RestoreLegacyPhrase(words, passphrase, confirm []byte, replace bool) error {
	if err := checkNewPassphrase(passphrase, confirm); err != nil {
		return err
	}
	var key [32]byte
	if err := legacy.DecodePhrase(words, &key); err != nil {
		clear(key[:])
		return err
	}
	id, err := wallet.FromLegacyKey(&key)
	if err != nil {
		return err
	}
	return c.adopt(id, passphrase, confirm, replace)
}

// RestoreLegacyFile imports an old borgHUI wallet file, bmgpPassport file or
// PeerTree key file; filePassphrase opens an encrypted borgHUI v3 file.
func (c *Conduit) RestoreLegacyFile(file, filePassphrase, passphrase, confirm []byte, replace bool) error {
	if err := checkNewPassphrase(passphrase, confirm); err != nil {
		return err
	}
	var key [32]byte
	if _, err := legacy.OpenFile(file, filePassphrase, &key); err != nil {
		clear(key[:])
		return err
	}
	id, err := wallet.FromLegacyKey(&key)
	if err != nil {
		return err
	}
	return c.adopt(id, passphrase, confirm, replace)
}

func (c *Conduit) draftIndicesLocked() ([]uint16, error) {
	words, err := c.draft.id.AppendWords(nil)
	if err != nil {
		return nil, err
	}
	defer clear(words)
	return bip39.Parse(words)
}

func (c *Conduit) dropDraftLocked() {
	if c.draft != nil {
		c.draft.id.Destroy()
		c.draft = nil
	}
}

// pickPositions returns k distinct positions below n, ascending.
func pickPositions(n, k int) ([]int, error) {
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j, err := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		if err != nil {
			return nil, err
		}
		perm[i], perm[j.Int64()] = perm[j.Int64()], perm[i]
	}
	out := perm[:k]
	slices.Sort(out)
	return out, nil
}

func oneBased(ps []int) []int {
	out := make([]int, len(ps))
	for i, p := range ps {
		out[i] = p + 1
	}
	return out
}
