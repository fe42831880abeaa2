package transport

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"
)

// BenchmarkRequestRTT: one persistent connection, a 32-byte body; ns/op is
// the round trip including signing and verifying both envelopes.
func BenchmarkRequestRTT(b *testing.B) {
	a := newNode(b, nil)
	s := newNode(b, nil)
	s.Handle("echo", echo)
	to := Peer{ID: s.ID(), Addr: s.Addr()}
	body := make([]byte, 32)
	ctx := context.Background()
	if _, err := a.Request(ctx, to, "echo", body); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := a.Request(ctx, to, "echo", body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRawTLS: raw TLS 1.3 loopback throughput with the transport's
// TLS configuration, 64 KiB per op.
func BenchmarkRawTLS(b *testing.B) {
	c, s, closeFn, err := rawTLSPair(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer closeFn()
	done := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, s)
		done <- err
	}()
	buf := make([]byte, 64<<10)
	b.SetBytes(int64(len(buf)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	c.CloseWrite()
	<-done
}

func TestMeasureRawTLS(t *testing.T) {
	leakCheck(t)
	mbps, err := MeasureRawTLS(ctxT(t, 30*time.Second), 8<<20)
	if err != nil || mbps <= 0 {
		t.Fatalf("MeasureRawTLS = %v, %v", mbps, err)
	}
	t.Logf("raw TLS 1.3 loopback: %.0f MB/s", mbps)
	if _, err := MeasureRawTLS(context.Background(), 0); err == nil {
		t.Fatal("zero bytes accepted")
	}
}

func TestCloseStopsEverything(t *testing.T) {
	leakCheck(t)
	a := newNode(t, func(c *Config) { c.ReceptorAddr = "127.0.0.1:0" })
	b := newNode(t, nil)
	started := make(chan struct{})
	b.Handle("hang", func(ctx context.Context, _ *Request) ([]byte, error) {
		close(started)
		<-ctx.Done()
		return nil, ctx.Err()
	})
	cl, err := Dial(ctxT(t, 5*time.Second), a.ReceptorAddr(), ClientConfig{Key: newKey(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	errc := make(chan error, 1)
	go func() {
		_, err := b.Request(context.Background(), Peer{ID: a.ID(), Addr: a.Addr()}, "x", nil)
		errc <- err
		_, err = a.Request(context.Background(), Peer{ID: b.ID(), Addr: b.Addr()}, "hang", nil)
		errc <- err
	}()
	if err := <-errc; remoteCode(err) != CodeUnknownType {
		t.Fatal(err)
	}
	<-started
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, ErrClosed) && !errors.Is(err, ErrUnreachable) {
		t.Fatalf("request in flight at Close: %v", err)
	}
	if err := a.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	if err := a.Send(context.Background(), Peer{ID: b.ID()}, "x", nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Send after Close: %v", err)
	}
	if _, err := cl.Request(ctxT(t, 5*time.Second), testCell, "x", nil); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("client after the receptor closed: %v", err)
	}
	b.Close()
	wantCounters(t, "a", a, map[string]uint64{CountUnreachable: 0})
}
