package conduit

import (
	"context"
	"errors"
	"net"
	"strings"

	"github.com/borgios/borghui/cells/ledger"
	"github.com/borgios/borghui/cells/mail"
	"github.com/borgios/borghui/conduit/drive"
	"github.com/borgios/borghui/conduit/files"
	"github.com/borgios/borghui/failover"
)

// networkMessage words the errors of the network services (drive, files,
// mail, wallet, failover) for the person; "" when err is none of them.
func networkMessage(err error) string {
	for _, e := range []error{drive.ErrNotFound, drive.ErrExists, drive.ErrBadName, drive.ErrBadType,
		drive.ErrNotFolder, drive.ErrIsFolder, drive.ErrRoot, drive.ErrMoveInside, drive.ErrConflict,
		drive.ErrCorrupt, drive.ErrFull, drive.ErrNotLoaded,
		ErrBadAmount, ErrBadRecipient, ErrToSelf, ErrTooPoor, ErrBadAddress} {
		if errors.Is(err, e) {
			return sentence(e.Error())
		}
	}
	switch {
	case errors.Is(err, ErrNoNetwork):
		return "No network is known yet. Give the address of one of its nodes on the Network page, or start BorgHUI with --join and that address."
	case errors.Is(err, ErrNotAnswering):
		return "No node of a network answered at that address. Check the address and this computer's connection."
	case errors.Is(err, ErrNotConnected):
		return "Not connected to the network yet. BorgHUI keeps trying; try again in a moment."
	case errors.Is(err, mail.ErrNotFound):
		return "That address has no mail card on the network yet. Check the address; its owner must open BorgHUI once before mail can reach them."
	case errors.Is(err, mail.ErrMailboxFull):
		return "The recipient's mailbox on the network is full. Try again later."
	case errors.Is(err, mail.ErrTooLarge):
		return "The message is too large. Attach big files from Files instead of pasting them."
	case errors.Is(err, mail.ErrForged), errors.Is(err, mail.ErrBadSignature), errors.Is(err, mail.ErrBadResponse),
		errors.Is(err, ledger.ErrBadResponse):
		return "A node answered with something that did not check out. BorgHUI refused it; try again to use another node."
	case errors.Is(err, files.ErrCorrupt):
		return "The file's data did not check out on any holder. It may be damaged on the network."
	case errors.Is(err, context.Canceled):
		return "Stopped."
	case errors.Is(err, failover.ErrNoEndpoint), errors.Is(err, mail.ErrNoNode), errors.Is(err, context.DeadlineExceeded),
		isNetError(err):
		return "The network did not answer. Check this computer's connection; BorgHUI tries other nodes by itself."
	}
	return ""
}

func isNetError(err error) bool {
	var ne net.Error
	var oe *net.OpError
	return errors.As(err, &ne) || errors.As(err, &oe)
}

// sentence capitalises a sentinel's text and ends it with a full stop.
func sentence(s string) string {
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}
