package mail

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"golang.org/x/crypto/chacha20poly1305"
)

// writeFileAtomic replaces path with data: a temp file in the same folder,
// written and fsynced, renamed over path, and the folder fsynced, so a
// crash leaves either the old file or the new one, never a mix.
func writeFileAtomic(path string, data []byte) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	return syncDir(dir)
}

// syncDir fsyncs a folder so a rename or removal in it is durable (a no-op
// where folders cannot be synced).
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing %s: %w", dir, err)
	}
	return nil
}

// removeTemps deletes temp files a crash left in dir.
func removeTemps(dir string) {
	matches, _ := filepath.Glob(filepath.Join(dir, ".*.tmp-*"))
	for _, m := range matches {
		os.Remove(m)
	}
}

// Local files (prekey store, mailbox) are sealed with XChaCha20-Poly1305:
//
//	magic(4) ‖ version(1) = 1 ‖ nonce(24, random) ‖ ciphertext ‖ tag(16)
//
// with AAD = magic ‖ version ‖ the file's label, so a file cannot be
// passed off as another.
const fileVersion = 1

func sealFile(key []byte, magic, label string, plain []byte) ([]byte, error) {
	a, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, 5+a.NonceSize()+len(plain)+a.Overhead())
	out = append(out, magic...)
	out = append(out, fileVersion)
	nonce := make([]byte, a.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	out = append(out, nonce...)
	aad := append([]byte(magic+string(rune(fileVersion))), label...)
	return a.Seal(out, nonce, plain, aad), nil
}

func openFile(key []byte, magic, label string, b []byte) ([]byte, error) {
	a, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, err
	}
	if len(b) < 5+a.NonceSize()+a.Overhead() || string(b[:4]) != magic || b[4] != fileVersion {
		return nil, fmt.Errorf("%w: not a %s file", ErrMalformed, magic)
	}
	nonce := b[5 : 5+a.NonceSize()]
	aad := append([]byte(magic+string(rune(fileVersion))), label...)
	plain, err := a.Open(nil, nonce, b[5+a.NonceSize():], aad)
	if err != nil {
		return nil, fmt.Errorf("%w: %s file does not open with this identity's key (another identity's, or damaged)", ErrOpen, magic)
	}
	return plain, nil
}
