package failover

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	errDown     = errors.New("unreachable")
	errNotFound = errors.New("not found") // the cell's answer
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func eps(names ...string) []Endpoint {
	var out []Endpoint
	for _, n := range names {
		out = append(out, Endpoint{Addr: n + ":1", ID: "id-" + n})
	}
	return out
}

func newList(clock *fakeClock, switches *[]string, names ...string) *List {
	return New(Config{
		Cell:     "testCell",
		Classify: func(err error) bool { return !errors.Is(err, errNotFound) },
		OnSwitch: func(from, to Endpoint, why error) {
			*switches = append(*switches, from.Addr+">"+to.Addr)
		},
		Now: clock.now,
	}, eps(names...))
}

// behave returns a call where each endpoint answers after a delay on the
// fake clock, or with an error.
func behave(clock *fakeClock, took map[string]time.Duration, errs map[string]error, used *[]string) func(context.Context, Endpoint) error {
	var mu sync.Mutex
	return func(_ context.Context, e Endpoint) error {
		mu.Lock()
		*used = append(*used, e.Addr)
		mu.Unlock()
		clock.add(took[e.Addr])
		return errs[e.Addr]
	}
}

func TestPicksTheFastest(t *testing.T) {
	clock := &fakeClock{t: time.Unix(0, 0)}
	var sw, used []string
	l := newList(clock, &sw, "a", "b", "c")
	took := map[string]time.Duration{"a:1": 300 * time.Millisecond, "b:1": 20 * time.Millisecond, "c:1": 90 * time.Millisecond}
	// Sample each once (Once always takes the best; fresh ones rank alike).
	for _, e := range l.Endpoints() {
		l.record(l.eps[slices.IndexFunc(l.eps, func(s *state) bool { return s.ID == e.ID })], took[e.Addr], false)
	}
	got, err := l.Do(context.Background(), Once, behave(clock, took, nil, &used))
	if err != nil || got.Addr != "b:1" {
		t.Fatalf("served by %v (%v), want b", got, err)
	}
	if h := l.Health(); h[0].Addr != "b:1" || h[2].Addr != "a:1" {
		t.Fatalf("health order %v", h)
	}
}

func TestModes(t *testing.T) {
	tests := []struct {
		name     string
		mode     Mode
		errs     map[string]error
		wantErr  error
		wantUsed int
		wantSw   int
	}{
		{"once does not move", Once, map[string]error{"a:1": errDown}, errDown, 1, 0},
		{"retry moves on", Retry, map[string]error{"a:1": errDown}, nil, 2, 1},
		{"retry through all", Retry, map[string]error{"a:1": errDown, "b:1": errDown, "c:1": errDown}, errDown, 3, 2},
		{"the cell's answer stops", Retry, map[string]error{"a:1": errNotFound}, errNotFound, 1, 0},
		{"read moves on", Read, map[string]error{"a:1": errDown}, nil, 2, 1},
		{"read: the cell's answer stops", Read, map[string]error{"a:1": errNotFound}, errNotFound, 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clock := &fakeClock{t: time.Unix(0, 0)}
			var sw, used []string
			l := newList(clock, &sw, "a", "b", "c")
			_, err := l.Do(context.Background(), tc.mode, behave(clock, nil, tc.errs, &used))
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if len(used) != tc.wantUsed || len(sw) != tc.wantSw {
				t.Fatalf("used %v, switches %v", used, sw)
			}
		})
	}
}

func TestBreakerOpensAndProbes(t *testing.T) {
	clock := &fakeClock{t: time.Unix(0, 0)}
	var sw, used []string
	l := newList(clock, &sw, "a", "b")
	errs := map[string]error{"a:1": errDown}
	call := behave(clock, map[string]time.Duration{"a:1": time.Millisecond, "b:1": 5 * time.Millisecond}, errs, &used)
	// a is tried first while fresh; after three failures it is out.
	for i := 0; i < 3; i++ {
		used = nil
		l.mu.Lock()
		a := l.eps[slices.IndexFunc(l.eps, func(s *state) bool { return s.Addr == "a:1" })]
		a.latency = 0.0001 // keep a ranked first so it keeps being tried
		l.mu.Unlock()
		if _, err := l.Do(context.Background(), Retry, call); err != nil {
			t.Fatal(err)
		}
	}
	if h := l.Health(); !h[len(h)-1].Open || h[len(h)-1].Addr != "a:1" {
		t.Fatalf("after three failures: %+v", h)
	}
	used = nil
	l.Do(context.Background(), Retry, call)
	if slices.Contains(used, "a:1") {
		t.Fatal("an open breaker was used during its cool-down")
	}
	// After the cool-down one probe goes to a; it succeeds and a is back.
	clock.add(2 * time.Second)
	delete(errs, "a:1")
	used = nil
	if _, err := l.Do(context.Background(), Retry, func(ctx context.Context, e Endpoint) error {
		used = append(used, e.Addr)
		if e.Addr == "b:1" {
			return errDown // so the probe is reached
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(used, "a:1") {
		t.Fatalf("no probe after the cool-down: %v", used)
	}
	for _, h := range l.Health() {
		if h.Addr == "a:1" && h.Open {
			t.Fatal("a good probe left the breaker open")
		}
	}
}

func TestCoolDownDoubles(t *testing.T) {
	clock := &fakeClock{t: time.Unix(0, 0)}
	l := New(Config{Now: clock.now}, eps("a"))
	s := l.eps[0]
	for i := 0; i < breakAfter; i++ {
		l.record(s, 0, true)
	}
	want := []time.Duration{coolMin, 2 * coolMin, 4 * coolMin}
	for i, w := range want {
		if s.cool != w {
			t.Fatalf("failure %d: cool-down %v, want %v", i, s.cool, w)
		}
		l.record(s, 0, true)
	}
	for i := 0; i < 20; i++ {
		l.record(s, 0, true)
	}
	if s.cool != coolMax {
		t.Fatalf("cool-down %v, want the cap %v", s.cool, coolMax)
	}
}

// TestHedgedRead: the first endpoint hangs; after the hedge delay the read
// also goes to the second, whose answer wins, and the first is cancelled.
func TestHedgedRead(t *testing.T) {
	var sw []string
	l := New(Config{Cell: "c", OnSwitch: func(from, to Endpoint, why error) { sw = append(sw, from.Addr+">"+to.Addr+": "+why.Error()) }}, eps("slow", "fast"))
	cancelled := make(chan struct{})
	got, err := l.Do(context.Background(), Read, func(ctx context.Context, e Endpoint) error {
		if e.Addr == "slow:1" {
			<-ctx.Done()
			close(cancelled)
			return ctx.Err()
		}
		return nil
	})
	if err != nil || got.Addr != "fast:1" {
		t.Fatalf("served by %v, %v", got, err)
	}
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("the slow read was not cancelled")
	}
	if len(sw) != 1 || !strings.Contains(sw[0], "asking another") {
		t.Fatalf("switches %v", sw)
	}
}

func TestNoEndpoint(t *testing.T) {
	l := New(Config{Cell: "c"}, nil)
	if _, err := l.Do(context.Background(), Read, func(context.Context, Endpoint) error { return nil }); !errors.Is(err, ErrNoEndpoint) {
		t.Fatalf("err = %v", err)
	}
}

func TestMerge(t *testing.T) {
	l := New(Config{}, eps("a", "b"))
	l.Merge([]Endpoint{{Addr: "b2:1", ID: "id-b"}, {Addr: "c:1", ID: "id-c"}, {Addr: ""}})
	got := l.Endpoints()
	if len(got) != 3 || !slices.ContainsFunc(got, func(e Endpoint) bool { return e.Addr == "b2:1" }) {
		t.Fatalf("after merge: %v", got)
	}
	var many []Endpoint
	for i := range MaxEndpoints + 10 {
		many = append(many, Endpoint{Addr: "x", ID: strings.Repeat("z", 3) + string(rune('a'+i%26)) + strings.Repeat("q", i)})
	}
	l.Merge(many)
	if n := len(l.Endpoints()); n != MaxEndpoints {
		t.Fatalf("%d endpoints kept", n)
	}
	l.Remove("id-a")
	if slices.ContainsFunc(l.Endpoints(), func(e Endpoint) bool { return e.ID == "id-a" }) {
		t.Fatal("Remove left it")
	}
}

func TestSaveLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "endpoints.json")
	if m, err := Load(path); err != nil || len(m) != 0 {
		t.Fatalf("missing file: %v %v", m, err)
	}
	lists := map[string]*List{"shardTreeCell": New(Config{}, eps("a", "b")), "mailTreeCell": New(Config{}, eps("m"))}
	if err := Save(path, lists); err != nil {
		t.Fatal(err)
	}
	m, err := Load(path)
	if err != nil || len(m["shardTreeCell"]) != 2 || m["mailTreeCell"][0].Addr != "m:1" {
		t.Fatalf("loaded %v, %v", m, err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".endpoints-*")); len(left) != 0 {
		t.Fatalf("temp files left: %v", left)
	}
	for _, bad := range []string{"", "{", `{"version":2,"cells":{}}`, `{"version":1,"cells":{"x":[{"addr":""}]}}`, `{"version":1,"cells":{},"extra":1}`} {
		os.WriteFile(path, []byte(bad), 0o600)
		if _, err := Load(path); err == nil {
			t.Fatalf("loaded a damaged file %q", bad)
		}
	}
}

func FuzzDecodeFile(f *testing.F) {
	f.Add([]byte(`{"version":1,"cells":{"shardTreeCell":[{"addr":"127.0.0.1:1","id":"04ab"}]}}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeFile(b)
		if err != nil {
			return
		}
		for _, es := range m {
			for _, e := range es {
				if e.Addr == "" || len(es) > MaxEndpoints {
					t.Fatalf("accepted %+v", e)
				}
			}
		}
	})
}

func TestObserve(t *testing.T) {
	clock := &fakeClock{t: time.Unix(0, 0)}
	var sw []string
	l := newList(clock, &sw, "a", "b")
	a, b := eps("a")[0], eps("b")[0]
	l.Observe(a, 200*time.Millisecond, nil)
	l.Observe(b, 10*time.Millisecond, nil)
	if h := l.Health(); h[0].Addr != "b:1" || h[0].LatencyMs != 10 {
		t.Fatalf("after probes: %+v, want b first at 10 ms", h)
	}
	for range breakAfter {
		l.Observe(b, time.Millisecond, errDown)
	}
	h := l.Health()
	if h[0].Addr != "a:1" || !h[1].Open || h[1].ErrorRate == 0 {
		t.Fatalf("after failed probes of b: %+v, want a first and b open", h)
	}
	l.Observe(Endpoint{Addr: "zz:1", ID: "id-zz"}, time.Millisecond, errDown) // not listed: ignored
	if len(l.Health()) != 2 {
		t.Fatal("an unknown endpoint was added")
	}
	l.Observe(a, time.Millisecond, errNotFound) // the cell's answer, not a failure
	if l.Health()[0].ErrorRate != 0 {
		t.Fatalf("a cell's answer counted as a failure: %+v", l.Health()[0])
	}
}
