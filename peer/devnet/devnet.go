package devnet

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Options configures a development network.
type Options struct {
	// Binary is the borghui executable to run.
	Binary string
	// Nodes is how many node processes to start (at least 1).
	Nodes int
	// Cells is the --cells list given to every node.
	Cells string
	// Dir holds one data folder per node; it must exist.
	Dir string
	// OffsetMode uses 127.0.0.1 with port offsets instead of one address per
	// node. It is forced where only 127.0.0.1 is routable (not Linux).
	OffsetMode bool
	// Args are extra arguments for every node (e.g. --loss 0.01).
	Args []string
	// NodeArgs, when set, gives extra arguments for node i (e.g. a
	// different --clock-skew each).
	NodeArgs func(i int) []string
	// Stderr receives the nodes' logs (nil discards them).
	Stderr io.Writer
	// ReadyTimeout bounds the wait for each node's ready lines.
	ReadyTimeout time.Duration
}

// Endpoint is one cell of one node, as the node reported it.
type Endpoint struct {
	Cell string
	ID   string
	Net  string
	Recp string
	Mon  string
}

// Node is one running node process.
type Node struct {
	Index     int
	IP        string
	Offset    int
	Data      string
	Endpoints map[string]Endpoint // by cell name

	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// Net is a running development network.
type Net struct {
	opts  Options
	mu    sync.Mutex
	nodes []*Node
}

// offsetStep separates the ports of nodes sharing 127.0.0.1.
const offsetStep = 1000

// Start launches the network: node 0 first, then the others joining it.
func Start(ctx context.Context, opts Options) (*Net, error) {
	if opts.Nodes < 1 {
		return nil, errors.New("devnet: at least one node")
	}
	if opts.ReadyTimeout == 0 {
		opts.ReadyTimeout = 30 * time.Second
	}
	if runtime.GOOS != "linux" {
		opts.OffsetMode = true
	}
	n := &Net{opts: opts}
	for i := 0; i < opts.Nodes; i++ {
		if _, err := n.startNode(ctx, i); err != nil {
			n.Stop()
			return nil, err
		}
	}
	return n, nil
}

// Nodes returns the nodes, alive or not.
func (n *Net) Nodes() []*Node {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]*Node(nil), n.nodes...)
}

// AddNode starts one more node joining the network.
func (n *Net) AddNode(ctx context.Context) (*Node, error) {
	n.mu.Lock()
	i := len(n.nodes)
	n.mu.Unlock()
	return n.startNode(ctx, i)
}

// Restart starts node i again on its own data folder and addresses. With
// noJoin it gets no --join flags, so it must find its tree from the contacts
// it saved.
func (n *Net) Restart(ctx context.Context, i int, noJoin bool) (*Node, error) {
	n.mu.Lock()
	if i < 0 || i >= len(n.nodes) || n.nodes[i].Alive() {
		n.mu.Unlock()
		return nil, fmt.Errorf("devnet: node %d is not a stopped node", i)
	}
	n.mu.Unlock()
	return n.launch(ctx, i, noJoin)
}

func (n *Net) startNode(ctx context.Context, i int) (*Node, error) {
	return n.launch(ctx, i, false)
}

func (n *Net) launch(ctx context.Context, i int, noJoin bool) (*Node, error) {
	node := &Node{Index: i, IP: "127.0.0.1", Data: filepath.Join(n.opts.Dir, fmt.Sprintf("node-%02d", i)), done: make(chan struct{})}
	if n.opts.OffsetMode {
		node.Offset = i * offsetStep
	} else {
		node.IP = fmt.Sprintf("127.0.%d.%d", i/200, 10+i%200)
	}
	if err := os.MkdirAll(node.Data, 0o700); err != nil {
		return nil, fmt.Errorf("devnet: %w", err)
	}
	args := []string{"node", "--cells", n.opts.Cells, "--data", node.Data, "--ip", node.IP,
		"--port-offset", strconv.Itoa(node.Offset), "--passphrase-stdin", "--test-kdf"}
	if i > 0 && !noJoin {
		seed := n.Nodes()[0]
		for _, ep := range seed.Endpoints {
			args = append(args, "--join", ep.Cell+"="+ep.Net)
		}
	}
	args = append(args, n.opts.Args...)
	if n.opts.NodeArgs != nil {
		args = append(args, n.opts.NodeArgs(i)...)
	}
	node.cmd = exec.CommandContext(ctx, n.opts.Binary, args...)
	node.cmd.Stdin = strings.NewReader("devnet node key\n")
	node.cmd.Stderr = n.opts.Stderr
	node.cmd.Cancel = func() error { return node.cmd.Process.Signal(syscall.SIGTERM) }
	node.cmd.WaitDelay = 5 * time.Second
	out, err := node.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := node.cmd.Start(); err != nil {
		return nil, fmt.Errorf("devnet: starting node %d: %w", i, err)
	}
	n.mu.Lock()
	if i < len(n.nodes) {
		n.nodes[i] = node
	} else {
		n.nodes = append(n.nodes, node)
	}
	n.mu.Unlock()

	want := len(strings.Split(n.opts.Cells, ","))
	if n.opts.Cells == "all" {
		want = 5
	}
	ready := make(chan map[string]Endpoint, 1)
	go func() {
		eps := map[string]Endpoint{}
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if ep, ok := parseReady(sc.Text()); ok {
				eps[ep.Cell] = ep
				if len(eps) == want {
					ready <- eps
				}
			}
		}
		_, _ = io.Copy(io.Discard, out)
		node.err = node.cmd.Wait()
		close(node.done)
	}()
	select {
	case eps := <-ready:
		node.Endpoints = eps
		return node, nil
	case <-node.done:
		return nil, fmt.Errorf("devnet: node %d exited before it was ready: %v", i, node.err)
	case <-time.After(n.opts.ReadyTimeout):
		node.Kill()
		return nil, fmt.Errorf("devnet: node %d was not ready within %s", i, n.opts.ReadyTimeout)
	}
}

func parseReady(line string) (Endpoint, bool) {
	rest, ok := strings.CutPrefix(line, "node ready ")
	if !ok {
		return Endpoint{}, false
	}
	var ep Endpoint
	for _, f := range strings.Fields(rest) {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "cell":
			ep.Cell = v
		case "id":
			ep.ID = v
		case "net":
			ep.Net = v
		case "recp":
			ep.Recp = v
		case "mon":
			ep.Mon = v
		}
	}
	return ep, ep.Cell != "" && ep.Net != ""
}

// Alive reports whether the node process is still running.
func (node *Node) Alive() bool {
	select {
	case <-node.done:
		return false
	default:
		return true
	}
}

// Kill ends the node at once (SIGKILL), as a crash would.
func (node *Node) Kill() {
	if node.Alive() {
		_ = node.cmd.Process.Kill()
		<-node.done
	}
}

// Stop asks the node to quit (SIGTERM) and waits, killing it after 5 s.
func (node *Node) Stop() {
	if !node.Alive() {
		return
	}
	_ = node.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-node.done:
	case <-time.After(5 * time.Second):
		node.Kill()
	}
}

// Stop stops every node.
func (n *Net) Stop() {
	var wg sync.WaitGroup
	for _, node := range n.Nodes() {
		wg.Add(1)
		go func() { defer wg.Done(); node.Stop() }()
	}
	wg.Wait()
}

// Print writes the endpoint table.
func (n *Net) Print(w io.Writer) {
	for _, node := range n.Nodes() {
		for _, ep := range node.Endpoints {
			fmt.Fprintf(w, "node %2d  %-17s net %-21s recp %-21s mon %-21s id %.16s…\n", node.Index, ep.Cell, ep.Net, ep.Recp, ep.Mon, ep.ID)
		}
	}
}
