package legacy

// FileKind tells which legacy key file OpenFile read.
type FileKind int

// The kinds of key file. The zero value means none.
const (
	// V3Encrypted is a borgHUI wallet v3 file with an encrypted key.
	V3Encrypted FileKind = iota + 1
	// V3Plain is a borgHUI wallet v3 file with the key in clear.
	V3Plain
	// Passport is an older bmgpPassport wallet (no version field).
	Passport
	// PeerTreeKey is a PeerTree node key, keys/peerTreeNet.key.
	PeerTreeKey
)

// String names the kind for logs and the UI.
func (k FileKind) String() string {
	switch k {
	case V3Encrypted:
		return "borgHUI wallet v3 (encrypted)"
	case V3Plain:
		return "borgHUI wallet v3 (plaintext)"
	case Passport:
		return "bmgpPassport wallet"
	case PeerTreeKey:
		return "PeerTree node key"
	}
	return "unknown"
}
