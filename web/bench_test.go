package web

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/a-h/templ"
)

// benchRender renders c once per iteration and reports, beside ns/op, the
// median time of one render (p50-ms) and the page size: the UI's render
// goal is p50 under 5 ms for the heaviest fragments.
func benchRender(b *testing.B, c templ.Component) {
	b.Helper()
	ctx := context.Background()
	var buf bytes.Buffer
	var took []time.Duration
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		start := time.Now()
		if err := c.Render(ctx, &buf); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(buf.Len()), "bytes/page")
}
