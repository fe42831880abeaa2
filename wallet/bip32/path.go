package bip32

import (
	"fmt"
	"strconv"
	"strings"
)

// HardenedOffset is added to an index for hardened derivation (written i').
const HardenedOffset uint32 = 0x80000000

// IdentityPath is m/44'/3'/0'/0/0, the path of a BorgIOS identity key: the
// first receive address of the first Dogecoin BIP44 account. Treat it as
// read-only.
var IdentityPath = []uint32{44 + HardenedOffset, 3 + HardenedOffset, 0 + HardenedOffset, 0, 0}

// maxPathText bounds the text ParsePath reads: 255 components of at most
// "/2147483647'".
const maxPathText = 1 + 255*12

// ParsePath parses "m" followed by "/"-separated decimal indices below 2^31,
// each optionally marked hardened with ', h or H: "m/44'/3'/0'/0/0",
// "m/44h/3h/0h/0/0". "m" alone is the empty path. At most 255 components.
func ParsePath(s string) ([]uint32, error) {
	if len(s) > maxPathText {
		return nil, fmt.Errorf("%w: longer than %d characters", ErrInvalidPath, maxPathText)
	}
	parts := strings.Split(s, "/")
	if parts[0] != "m" {
		return nil, fmt.Errorf("%w: must start with \"m\"", ErrInvalidPath)
	}
	parts = parts[1:]
	if len(parts) > 255 {
		return nil, fmt.Errorf("%w: %d components, at most 255", ErrInvalidPath, len(parts))
	}
	path := make([]uint32, len(parts))
	for i, p := range parts {
		var offset uint32
		if n := len(p); n > 0 && (p[n-1] == '\'' || p[n-1] == 'h' || p[n-1] == 'H') {
			offset, p = HardenedOffset, p[:n-1]
		}
		if p == "" || strings.Trim(p, "0123456789") != "" {
			return nil, fmt.Errorf("%w: component %d is not a decimal index", ErrInvalidPath, i+1)
		}
		n, err := strconv.ParseUint(p, 10, 32)
		if err != nil || uint32(n) >= HardenedOffset {
			return nil, fmt.Errorf("%w: component %d is not below 2^31", ErrInvalidPath, i+1)
		}
		path[i] = uint32(n) + offset
	}
	return path, nil
}

// FormatPath writes path in the form ParsePath reads, hardened indices
// marked with '.
func FormatPath(path []uint32) string {
	var b strings.Builder
	b.WriteByte('m')
	for _, i := range path {
		b.WriteByte('/')
		b.WriteString(strconv.FormatUint(uint64(i&^HardenedOffset), 10))
		if i >= HardenedOffset {
			b.WriteByte('\'')
		}
	}
	return b.String()
}
