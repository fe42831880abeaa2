package bulk

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const testChunk = MinChunkSize

// randomData returns n reproducible pseudo-random bytes.
func randomData(n int, seed uint64) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 7}).Read(b)
	return b
}

// checkGoroutines fails the test if goroutines started during it are still
// running shortly after it ends.
func checkGoroutines(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(3 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				n := runtime.Stack(buf, true)
				t.Errorf("goroutine leak: %d before, %d after\n%s", before, runtime.NumGoroutine(), buf[:n])
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// server accepts connections (TLS 1.3 on 127.0.0.1, or net.Pipe) and serves
// each with the current receiver.
type server struct {
	t      *testing.T
	recv   atomic.Pointer[Receiver]
	ln     net.Listener
	client *tls.Config
	pipe   bool
	ctx    context.Context
	wg     sync.WaitGroup
	mu     sync.Mutex
	errs   []error
	// wrap, if set, wraps the n-th (0-based) dialed connection on the
	// sender's side.
	wrap  func(n int, c net.Conn) net.Conn
	dials atomic.Int32
}

func newServer(t *testing.T, r *Receiver, pipe bool) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{t: t, pipe: pipe, ctx: ctx}
	s.recv.Store(r)
	if !pipe {
		srv, cli, err := LoopbackTLS()
		if err != nil {
			t.Fatal(err)
		}
		s.client = cli
		s.ln, err = tls.Listen("tcp", "127.0.0.1:0", srv)
		if err != nil {
			t.Fatal(err)
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			for {
				c, err := s.ln.Accept()
				if err != nil {
					return
				}
				s.serve(c)
			}
		}()
	}
	t.Cleanup(func() {
		cancel()
		if s.ln != nil {
			s.ln.Close()
		}
		s.wg.Wait()
	})
	return s
}

func (s *server) serve(c net.Conn) {
	r := s.recv.Load()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		err := r.Serve(s.ctx, c)
		s.mu.Lock()
		s.errs = append(s.errs, err)
		s.mu.Unlock()
	}()
}

// serveErrs returns the errors of the Serve calls that ended so far.
func (s *server) serveErrs() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error(nil), s.errs...)
}

// waitServes waits until n Serve calls have returned.
func (s *server) waitServes(n int) []error {
	s.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		errs := s.serveErrs()
		if len(errs) >= n {
			return errs
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("only %d of %d Serve calls returned", len(errs), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (s *server) dial(ctx context.Context) (net.Conn, error) {
	n := int(s.dials.Add(1) - 1)
	var c net.Conn
	if s.pipe {
		a, b := net.Pipe()
		s.serve(b)
		c = a
	} else {
		d := tls.Dialer{Config: s.client}
		var err error
		if c, err = d.DialContext(ctx, "tcp", s.ln.Addr().String()); err != nil {
			return nil, err
		}
	}
	if s.wrap != nil {
		c = s.wrap(n, c)
	}
	return c, nil
}

// chunkConn watches the sender's chunk frames (each is one Write) and
// lets a test corrupt, count or cut them.
type chunkConn struct {
	net.Conn
	// onChunk is called for each chunk frame write with the chunk index and
	// a private copy of the frame; it returns what to write and whether to
	// kill the connection instead.
	onChunk func(idx int, frame []byte) (out []byte, kill bool)
}

func (c *chunkConn) Write(p []byte) (int, error) {
	if len(p) >= chunkHeaderLen && p[0] == frameChunk && c.onChunk != nil {
		idx := int(p[5])<<24 | int(p[6])<<16 | int(p[7])<<8 | int(p[8])
		out, kill := c.onChunk(idx, bytes.Clone(p))
		if kill {
			c.Conn.Close()
			return 0, net.ErrClosed
		}
		if _, err := c.Conn.Write(out); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	return c.Conn.Write(p)
}

// corruptOnce returns an onChunk that flips a byte of chunk idx the first
// `times` times it is sent.
func corrupt(idx, times int) func(int, []byte) ([]byte, bool) {
	var mu sync.Mutex
	n := 0
	return func(i int, f []byte) ([]byte, bool) {
		mu.Lock()
		defer mu.Unlock()
		if i == idx && n < times {
			n++
			f[len(f)-1] ^= 0x55
		}
		return f, false
	}
}

// countWrites returns a receiver hook counting how often each chunk was
// written, and a function reading the counts.
func countWrites(count int) (func(int), func() []int) {
	var mu sync.Mutex
	n := make([]int, count)
	return func(i int) {
			mu.Lock()
			n[i]++
			mu.Unlock()
		}, func() []int {
			mu.Lock()
			defer mu.Unlock()
			return append([]int(nil), n...)
		}
}

// dirFiles lists the names in dir (none if it does not exist).
func dirFiles(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

// checkComplete checks that dir holds exactly the final file of o with data.
func checkComplete(t *testing.T, dir string, o *Offer, data []byte) {
	t.Helper()
	if got := dirFiles(t, dir); len(got) != 1 || got[0] != o.IDString() {
		t.Fatalf("files in dir: %v, want only %s", got, o.IDString())
	}
	got, err := os.ReadFile(filepath.Join(dir, o.IDString()))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("final file differs from the source (%d vs %d bytes)", len(got), len(data))
	}
}

func mustOffer(t *testing.T, name string, data []byte, chunk int) Offer {
	t.Helper()
	o, err := NewOffer(context.Background(), name, bytes.NewReader(data), int64(len(data)), chunk)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// fastOpts are Options for tests: small chunks, quick retries.
func fastOpts() Options {
	return Options{ChunkSize: testChunk, Window: 8, ChunkTimeout: 2 * time.Second, Retries: 3, RetryDelay: time.Millisecond}
}

// zeroReader reads zeros forever.
type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

var _ io.Reader = zeroReader{}
