package peer

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestDNA(t *testing.T) {
	tests := []struct {
		list    string
		want    []string
		wantErr bool
	}{
		{list: "shardTreeCell", want: []string{"shardTreeCell"}},
		{list: "mailtreecell, cronoTreeCell,mailTreeCell", want: []string{"mailTreeCell", "cronoTreeCell"}},
		{list: "all", want: []string{"shardTreeCell", "ftreeFileMgrCell", "peerPaysCell", "mailTreeCell", "cronoTreeCell"}},
		{list: "chatOrganismCell", wantErr: true},
		{list: " , ", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseCells(tt.list)
		if (err != nil) != tt.wantErr {
			t.Fatalf("ParseCells(%q) err %v", tt.list, err)
		}
		var names []string
		for _, d := range got {
			names = append(names, d.Name)
		}
		if !tt.wantErr && !reflect.DeepEqual(names, tt.want) {
			t.Errorf("ParseCells(%q) = %v, want %v", tt.list, names, tt.want)
		}
	}
	// The reference's port numbers, as protocol.md fixes them.
	if ShardCell.NetPort != 13350 || ShardCell.RecpPort != 13355 || ShardCell.MonPort != 13340 || CronoCell.MaxChildren != 3 {
		t.Fatal("cell DNA differs from protocol.md")
	}
	d, err := MailCell.WithOffset(100)
	if err != nil || d.NetPort != 13493 || d.RecpPort != 13495 || d.MonPort != 13494 {
		t.Fatalf("offset: %+v %v", d, err)
	}
	if _, err := MailCell.WithOffset(60000); err == nil {
		t.Fatal("an offset past port 65535 was accepted")
	}
}

func TestReferencePortalList(t *testing.T) {
	got, err := ReadPortals(filepath.Join("testdata", "borgPortalsList.dat"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Portal{
		{Cell: "peerPaysCell", ID: "0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8", Addr: "127.0.0.22:13390", Recp: "127.0.0.22:13392"},
		{Cell: "shardTreeCell", Addr: "127.0.0.34:13350", Recp: "127.0.0.34:13355"},
		{Cell: "shardTreeCell", Addr: "127.0.0.36:13350", Recp: "127.0.0.36:13355"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}

func TestOurPortalListRoundTrip(t *testing.T) {
	in := []Portal{
		{Cell: "shardTreeCell", Addr: "127.0.0.5:13350", Recp: "127.0.0.5:13355"},
		{Cell: "mailTreeCell", ID: "0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8", Addr: "127.0.0.6:13393"},
		{Cell: "shardTreeCell", Addr: "127.0.0.7:13350"},
	}
	path := filepath.Join(t.TempDir(), "portals.json")
	if err := WritePortals(path, in); err != nil {
		t.Fatal(err)
	}
	got, err := ReadPortals(path)
	if err != nil {
		t.Fatal(err)
	}
	// Grouped by cell in first-seen order.
	want := []Portal{in[0], in[2], in[1]}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}

func TestPortalListErrors(t *testing.T) {
	tests := map[string]string{
		"not json":         "{",
		"scalar":           "42",
		"wrong version":    `{"version":2,"portals":[]}`,
		"unknown cell":     `{"version":1,"portals":[{"cell":"nope","nodes":[]}]}`,
		"bad address":      `{"version":1,"portals":[{"cell":"shardTreeCell","nodes":[{"addr":"example.com"}]}]}`,
		"bad id":           `{"version":1,"portals":[{"cell":"shardTreeCell","nodes":[{"addr":"127.0.0.1:1","id":"04zz"}]}]}`,
		"reference broken": `[{"netName":5}]`,
	}
	for name, data := range tests {
		if _, err := ParsePortals([]byte(data)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	big := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(big, make([]byte, maxPortalFile+10), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadPortals(big); err == nil {
		t.Fatal("an oversized portal list was read")
	}
}

func FuzzParsePortals(f *testing.F) {
	data, _ := os.ReadFile(filepath.Join("testdata", "borgPortalsList.dat"))
	f.Add(data)
	f.Add([]byte(`{"version":1,"portals":[{"cell":"shardTreeCell","nodes":[{"addr":"127.0.0.1:13350"}]}]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ps, err := ParsePortals(data)
		if err != nil {
			return
		}
		for _, p := range ps {
			if _, err := LookupDNA(p.Cell); err != nil {
				t.Fatalf("accepted an unknown cell %q", p.Cell)
			}
		}
	})
}

func TestParseJoinAddr(t *testing.T) {
	for in, want := range map[string]string{"127.0.0.5": "127.0.0.5:13350", "127.0.0.5:9000": "127.0.0.5:9000"} {
		got, err := ParseJoinAddr(in, ShardCell)
		if err != nil || got != want {
			t.Errorf("ParseJoinAddr(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseJoinAddr("example.com", ShardCell); err == nil {
		t.Error("a host name was accepted")
	}
}
