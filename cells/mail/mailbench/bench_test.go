package mailbench

import (
	"context"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"testing"
	"time"

	"github.com/borgios/borghui/cells/mail"
	"github.com/borgios/borghui/peer"
	"github.com/borgios/borghui/signer"
)

// startCells runs n in-process mail cells on loopback (real TLS) and
// returns their receptor addresses once every cell knows every member.
func startCells(t *testing.T, n int) []string {
	t.Helper()
	b, c := 100+mrand.IntN(150), mrand.IntN(250)
	var first string
	var recps []string
	var servers []*mail.Server
	for i := range n {
		key, err := signer.GenerateMemKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		pc := peer.Config{Key: key, Cells: []peer.DNA{peer.MailCell}, IP: fmt.Sprintf("127.%d.%d.%d", b, c, 10+i)}
		if first != "" {
			pc.Join = map[string][]string{mail.CellName: {first}}
		}
		node, err := peer.Start(context.Background(), pc)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { node.Close() })
		cell := node.Cell(mail.CellName)
		if first == "" {
			first = cell.Addr()
		}
		srv, err := mail.Mount(cell, mail.Config{Dir: t.TempDir(), Poll: 10 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		servers = append(servers, srv)
		recps = append(recps, cell.ReceptorAddr())
	}
	deadline := time.Now().Add(90 * time.Second)
	for _, s := range servers {
		for len(s.Members()) != n {
			if time.Now().After(deadline) {
				t.Fatal("members not known")
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return recps
}

func TestRun(t *testing.T) {
	recps := startCells(t, 4)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	res, err := Run(ctx, Options{Receptors: append([]string{"127.0.0.1:1"}, recps...), Messages: 8, Concurrency: 2, Size: 4000,
		Timeout: 4 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res)
	if res.Messages != 8 || res.Failed != 0 || res.Members != 4 || res.Replicas != 3 {
		t.Fatalf("result %+v", res)
	}
	if res.DeliverP50ms <= 0 || res.DeliverP99ms < res.DeliverP50ms || res.DeliverMaxMs < res.DeliverP99ms || res.ForwardSecret != 8 {
		t.Fatalf("latencies %+v", res)
	}
}

func TestRunNeedsReceptors(t *testing.T) {
	if _, err := Run(context.Background(), Options{}); err == nil {
		t.Fatal("no receptors accepted")
	}
}
