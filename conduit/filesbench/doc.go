// Package filesbench measures the Files service on real node processes for
// `borghui bench files`: it starts a devnet of shard cells, acts as the
// conduit (this process), uploads Size pseudo-random bytes with R copies of
// every encrypted chunk, downloads them back (verified against the SHA-256
// of what was sent) and measures raw TLS 1.3 loopback throughput in the same
// run. uploadMBps and downloadMBps count file bytes (not the R copies);
// peakRSSMB is this process's maximum resident set size, the conduit's side.
package filesbench
