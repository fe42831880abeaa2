package shard

import (
	"context"
	"testing"
)

// BenchmarkPutGet puts and gets 1 MiB blobs through a real receptor (TLS,
// signed envelopes) on a 3-node tree with R = 3, reporting MB/s of blob
// bytes moved (put + get).
func BenchmarkPutGet(b *testing.B) {
	tn := startNet(b, 3, Config{Replicas: 3})
	net := tn.network(b, newKey(b))
	ctx := context.Background()
	blobs := make([][]byte, 8)
	for i := range blobs {
		blobs[i] = randBytes(b, chunk)
	}
	b.SetBytes(2 * chunk)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		blob := blobs[i%len(blobs)]
		blob[0]++ // a new shard every time
		if _, err := net.Put(ctx, blob); err != nil {
			b.Fatal(err)
		}
		if _, _, err := net.Get(ctx, Sum(blob)); err != nil {
			b.Fatal(err)
		}
	}
}
