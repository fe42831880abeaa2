package peer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/borgios/borghui/peer/transport"
	"github.com/borgios/borghui/peer/tree"
)

// Contacts are the signed node cards of the members a cell last knew (its
// root, parent, children and the root group), kept in the node's data folder
// so a restarted node finds its tree again with the same identity. A card is
// only a hint of where to knock: the TLS handshake checks a fresh card of
// whoever answers.

type contactsFile struct {
	Version int               `json:"version"`
	Cards   []json.RawMessage `json:"cards"`
}

// maxContacts bounds what is kept and read.
const maxContacts = 64

func contactsPath(dir, cell string) string {
	return filepath.Join(dir, "contacts-"+cell+".json")
}

// loadContacts returns the join addresses of the saved cards.
func loadContacts(dir, cell string) ([]string, error) {
	data, err := os.ReadFile(contactsPath(dir, cell))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var f contactsFile
	if err := json.Unmarshal(data, &f); err != nil || f.Version != 1 {
		return nil, fmt.Errorf("peer: contacts file of %s is damaged; ignoring it", cell)
	}
	var out []string
	for i, raw := range f.Cards {
		if i == maxContacts {
			break
		}
		card, err := transport.DecodeCard(raw)
		if err != nil || len(card.Addrs) == 0 {
			continue
		}
		out = append(out, card.Addrs[0])
	}
	return out, nil
}

// saveContacts writes the cards of the members in v, atomically.
func (c *Cell) saveContacts(v tree.View) error {
	dir := c.node.cfg.DataDir
	if dir == "" {
		return nil
	}
	ids := []tree.NodeID{v.Root.ID, v.Parent.ID}
	for _, m := range v.Children {
		ids = append(ids, m.ID)
	}
	for _, m := range v.Group {
		ids = append(ids, m.ID)
	}
	f := contactsFile{Version: 1}
	seen := map[tree.NodeID]bool{c.ID(): true, "": true}
	for _, id := range ids {
		if seen[id] || len(f.Cards) == maxContacts {
			continue
		}
		seen[id] = true
		card, ok := c.tr.CardOf(transport.NodeID(id))
		if !ok {
			continue
		}
		b, err := card.Encode()
		if err != nil {
			continue
		}
		f.Cards = append(f.Cards, b)
	}
	if len(f.Cards) == 0 {
		return nil
	}
	data, err := json.Marshal(f)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "contacts-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), contactsPath(dir, c.dna.Name))
}

// contactsEvery bounds how often contacts are written.
const contactsEvery = 5 * time.Second
