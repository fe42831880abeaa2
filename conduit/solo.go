package conduit

import (
	"context"
	"fmt"
	"path/filepath"
	"time"
)

// leaveSolo opens a session on the network in place of the solo session
// from, whose mail account it closes first (the mail folder on the stick
// is the network session's now). from stays open to be read from; on
// failure it is closed.
func (c *Conduit) leaveSolo(ctx context.Context, nc *NetworkConfig, from *Session) (*Session, error) {
	c.net.mu.Lock()
	if c.net.sess == from {
		c.net.sess, c.net.solo = nil, false
	}
	c.net.mu.Unlock()
	c.setNetState(NetConnecting, "Moving to the network.")
	from.closeMail()
	to, err := c.connectOnce(ctx, nc, onNetwork)
	if err != nil {
		from.Close()
		return nil, err
	}
	return to, nil
}

// soloPending reports whether the solo network was used since its data
// last moved to the network.
func soloPending(dir string) bool {
	m, err := openMoveLog(filepath.Join(dir, MoveLogFile))
	if err != nil {
		return false
	}
	defer m.Close()
	return m.pending
}

// moveSolo replicates what the solo network holds to the network session
// to, retrying with back-off until it is complete or ctx ends, then stops
// the solo network. from is the solo session to read from; when nil, one
// is opened (the solo network started) for the purpose. from is closed on
// return.
func (c *Conduit) moveSolo(ctx context.Context, nc *NetworkConfig, from, to *Session) {
	defer func() {
		if from != nil {
			from.Close()
		}
	}()
	c.setMoving(true, nil)
	for wait := 5 * time.Second; ; wait = min(2*wait, 5*time.Minute) {
		var err error
		if from == nil {
			from, err = c.connectOnce(ctx, nc, soloSource)
		}
		if err == nil {
			var moved Moved
			moved, err = c.moveOnce(ctx, nc, from, to)
			if err == nil {
				from.Close()
				from = nil
				if nc.SoloStop != nil {
					nc.SoloStop()
				}
				c.setMoving(false, &moved)
				c.log.Info("the solo network's data moved to the network", "files", moved.Files, "folders", moved.Folders,
					"bytes", moved.Bytes, "letters", moved.Letters)
				c.events.Publish(Event{Type: "network", State: NetConnected, Text: moved.Summary()})
				return
			}
		}
		if ctx.Err() != nil {
			c.setMoving(false, nil)
			return
		}
		c.log.Warn("moving the solo network's data to the network; trying again", "in", wait, "err", err)
		c.net.mu.Lock()
		c.net.moveErr = UserMessage(err)
		c.net.mu.Unlock()
		c.events.Publish(Event{Type: "network"})
		select {
		case <-ctx.Done():
			c.setMoving(false, nil)
			return
		case <-time.After(wait):
		}
	}
}

// moveOnce copies every folder and file of the solo drive the network
// does not have yet (passes until one finds nothing new: an upload to the
// solo network may have been finishing as the session moved) and puts the
// letters the solo cells held back in the outbox.
func (c *Conduit) moveOnce(ctx context.Context, nc *NetworkConfig, from, to *Session) (Moved, error) {
	log, err := openMoveLog(filepath.Join(nc.Dir, MoveLogFile))
	if err != nil {
		return Moved{}, err
	}
	defer log.Close()
	var moved Moved
	if bal, err := from.Wallet.Balance(ctx); err == nil && bal.Balance > 0 {
		moved.Left = bal.Balance.String() + " shells"
	}
	m := &mover{from: from, to: to, log: log, moved: &moved, progress: func() {
		p := moved
		c.setMoving(true, &p)
		c.events.Publish(Event{Type: "network"})
	}}
	for range 3 {
		n, err := m.copyFolder(ctx, "", "")
		if err != nil {
			return moved, err
		}
		if n == 0 {
			break
		}
	}
	if to.Mail != nil {
		n, err := to.Mail.Outbox().Redeliver()
		moved.Letters += n
		if err != nil {
			return moved, err
		}
	}
	if err := log.complete(); err != nil {
		return moved, err
	}
	moved.Done = c.cfg.Now()
	return moved, nil
}

// setMoving records the move's state and progress for NetworkStatus.
func (c *Conduit) setMoving(moving bool, m *Moved) {
	c.net.mu.Lock()
	c.net.moving = moving
	if !moving {
		c.net.moveErr = ""
	}
	if m != nil {
		c.net.moved = m
	}
	c.net.mu.Unlock()
}

// Summary says in a sentence what moved.
func (m Moved) Summary() string {
	s := "Moved from the solo network to the network: " + m.Progress()
	if m.Letters > 0 {
		s += ", " + counted(m.Letters, "letter") + " sent again"
	}
	s += "."
	if m.Left != "" {
		s += " The solo wallet's " + m.Left + " stay behind: they are not this network's."
	}
	return s
}

// Progress says what has moved so far: "3 files (2.1 MB), 1 folder".
func (m Moved) Progress() string {
	return fmt.Sprintf("%s (%s), %s", counted(m.Files, "file"), SizeText(m.Bytes), counted(m.Folders, "folder"))
}

// counted is n and the noun, plural unless n is 1.
func counted(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
