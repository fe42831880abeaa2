// Package failover picks which endpoint of a cell a request goes to, and
// moves to another when one fails, so the person never has to.
//
// A List holds the endpoints of one cell type: each a receptor address and
// the node ID its signed node card names (the transport refuses a node
// that cannot prove that ID, so an endpoint cannot be impersonated). For
// each endpoint it keeps a health score: an exponentially weighted moving
// average of latency and of failures (weight 0.2 for the newest sample),
// and a circuit breaker that opens after 3 failures in a row, keeping the
// endpoint out of rotation for a cool-down that doubles on each failed
// probe (1 s up to 2 min), then lets one request through to probe it.
//
// Do runs one call on the healthiest endpoint:
//   - a read (Read) is hedged: when the first endpoint has not answered
//     after its usual latency (4 × its average, at least HedgeMin), the
//     same call starts on the next endpoint; the first answer wins and
//     the other is cancelled;
//   - an idempotent write (Retry) is retried on the next endpoint when one
//     fails, never two at once;
//   - any other call (Once) goes to one endpoint only.
//
// Only endpoint failures move a call: unreachable, timed out, or an answer
// that does not verify (unsigned or mis-signed answers are failures of the
// endpoint, whatever they say). An answer the cell gives on purpose (not
// found, quota, conflict) is returned as it is; the caller's Classify
// function tells the two apart. Every switch is reported (OnSwitch) so the
// UI can say which endpoint is serving and why it changed.
//
// Lists are saved on the stick (Save, atomic) and loaded at start (Load),
// merged with what the network says (Merge), and never hold more than
// MaxEndpoints. The clock is injected, so the scores and breakers are
// tested deterministically.
package failover
