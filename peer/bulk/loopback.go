package bulk

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"fmt"
	"io"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"os"
	"sync"
	"time"
)

// Result is what Measure found. Rates are MB/s (10⁶ bytes per second).
type Result struct {
	Size int64
	// RawTLS: Size bytes written in 1 MiB writes on one connection and read
	// by the other side (the ceiling for Transfer).
	RawTLS float64
	// Transfer: Send end to end: hashing the source, the transfer, the
	// receiver's fsync and rename, Done.
	Transfer float64
	// Wire: Transfer without the source hashing (Send of a ready Offer).
	Wire  float64
	Stats Stats
}

// Measure benchmarks on connections from ln (accepted side: Receiver) and
// dial (Send side), which may come from any transport: first a raw stream of
// size bytes, then Send of an in-memory size-byte blob (Options opts) to a
// Receiver in a fresh directory under dir ("" = os.TempDir()), removed
// afterwards, and a second Send of the same blob made with a precomputed
// offer (Wire) to a second directory. It closes ln.
func Measure(ctx context.Context, size int64, dir string, opts Options, ln net.Listener, dial func(context.Context) (net.Conn, error)) (Result, error) {
	defer ln.Close()
	res := Result{Size: size}
	tmp, err := os.MkdirTemp(dir, "bulk-bench-")
	if err != nil {
		return res, fmt.Errorf("bulk: measure: %w", err)
	}
	defer os.RemoveAll(tmp)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// Accept loop: the first connection is the raw stream, the rest go to
	// the receiver of the current phase.
	recv := make(chan *Receiver, 1)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		ln.Close()
		wg.Wait()
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		first := true
		var r *Receiver
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if first {
				first = false
				wg.Add(1)
				go func() { defer wg.Done(); rawSink(c) }()
				continue
			}
			select {
			case r = <-recv:
			default:
			}
			wg.Add(1)
			go func(r *Receiver) { defer wg.Done(); r.Serve(ctx, c) }(r)
		}
	}()

	// Raw stream.
	buf := make([]byte, 1<<20)
	c, err := dial(ctx)
	if err != nil {
		return res, fmt.Errorf("bulk: measure: dial: %w", err)
	}
	start := time.Now()
	err = rawSend(c, buf, size)
	c.Close()
	if err != nil {
		return res, fmt.Errorf("bulk: measure: raw stream: %w", err)
	}
	res.RawTLS = rate(size, time.Since(start))

	// The blob.
	data := make([]byte, size)
	fill := mrand.NewChaCha8([32]byte{1})
	fill.Read(data)
	src := bytes.NewReader(data)

	recv <- &Receiver{Dir: tmp + "/a"}
	st, err := Send(ctx, dial, "bench", src, size, opts)
	if err != nil {
		return res, err
	}
	res.Transfer, res.Stats = rate(size, st.Duration), st

	o, err := NewOffer(ctx, "bench", src, size, opts.ChunkSize)
	if err != nil {
		return res, err
	}
	recv <- &Receiver{Dir: tmp + "/b"}
	st, err = SendOffer(ctx, dial, o, src, opts)
	if err != nil {
		return res, err
	}
	res.Wire = rate(size, st.Duration)
	return res, nil
}

// MeasureLoopback is Measure over TLS 1.3 on 127.0.0.1 with a throwaway
// self-signed certificate.
func MeasureLoopback(ctx context.Context, size int64, dir string, opts Options) (Result, error) {
	server, client, err := LoopbackTLS()
	if err != nil {
		return Result{}, err
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", server)
	if err != nil {
		return Result{}, fmt.Errorf("bulk: measure: %w", err)
	}
	addr := ln.Addr().String()
	dial := func(ctx context.Context) (net.Conn, error) {
		d := tls.Dialer{Config: client}
		return d.DialContext(ctx, "tcp", addr)
	}
	return Measure(ctx, size, dir, opts, ln, dial)
}

// LoopbackTLS returns TLS 1.3 configurations for a throwaway self-signed
// P-256 certificate for 127.0.0.1, valid for a day; the client trusts exactly
// that certificate. For tests and benchmarks only.
func LoopbackTLS() (server, client *tls.Config, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("bulk: loopback tls: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "bulk loopback"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("bulk: loopback tls: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("bulk: loopback tls: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}},
		MinVersion:   tls.VersionTLS13,
	}
	client = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS13}
	return server, client, nil
}

// rawSend writes an 8-byte length and n bytes from buf (repeated), then
// waits for rawSink's one-byte answer.
func rawSend(c net.Conn, buf []byte, n int64) error {
	var h [8]byte
	binary.BigEndian.PutUint64(h[:], uint64(n))
	if _, err := c.Write(h[:]); err != nil {
		return err
	}
	for left := n; left > 0; {
		k := min(int64(len(buf)), left)
		if _, err := c.Write(buf[:k]); err != nil {
			return err
		}
		left -= k
	}
	_, err := io.ReadFull(c, h[:1])
	return err
}

// rawSink reads what rawSend sends and answers with one byte.
func rawSink(c net.Conn) {
	defer c.Close()
	var h [8]byte
	if _, err := io.ReadFull(c, h[:]); err != nil {
		return
	}
	buf := make([]byte, 1<<20)
	for left := int64(binary.BigEndian.Uint64(h[:])); left > 0; {
		k, err := io.ReadFull(c, buf[:min(int64(len(buf)), left)])
		if err != nil {
			return
		}
		left -= int64(k)
	}
	c.Write(h[:1])
}

func rate(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds() / 1e6
}
