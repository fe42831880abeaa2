package bulk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	sizes := []struct {
		name string
		size int
	}{
		{"0B", 0},
		{"1B", 1},
		{"chunk-1", testChunk - 1},
		{"chunk", testChunk},
		{"chunk+1", testChunk + 1},
		{"multi", 37*testChunk + 123},
	}
	for _, transport := range []string{"pipe", "tls"} {
		for _, tc := range sizes {
			t.Run(transport+"/"+tc.name, func(t *testing.T) {
				checkGoroutines(t)
				dir := t.TempDir()
				data := randomData(tc.size, uint64(tc.size))
				var completed []string
				var mu sync.Mutex
				r := &Receiver{Dir: dir, OnComplete: func(path string, o Offer) {
					mu.Lock()
					completed = append(completed, path)
					mu.Unlock()
				}}
				s := newServer(t, r, transport == "pipe")
				st, err := Send(context.Background(), s.dial, "test "+tc.name, bytes.NewReader(data), int64(len(data)), fastOpts())
				if err != nil {
					t.Fatal(err)
				}
				o := mustOffer(t, "test "+tc.name, data, testChunk)
				checkComplete(t, dir, &o, data)
				want := Stats{Bytes: int64(len(data)), Chunks: int64(o.Chunks()), Dials: 1}
				st.Duration = 0
				if st != want {
					t.Errorf("stats %+v, want %+v", st, want)
				}
				if errs := s.waitServes(1); errs[0] != nil {
					t.Errorf("Serve: %v", errs[0])
				}
				mu.Lock()
				defer mu.Unlock()
				if len(completed) != 1 || completed[0] != filepath.Join(dir, o.IDString()) {
					t.Errorf("OnComplete calls: %v", completed)
				}
			})
		}
	}
}

// TestRoundTripDefaults sends a few default (1 MiB) chunks over TLS with
// zero Options.
func TestRoundTripDefaults(t *testing.T) {
	checkGoroutines(t)
	dir := t.TempDir()
	data := randomData(3<<20+5, 9)
	s := newServer(t, &Receiver{Dir: dir}, false)
	st, err := Send(context.Background(), s.dial, "defaults", bytes.NewReader(data), int64(len(data)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	o := mustOffer(t, "defaults", data, 0)
	if o.ChunkSize != DefaultChunkSize || st.Chunks != 4 {
		t.Fatalf("chunk size %d, chunks %d", o.ChunkSize, st.Chunks)
	}
	checkComplete(t, dir, &o, data)
}

// TestReofferCompleted: offering a blob whose final file is still there
// completes at once without sending data (a sender that missed Done).
func TestReofferCompleted(t *testing.T) {
	checkGoroutines(t)
	dir := t.TempDir()
	data := randomData(5*testChunk, 3)
	var calls atomic.Int32
	r := &Receiver{Dir: dir, VerifyOnDisk: true, OnComplete: func(string, Offer) { calls.Add(1) }}
	s := newServer(t, r, true)
	for i, want := range []Stats{{Bytes: int64(len(data)), Chunks: 5, Dials: 1}, {Resumed: 5, Dials: 1}} {
		st, err := Send(context.Background(), s.dial, "again", bytes.NewReader(data), int64(len(data)), fastOpts())
		if err != nil {
			t.Fatal(err)
		}
		st.Duration = 0
		if st != want {
			t.Errorf("send %d: stats %+v, want %+v", i, st, want)
		}
	}
	if calls.Load() != 2 {
		t.Errorf("OnComplete called %d times, want 2", calls.Load())
	}
	o := mustOffer(t, "again", data, testChunk)
	checkComplete(t, dir, &o, data)
}

func TestCorruptChunkResent(t *testing.T) {
	for _, tc := range []struct {
		name    string
		corrupt map[int]int // chunk → times
	}{
		{"one chunk twice", map[int]int{3: 2}},
		{"ten chunks once", map[int]int{0: 1, 1: 1, 2: 1, 4: 1, 5: 1, 6: 1, 7: 1, 8: 1, 9: 1, 10: 1}},
	} {
		for _, transport := range []string{"pipe", "tls"} {
			t.Run(tc.name+"/"+transport, func(t *testing.T) {
				checkGoroutines(t)
				dir := t.TempDir()
				data := randomData(10*testChunk+7, 1)
				s := newServer(t, &Receiver{Dir: dir}, transport == "pipe")
				var mu sync.Mutex
				left := maps.Clone(tc.corrupt)
				resends := 0
				for _, n := range tc.corrupt {
					resends += n
				}
				s.wrap = func(_ int, c net.Conn) net.Conn {
					return &chunkConn{Conn: c, onChunk: func(i int, f []byte) ([]byte, bool) {
						mu.Lock()
						defer mu.Unlock()
						if left[i] > 0 {
							left[i]--
							f[len(f)-1] ^= 0x55
						}
						return f, false
					}}
				}
				st, err := Send(context.Background(), s.dial, "corrupt", bytes.NewReader(data), int64(len(data)), fastOpts())
				if err != nil {
					t.Fatal(err)
				}
				if st.Resent != int64(resends) || st.Chunks != 11 || st.Dials != 1 {
					t.Errorf("stats %+v, want %d resent", st, resends)
				}
				o := mustOffer(t, "corrupt", data, testChunk)
				checkComplete(t, dir, &o, data)
			})
		}
	}
}

// TestCorruptChunkForever: a chunk that never arrives intact ends the
// transfer after the resend limit; the receiver removes its partial data.
func TestCorruptChunkForever(t *testing.T) {
	checkGoroutines(t)
	dir := t.TempDir()
	data := randomData(6*testChunk, 2)
	s := newServer(t, &Receiver{Dir: dir}, true)
	s.wrap = func(_ int, c net.Conn) net.Conn { return &chunkConn{Conn: c, onChunk: corrupt(2, 1000)} }
	st, err := Send(context.Background(), s.dial, "bad", bytes.NewReader(data), int64(len(data)), fastOpts())
	if !errors.Is(err, ErrTooManyResends) {
		t.Fatalf("err = %v, want ErrTooManyResends", err)
	}
	if st.Dials != 1 || st.Resent != maxResends {
		t.Errorf("stats %+v", st)
	}
	errs := s.waitServes(1)
	if !errors.Is(errs[0], ErrRemote) {
		t.Errorf("Serve: %v, want the sender's abort", errs[0])
	}
	if f := dirFiles(t, dir); len(f) != 0 {
		t.Errorf("left behind: %v", f)
	}
}

// TestSourceChanged: the source no longer matches the offer: the sender
// notices on the receiver's Nack, aborts, nothing is left.
func TestSourceChanged(t *testing.T) {
	checkGoroutines(t)
	dir := t.TempDir()
	data := randomData(6*testChunk, 4)
	o := mustOffer(t, "changed", data, testChunk)
	changed := bytes.Clone(data)
	changed[testChunk+10] ^= 1
	s := newServer(t, &Receiver{Dir: dir}, true)
	_, err := SendOffer(context.Background(), s.dial, o, bytes.NewReader(changed), fastOpts())
	if !errors.Is(err, ErrSourceChanged) {
		t.Fatalf("err = %v, want ErrSourceChanged", err)
	}
	s.waitServes(1)
	if f := dirFiles(t, dir); len(f) != 0 {
		t.Errorf("left behind: %v", f)
	}
}

// TestConnectionKilled: the connection dies mid-transfer; Send re-dials and
// resumes; every chunk is written by the receiver exactly once and only
// chunks in flight at the cut are sent again.
func TestConnectionKilled(t *testing.T) {
	for _, transport := range []string{"pipe", "tls"} {
		t.Run(transport, func(t *testing.T) {
			checkGoroutines(t)
			dir := t.TempDir()
			const count = 40
			data := randomData(count*testChunk, 5)
			hook, writes := countWrites(count)
			s := newServer(t, &Receiver{Dir: dir, afterChunk: hook}, transport == "pipe")
			var sent atomic.Int32
			s.wrap = func(n int, c net.Conn) net.Conn {
				if n > 0 {
					return c
				}
				return &chunkConn{Conn: c, onChunk: func(_ int, f []byte) ([]byte, bool) {
					return f, sent.Add(1) > 15
				}}
			}
			opts := fastOpts()
			st, err := Send(context.Background(), s.dial, "killed", bytes.NewReader(data), int64(len(data)), opts)
			if err != nil {
				t.Fatal(err)
			}
			o := mustOffer(t, "killed", data, testChunk)
			checkComplete(t, dir, &o, data)
			if st.Dials != 2 || st.Chunks != count || st.Resumed != 0 || st.Resent > int64(opts.Window) ||
				st.Bytes != (count+st.Resent)*testChunk {
				t.Errorf("stats %+v", st)
			}
			for i, n := range writes() {
				if n != 1 {
					t.Errorf("chunk %d written %d times", i, n)
				}
			}
		})
	}
}

// TestReceiverRestart: the receiver process goes away mid-transfer (its
// context is canceled); a new Receiver on the same Dir resumes.
func TestReceiverRestart(t *testing.T) {
	for _, tc := range []struct {
		crash     bool
		syncEvery int64 // chunks
	}{{false, 8}, {true, 8}, {true, 1000}} {
		crash := tc.crash
		t.Run(fmt.Sprintf("crash=%v/sync=%d", crash, tc.syncEvery), func(t *testing.T) {
			checkGoroutines(t)
			dir := t.TempDir()
			const count = 40
			data := randomData(count*testChunk, 6)
			hookA, writesA := countWrites(count)
			hookB, writesB := countWrites(count)
			ctxA, cancelA := context.WithCancel(context.Background())
			defer cancelA()
			var once sync.Once
			a := &Receiver{Dir: dir, crash: crash, SyncBytes: tc.syncEvery * testChunk}
			b := &Receiver{Dir: dir, afterChunk: hookB}
			var s *server
			a.afterChunk = func(i int) {
				hookA(i)
				if i == 20 {
					once.Do(func() {
						s.recv.Store(b) // the "restarted" receiver takes the next connection
						cancelA()
					})
				}
			}
			s = newServer(t, nil, true)
			// Serve with A under its own context.
			s.recv.Store(a)
			pipeDial := func(ctx context.Context) (net.Conn, error) {
				x, y := net.Pipe()
				r := s.recv.Load()
				ctx2 := context.Background()
				if r == a {
					ctx2 = ctxA
				}
				s.wg.Add(1)
				go func() {
					defer s.wg.Done()
					err := r.Serve(ctx2, y)
					s.mu.Lock()
					s.errs = append(s.errs, err)
					s.mu.Unlock()
				}()
				return x, nil
			}
			st, err := Send(context.Background(), pipeDial, "restart", bytes.NewReader(data), int64(len(data)), fastOpts())
			if err != nil {
				t.Fatal(err)
			}
			o := mustOffer(t, "restart", data, testChunk)
			checkComplete(t, dir, &o, data)
			wa, wb := writesA(), writesB()
			lost := 0
			for i := range count {
				if wa[i] > 1 || wb[i] > 1 || wa[i]+wb[i] == 0 {
					t.Errorf("chunk %d written %d+%d times", i, wa[i], wb[i])
				}
				if wa[i]+wb[i] == 2 {
					lost++
				}
			}
			if !crash && lost != 0 {
				t.Errorf("%d chunks written twice after a clean stop", lost)
			}
			if crash && tc.syncEvery > count && lost < 21 {
				t.Errorf("a crash before any sync lost %d chunks, want all ≥ 21 written", lost)
			}
			if st.Dials != 2 || st.Chunks != count {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// TestSenderRestart: the sending process goes away mid-transfer (context
// canceled); a new Send of the same source resumes where it stopped.
func TestSenderRestart(t *testing.T) {
	checkGoroutines(t)
	dir := t.TempDir()
	const count = 40
	data := randomData(count*testChunk, 7)
	ctx1, cancel1 := context.WithCancel(context.Background())
	defer cancel1()
	r := &Receiver{Dir: dir}
	r.afterChunk = func(i int) {
		if i == 15 {
			cancel1()
		}
	}
	s := newServer(t, r, false)
	_, err := Send(ctx1, s.dial, "sender restart", bytes.NewReader(data), int64(len(data)), fastOpts())
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("first Send: %v, want canceled", err)
	}
	s.waitServes(1)
	if f := dirFiles(t, dir); len(f) != 2 {
		t.Fatalf("after the first Send: %v, want a partial and its bitmap", f)
	}
	r.afterChunk = nil
	st, err := Send(context.Background(), s.dial, "sender restart", bytes.NewReader(data), int64(len(data)), fastOpts())
	if err != nil {
		t.Fatal(err)
	}
	if st.Resumed < 16 || st.Chunks+st.Resumed != count || st.Resent != 0 || st.Bytes != st.Chunks*testChunk {
		t.Errorf("stats %+v", st)
	}
	o := mustOffer(t, "sender restart", data, testChunk)
	checkComplete(t, dir, &o, data)
}

// TestStalledReceiver: a receiver that accepts and then goes silent: Send
// fails with ErrTimeout after the chunk timeout, leaking nothing.
func TestStalledReceiver(t *testing.T) {
	checkGoroutines(t)
	data := randomData(100*testChunk, 8)
	o := mustOffer(t, "stall", data, testChunk)
	done := make(chan struct{})
	defer close(done)
	dial := func(ctx context.Context) (net.Conn, error) {
		x, y := net.Pipe()
		go func() {
			defer y.Close()
			var h [frameHeaderLen]byte
			if _, err := y.Read(h[:]); err != nil {
				return
			}
			_, n, _ := decodeFrameHeader(h[:])
			buf := make([]byte, n)
			for k := 0; k < n; {
				m, err := y.Read(buf[k:])
				if err != nil {
					return
				}
				k += m
			}
			p := appendAccept(nil, newBitmap(o.Chunks()), o.Chunks())
			f := append([]byte{frameAccept, 0, 0, 0, 0}, p...)
			putFrameHeader(f, frameAccept, len(p))
			y.Write(f)
			<-done // silent: neither reads nor acks
		}()
		return x, nil
	}
	opts := fastOpts()
	opts.ChunkTimeout = 150 * time.Millisecond
	opts.Retries = -1
	start := time.Now()
	_, err := SendOffer(context.Background(), dial, o, bytes.NewReader(data), opts)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
}

// TestStalledSender: a sender that offers and then goes silent: Serve fails
// with ErrTimeout and keeps the partial for a resume.
func TestStalledSender(t *testing.T) {
	checkGoroutines(t)
	dir := t.TempDir()
	data := randomData(10*testChunk, 9)
	o := mustOffer(t, "stall", data, testChunk)
	x, y := net.Pipe()
	defer x.Close()
	r := &Receiver{Dir: dir, Timeout: 150 * time.Millisecond}
	errc := make(chan error, 1)
	go func() { errc <- r.Serve(context.Background(), y) }()
	p := o.payload()
	f := append(make([]byte, frameHeaderLen), p...)
	putFrameHeader(f, frameOffer, len(p))
	go x.Write(f)
	var h [frameHeaderLen]byte
	if _, err := x.Read(h[:]); err != nil || h[0] != frameAccept {
		t.Fatalf("answer %v %v", h, err)
	}
	go func() { // keep reading so only the sender's silence matters
		buf := make([]byte, 1024)
		for {
			if _, err := x.Read(buf); err != nil {
				return
			}
		}
	}()
	select {
	case err := <-errc:
		if !errors.Is(err, ErrTimeout) {
			t.Fatalf("Serve: %v, want ErrTimeout", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Serve did not time out")
	}
	if fs := dirFiles(t, dir); len(fs) != 2 {
		t.Errorf("files %v, want the partial and its bitmap", fs)
	}
}

// TestTakeover: a new connection for the same transfer replaces a
// half-dead one at once instead of waiting for its timeout.
func TestTakeover(t *testing.T) {
	checkGoroutines(t)
	dir := t.TempDir()
	data := randomData(20*testChunk, 10)
	s := newServer(t, &Receiver{Dir: dir, Timeout: 20 * time.Second}, true)
	release := make(chan struct{})
	var releaseOnce sync.Once
	defer releaseOnce.Do(func() { close(release) })
	s.wrap = func(n int, c net.Conn) net.Conn {
		if n > 0 {
			return c
		}
		// The first connection goes half-dead after 5 chunks: writes are
		// lost, and the sender's Close does not reach the receiver.
		return &halfDead{Conn: c, after: 5, release: release}
	}
	opts := fastOpts()
	opts.ChunkTimeout = 200 * time.Millisecond
	start := time.Now()
	st, err := Send(context.Background(), s.dial, "takeover", bytes.NewReader(data), int64(len(data)), opts)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v", d)
	}
	if st.Dials != 2 {
		t.Errorf("stats %+v", st)
	}
	o := mustOffer(t, "takeover", data, testChunk)
	checkComplete(t, dir, &o, data)
	errs := s.waitServes(2)
	if !errors.Is(errs[0], context.Canceled) || errs[1] != nil {
		t.Errorf("Serve errors: %v", errs)
	}
	releaseOnce.Do(func() { close(release) })
}

// halfDead passes `after` chunk writes, then silently drops everything
// written (a black hole), and its Close does not reach the peer until
// release.
type halfDead struct {
	net.Conn
	after   int
	n       int
	release chan struct{}
}

func (h *halfDead) Write(p []byte) (int, error) {
	if len(p) > 0 && p[0] == frameChunk {
		h.n++
	}
	if h.n > h.after {
		return len(p), nil
	}
	return h.Conn.Write(p)
}

func (h *halfDead) Close() error {
	go func() { <-h.release; h.Conn.Close() }()
	return h.Conn.SetReadDeadline(time.Now()) // unblock our own reader only
}

// TestVerifyOnDiskFailure: the completed file does not verify on disk: the
// receiver removes everything and the sender is told.
func TestVerifyOnDiskFailure(t *testing.T) {
	checkGoroutines(t)
	dir := t.TempDir()
	data := randomData(5*testChunk, 11)
	r := &Receiver{Dir: dir, VerifyOnDisk: true, beforeFinal: func(part string) {
		f, err := os.OpenFile(part, os.O_RDWR, 0)
		if err != nil {
			t.Error(err)
			return
		}
		f.WriteAt([]byte{0xff, 0xff}, 2*testChunk+1)
		f.Close()
	}}
	s := newServer(t, r, true)
	opts := fastOpts()
	opts.Retries = -1
	_, err := Send(context.Background(), s.dial, "verify", bytes.NewReader(data), int64(len(data)), opts)
	var re *RemoteError
	if !errors.As(err, &re) || re.Code != CodeVerify {
		t.Fatalf("err = %v, want a CodeVerify failure", err)
	}
	if errs := s.waitServes(1); !errors.Is(errs[0], ErrVerify) {
		t.Errorf("Serve: %v", errs[0])
	}
	if f := dirFiles(t, dir); len(f) != 0 {
		t.Errorf("left behind: %v", f)
	}
}

func TestRefuseLeavesNothing(t *testing.T) {
	data := randomData(10*testChunk, 12)
	for _, tc := range []struct {
		name string
		r    Receiver
		code Code
	}{
		{"policy", Receiver{Accept: func(o Offer) error { return fmt.Errorf("quota exceeded for %q", o.Name) }}, CodeRefused},
		{"max size", Receiver{MaxSize: 9 * testChunk}, CodeTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkGoroutines(t)
			dir := filepath.Join(t.TempDir(), "in")
			r := tc.r
			r.Dir = dir
			s := newServer(t, &r, false)
			st, err := Send(context.Background(), s.dial, "refuse me", bytes.NewReader(data), int64(len(data)), fastOpts())
			var re *RemoteError
			if !errors.Is(err, ErrRefused) || !errors.As(err, &re) || re.Code != tc.code {
				t.Fatalf("err = %v, want refusal %s", err, tc.code)
			}
			if st.Dials != 1 || st.Bytes != 0 {
				t.Errorf("stats %+v", st)
			}
			if errs := s.waitServes(1); !errors.Is(errs[0], ErrRefused) {
				t.Errorf("Serve: %v", errs[0])
			}
			if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("dir was created: %v", err)
			}
		})
	}
}
