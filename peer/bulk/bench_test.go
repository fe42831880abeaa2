package bulk

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// benchSize is 256 MiB, or BULK_BENCH_MB MiB.
func benchSize(b *testing.B) int64 {
	if s := os.Getenv("BULK_BENCH_MB"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			b.Fatal(err)
		}
		return int64(n) << 20
	}
	return 256 << 20
}

// tlsPair returns a TLS 1.3 listener on 127.0.0.1 and a dial function.
func tlsPair(b testing.TB) (net.Listener, func(context.Context) (net.Conn, error)) {
	srv, cli, err := LoopbackTLS()
	if err != nil {
		b.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", srv)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	return ln, func(ctx context.Context) (net.Conn, error) {
		d := tls.Dialer{Config: cli}
		return d.DialContext(ctx, "tcp", ln.Addr().String())
	}
}

// BenchmarkTransferTLS: Send of a benchSize blob over loopback TLS 1.3,
// end to end (source hashing, transfer, receiver fsync + rename, Done).
func BenchmarkTransferTLS(b *testing.B) {
	size := benchSize(b)
	data := randomData(int(size), 1)
	dir := b.TempDir()
	ln, dial := tlsPair(b)
	r := &Receiver{Dir: dir}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go r.Serve(context.Background(), c)
		}
	}()
	b.SetBytes(size)
	b.ResetTimer()
	for i := range b.N {
		st, err := Send(context.Background(), dial, "bench "+strconv.Itoa(i), bytes.NewReader(data), size, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if st.Chunks == 0 && size > 0 {
			b.Fatalf("stats %+v", st)
		}
		b.StopTimer()
		files, _ := filepath.Glob(filepath.Join(dir, "*"))
		for _, f := range files {
			os.Remove(f)
		}
		b.StartTimer()
	}
}

// BenchmarkRawTLS: the same bytes written over loopback TLS 1.3 and
// discarded, for comparison.
func BenchmarkRawTLS(b *testing.B) {
	size := benchSize(b)
	ln, dial := tlsPair(b)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go rawSink(c)
		}
	}()
	buf := make([]byte, 1<<20)
	b.SetBytes(size)
	b.ResetTimer()
	for range b.N {
		c, err := dial(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if err := rawSend(c, buf, size); err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}

func TestMeasureLoopback(t *testing.T) {
	checkGoroutines(t)
	res, err := MeasureLoopback(context.Background(), 2<<20+3, t.TempDir(), Options{ChunkSize: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	if res.RawTLS <= 0 || res.Transfer <= 0 || res.Wire <= 0 || res.Stats.Chunks != 33 {
		t.Fatalf("%+v", res)
	}
	t.Logf("raw TLS %.0f MB/s, transfer %.0f MB/s, wire %.0f MB/s (2 MiB, -race slows this)", res.RawTLS, res.Transfer, res.Wire)
}

// TestMeasureReport runs MeasureLoopback at benchmark size when
// BULK_MEASURE=1 (go test -run MeasureReport -v), for the numbers in the
// report without -bench's repetitions.
func TestMeasureReport(t *testing.T) {
	if os.Getenv("BULK_MEASURE") != "1" {
		t.Skip("set BULK_MEASURE=1")
	}
	size := int64(256 << 20)
	if s := os.Getenv("BULK_BENCH_MB"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatal(err)
		}
		size = int64(n) << 20
	}
	for range 3 {
		res, err := MeasureLoopback(context.Background(), size, "", Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%d MiB: raw TLS %.0f MB/s, Send %.0f MB/s (%.0f%% of raw), wire only %.0f MB/s, stats %+v",
			size>>20, res.RawTLS, res.Transfer, 100*res.Transfer/res.RawTLS, res.Wire, res.Stats)
	}
}
