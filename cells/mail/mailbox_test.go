package mail

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
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

func TestMailboxDrafts(t *testing.T) {
	alice := newIdentity(t)
	dir := t.TempDir()
	mb, err := OpenMailbox(dir, alice)
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	id, err := NewMsgID()
	if err != nil {
		t.Fatal(err)
	}
	reply, _ := NewMsgID()
	// Unsigned, no sender, a To still being typed, HTML-ish text.
	d := &Message{ID: id, To: "ali", Date: 1234, Subject: "<b>plans</b> & more", Body: "line\n<script>", InReplyTo: reply,
		Attachments: []string{testLink("plan.pdf")}}
	if err := mb.Put(&Stored{Folder: Drafts, Message: d, Received: time.UnixMilli(1234)}); err != nil {
		t.Fatalf("put draft: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "drafts", id.String()+".msg")); err != nil {
		t.Fatalf("draft file: %v", err)
	}
	got, err := mb.Get(Drafts, id)
	if err != nil {
		t.Fatalf("get draft: %v", err)
	}
	m := got.Message
	if m.ID != id || m.Kind != KindMail || m.To != "ali" || m.Date != 1234 || m.Subject != d.Subject || m.Body != d.Body ||
		m.InReplyTo != reply || len(m.Attachments) != 1 || m.Attachments[0] != d.Attachments[0] || !m.From.IsZero() || len(m.Signature) != 0 {
		t.Fatalf("draft back: %+v", m)
	}
	if list, err := mb.List(Drafts); err != nil || len(list) != 1 {
		t.Fatalf("list drafts: %d %v", len(list), err)
	}
	if list, _ := mb.List(Inbox); len(list) != 0 {
		t.Fatalf("a draft shows in the inbox")
	}
	// A signed letter saved as a draft keeps only what was typed.
	signed := newMessage(t, alice, muidOf(t, alice), "signed", "b")
	if err := mb.Put(&Stored{Folder: Drafts, Message: signed}); err != nil {
		t.Fatal(err)
	}
	if got, err := mb.Get(Drafts, signed.ID); err != nil || !got.Message.From.IsZero() || got.Message.Subject != "signed" {
		t.Fatalf("signed draft back: %+v %v", got, err)
	}
	if err := mb.Update(Drafts, id, func(s *Stored) { s.Message.To = "" }); err != nil {
		t.Fatalf("update draft: %v", err)
	}
	// An unsigned message is still refused outside Drafts, and a draft
	// file does not open as another folder's.
	if err := mb.Put(&Stored{Folder: Sent, Message: d}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("unsigned in Sent: %v", err)
	}
	for _, tc := range []struct {
		name   string
		change func(*Message)
		want   error
	}{
		{"no id", func(m *Message) { m.ID = MsgID{} }, ErrMalformed},
		{"long to", func(m *Message) { m.To = strings.Repeat("x", MaxDraftTo+1) }, ErrMalformed},
		{"long subject", func(m *Message) { m.Subject = strings.Repeat("x", MaxSubject+1) }, ErrMalformed},
		{"bad link", func(m *Message) { m.Attachments = []string{"https://example.com"} }, ErrMalformed},
		{"bad text", func(m *Message) { m.Body = "\xff" }, ErrMalformed},
		{"too large", func(m *Message) { m.Body = strings.Repeat("\x01", MaxMessage/2) }, ErrTooLarge},
	} {
		bad := *d
		bad.ID, _ = NewMsgID()
		tc.change(&bad)
		if err := mb.Put(&Stored{Folder: Drafts, Message: &bad}); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "drafts", id.String()+".msg"))
	if containsStr(raw, "plans") {
		t.Fatal("draft plaintext on disk")
	}
	if err := os.WriteFile(filepath.Join(dir, "inbox", id.String()+".msg"), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := mb.Get(Inbox, id); !errors.Is(err, ErrOpen) {
		t.Fatalf("a draft moved to the inbox: %v", err)
	}
	if err := mb.Delete(Drafts, id); err != nil || mb.Has(Drafts, id) {
		t.Fatalf("delete draft: %v", err)
	}
}
