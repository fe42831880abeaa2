package transport

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// ALPN protocol names. The node channel and the receptor use different
// names, so a connection can never be taken for the other kind.
const (
	alpnNode     = "borgios-node/1"
	alpnReceptor = "borgios-recp/1"
)

// NewCertificate returns a fresh self-signed ECDSA P-256 certificate from
// crypto/rand. Its validity is irrelevant (peers never check it against a
// CA or a date: the node card is the trust anchor) and set to ten years.
func NewCertificate() (tls.Certificate, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("transport: certificate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("transport: certificate serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "borgios-node"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("transport: create certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("transport: parse certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: priv, Leaf: leaf}, nil
}

// TLSKeyHash returns SHA-256 of the certificate's SubjectPublicKeyInfo, the
// value a node card carries.
func TLSKeyHash(cert *x509.Certificate) [32]byte {
	return sha256.Sum256(cert.RawSubjectPublicKeyInfo)
}

func certKeyHash(c tls.Certificate) ([32]byte, error) {
	leaf := c.Leaf
	if leaf == nil {
		if len(c.Certificate) == 0 {
			return [32]byte{}, errors.New("transport: empty certificate")
		}
		var err error
		if leaf, err = x509.ParseCertificate(c.Certificate[0]); err != nil {
			return [32]byte{}, fmt.Errorf("transport: parse certificate: %w", err)
		}
	}
	return TLSKeyHash(leaf), nil
}

// checkPeerCert is the VerifyPeerCertificate hook. It does not validate a
// chain, a name or dates: the peer's identity is established after the
// handshake by its node card, which must name the hash of this very key.
// It only requires one certificate with an ECDSA P-256 or Ed25519 key.
func checkPeerCert(rawCerts [][]byte, _ [][]*x509.Certificate) error {
	if len(rawCerts) != 1 {
		return fmt.Errorf("%w: want exactly one certificate, got %d", ErrBadCard, len(rawCerts))
	}
	cert, err := x509.ParseCertificate(rawCerts[0])
	if err != nil {
		return fmt.Errorf("%w: certificate: %v", ErrBadCard, err)
	}
	switch k := cert.PublicKey.(type) {
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return fmt.Errorf("%w: certificate key is not P-256", ErrBadCard)
		}
	case ed25519.PublicKey:
	default:
		return fmt.Errorf("%w: certificate key is neither ECDSA P-256 nor Ed25519", ErrBadCard)
	}
	return nil
}

// checkState is the VerifyConnection hook: TLS 1.3 and the expected ALPN.
func checkState(alpn string) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if cs.Version != tls.VersionTLS13 {
			return fmt.Errorf("transport: TLS version %x, want 1.3", cs.Version)
		}
		if cs.NegotiatedProtocol != alpn {
			return fmt.Errorf("transport: ALPN %q, want %q", cs.NegotiatedProtocol, alpn)
		}
		return nil
	}
}

// serverTLS is the listener side. clientCerts requires a client certificate
// (the node channel, mutual TLS); the receptor asks for none.
func serverTLS(cert tls.Certificate, alpn string, clientCerts bool) *tls.Config {
	c := &tls.Config{
		MinVersion:             tls.VersionTLS13,
		MaxVersion:             tls.VersionTLS13,
		Certificates:           []tls.Certificate{cert},
		NextProtos:             []string{alpn},
		SessionTicketsDisabled: true,
		VerifyConnection:       checkState(alpn),
	}
	if clientCerts {
		c.ClientAuth = tls.RequireAnyClientCert
		c.VerifyPeerCertificate = checkPeerCert
	}
	return c
}

// clientTLS is the dialling side. InsecureSkipVerify turns off CA and name
// checks only; VerifyPeerCertificate and VerifyConnection still run, and the
// card check after the handshake pins the certificate key to the node key.
// cert may be nil (a receptor client has no certificate).
func clientTLS(cert *tls.Certificate, alpn string) *tls.Config {
	c := &tls.Config{
		MinVersion:            tls.VersionTLS13,
		MaxVersion:            tls.VersionTLS13,
		NextProtos:            []string{alpn},
		InsecureSkipVerify:    true, // trust is the node card, not a CA: see doc.go
		VerifyPeerCertificate: checkPeerCert,
		VerifyConnection:      checkState(alpn),
	}
	if cert != nil {
		c.Certificates = []tls.Certificate{*cert}
	}
	return c
}

// peerKeyHash returns the TLS key hash of the certificate the peer
// presented on an established connection.
func peerKeyHash(cs tls.ConnectionState) ([32]byte, error) {
	if len(cs.PeerCertificates) != 1 {
		return [32]byte{}, fmt.Errorf("%w: peer presented %d certificates", ErrBadCard, len(cs.PeerCertificates))
	}
	return TLSKeyHash(cs.PeerCertificates[0]), nil
}
