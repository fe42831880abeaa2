package mail

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestMailbox(t *testing.T) {
	alice, bob := newIdentity(t), newIdentity(t)
	dir := t.TempDir()
	mb, err := OpenMailbox(dir, bob)
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	bobMUID := muidOf(t, bob)
	var ids []MsgID
	for i, subj := range []string{"one", "two", "three"} {
		m := newMessage(t, alice, bobMUID, subj, "body "+subj)
		m.Date = int64(1000 + i)
		if err := m.Sign(alice); err != nil {
			t.Fatal(err)
		}
		if err := mb.Put(&Stored{Folder: Inbox, Message: m, Key: LongTerm, Received: time.Now()}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	list, err := mb.List(Inbox)
	if err != nil || len(list) != 3 || list[0].Message.Subject != "three" {
		t.Fatalf("list: %v %v", list, err)
	}
	if err := mb.Update(Inbox, ids[0], func(s *Stored) { s.Read = true }); err != nil {
		t.Fatal(err)
	}
	s, err := mb.Get(Inbox, ids[0])
	if err != nil || !s.Read || s.Message.Verify() != nil {
		t.Fatalf("get: %+v %v", s, err)
	}
	if !mb.Has(Inbox, ids[1]) || mb.Has(Sent, ids[1]) {
		t.Fatal("Has")
	}
	// No plaintext on disk.
	raw, _ := os.ReadFile(filepath.Join(dir, "inbox", ids[1].String()+".msg"))
	if len(raw) == 0 || containsStr(raw, "body two") {
		t.Fatal("plaintext on disk")
	}
	// A file moved into another message's place does not open.
	if err := os.WriteFile(filepath.Join(dir, "inbox", ids[2].String()+".msg"), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := mb.Get(Inbox, ids[2]); !errors.Is(err, ErrOpen) {
		t.Fatalf("moved file: %v", err)
	}
	if list, _ := mb.List(Inbox); len(list) != 2 {
		t.Fatalf("damaged file listed: %d", len(list))
	}
	// Another identity cannot read the folder.
	eve, _ := OpenMailbox(dir, newIdentity(t))
	defer eve.Close()
	if _, err := eve.Get(Inbox, ids[0]); !errors.Is(err, ErrOpen) {
		t.Fatalf("eve: %v", err)
	}
	if err := mb.Delete(Inbox, ids[0]); err != nil || mb.Has(Inbox, ids[0]) {
		t.Fatal(err)
	}
	if _, err := mb.Get(Inbox, ids[0]); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted: %v", err)
	}
	if err := mb.Put(&Stored{Folder: "trash", Message: newMessage(t, alice, bobMUID, "x", "y")}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("unknown folder: %v", err)
	}
}

func containsStr(b []byte, s string) bool {
	for i := 0; i+len(s) <= len(b); i++ {
		if string(b[i:i+len(s)]) == s {
			return true
		}
	}
	return false
}
