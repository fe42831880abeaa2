package legacy

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
)

// MaxFileSize bounds the data OpenFile reads; real key files are a few KiB.
const MaxFileSize = 1 << 20

// FileInfo describes the identity in a key file OpenFile read.
type FileInfo struct {
	Kind      FileKind
	MUID      string // derived from the key, and checked against the file's own claim
	PublicKey []byte // 65-byte uncompressed public key, derived from the key
}

// walletFile holds every field any of the formats uses. The private key stays
// raw JSON bytes (never a Go string); walletCipher and rsaKeys are not read.
type walletFile struct {
	Version    json.RawMessage `json:"version"`
	OwnMUID    *string         `json:"ownMUID"`
	PeerMUID   *string         `json:"peerMUID"`
	PublicKey  *string         `json:"publicKey"`
	PrivateKey json.RawMessage `json:"privateKey"`
	Encrypted  *string         `json:"encrypted"`
	Salt       *string         `json:"salt"`
	IV         *string         `json:"iv"`
	AuthTag    *string         `json:"authTag"`
}

// detect tells the kind of file from the fields present.
func (f *walletFile) detect() (FileKind, error) {
	hasEnc := f.Encrypted != nil || f.Salt != nil || f.IV != nil || f.AuthTag != nil
	hasKey := f.PrivateKey != nil
	switch {
	case f.Version != nil:
		switch {
		case !bytes.Equal(f.Version, []byte("3")):
			return 0, fmt.Errorf("%w: unsupported wallet version", ErrUnknownFormat)
		case hasEnc && !hasKey:
			return V3Encrypted, nil
		case hasKey && !hasEnc:
			return V3Plain, nil
		}
		return 0, fmt.Errorf("%w: v3 wallet needs either a private key or an encrypted one", ErrCorrupt)
	case hasEnc || !hasKey:
		return 0, ErrUnknownFormat
	case f.OwnMUID != nil && f.PeerMUID == nil:
		return Passport, nil
	case f.PeerMUID != nil && f.OwnMUID == nil:
		return PeerTreeKey, nil
	}
	return 0, ErrUnknownFormat
}

// unmarshal decodes the outer file, turning JSON errors into this package's
// errors without quoting the input. A truncated file is a *json.SyntaxError
// ("unexpected end of JSON input") and, starting with "{", reads as corrupt.
func unmarshal(data []byte, f *walletFile) error {
	err := json.Unmarshal(data, f)
	if err == nil {
		return nil
	}
	var syntax *json.SyntaxError
	switch {
	case errors.As(err, &syntax) && bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("{")):
		return fmt.Errorf("%w: invalid JSON at byte %d (truncated?)", ErrCorrupt, syntax.Offset)
	case errors.As(err, &syntax):
		return fmt.Errorf("%w: not JSON", ErrUnknownFormat)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return fmt.Errorf("%w: field %q has the wrong type", ErrUnknownFormat, typ.Field)
	}
	return fmt.Errorf("%w: not a JSON object", ErrUnknownFormat)
}

// privateKeyField decodes the JSON value of a privateKey field, a string of
// 1..64 hex digits, into dst without making a Go string.
func privateKeyField(raw json.RawMessage, dst *[32]byte) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return fmt.Errorf("%w: privateKey is not a string", ErrCorrupt)
	}
	if !decodeKeyHex(raw[1:len(raw)-1], dst) {
		return fmt.Errorf("%w: privateKey is not 1 to 64 hex digits", ErrCorrupt)
	}
	if !validKey(dst) {
		clear(dst[:])
		return ErrInvalidKey
	}
	return nil
}

// OpenFile reads a legacy key file and writes its private key to dst.
//
// The kind is detected from the fields present (see FileKind). An encrypted
// v3 wallet is opened with passphrase (UTF-8 bytes as typed, as the
// reference used them): PBKDF2-HMAC-SHA256(passphrase, salt, 100000, 32)
// and AES-256-GCM with the file's 16-byte IV, no AAD. Plaintext kinds ignore
// passphrase. The private key is read from hex (left-padded when shorter
// than 64 digits), must be in [1, n-1], and must give the file's ownMUID
// (peerMUID for a PeerTree key) and publicKey where the file states them.
//
// Errors: ErrPassphraseRequired, ErrWrongPassphrase, ErrUnknownFormat,
// ErrCorrupt, ErrInvalidKey, ErrMismatch (wrapped; use errors.Is). On error
// dst is zeroed.
func OpenFile(data []byte, passphrase []byte, dst *[32]byte) (FileInfo, error) {
	info, err := openFile(data, passphrase, dst)
	if err != nil {
		clear(dst[:])
		return FileInfo{}, err
	}
	return info, nil
}

func openFile(data []byte, passphrase []byte, dst *[32]byte) (FileInfo, error) {
	if len(data) > MaxFileSize {
		return FileInfo{}, fmt.Errorf("%w: larger than %d bytes", ErrUnknownFormat, MaxFileSize)
	}
	var f walletFile
	defer func() { clear(f.PrivateKey) }()
	if err := unmarshal(data, &f); err != nil {
		return FileInfo{}, err
	}
	kind, err := f.detect()
	if err != nil {
		return FileInfo{}, err
	}

	rawKey, claimed := f.PrivateKey, f.OwnMUID
	switch kind {
	case PeerTreeKey:
		claimed = f.PeerMUID
	case V3Encrypted:
		if len(passphrase) == 0 {
			return FileInfo{}, ErrPassphraseRequired
		}
		plain, err := decryptV3(&f, passphrase)
		if err != nil {
			return FileInfo{}, err
		}
		var record struct {
			PrivateKey json.RawMessage `json:"privateKey"`
		}
		err = json.Unmarshal(plain, &record)
		clear(plain)
		defer func() { clear(record.PrivateKey) }()
		if err != nil || record.PrivateKey == nil {
			return FileInfo{}, fmt.Errorf("%w: decrypted record is not a wallet record", ErrCorrupt)
		}
		rawKey = record.PrivateKey
	}

	if err := privateKeyField(rawKey, dst); err != nil {
		return FileInfo{}, err
	}
	pub, muid, err := identity(dst)
	if err != nil {
		return FileInfo{}, fmt.Errorf("legacy: %w", err)
	}
	if claimed != nil && *claimed != muid {
		return FileInfo{}, fmt.Errorf("%w: file names %q, key gives %q", ErrMismatch, *claimed, muid)
	}
	if f.PublicKey != nil {
		stated, err := hex.DecodeString(*f.PublicKey)
		if err != nil {
			return FileInfo{}, fmt.Errorf("%w: publicKey is not hex", ErrCorrupt)
		}
		if !bytes.Equal(stated, pub) {
			return FileInfo{}, fmt.Errorf("%w: publicKey differs from the key's", ErrMismatch)
		}
	}
	return FileInfo{Kind: kind, MUID: muid, PublicKey: pub}, nil
}
