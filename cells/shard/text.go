package shard

import "errors"

// User-facing text: short, and says what to do. Details stay in the log.
var userText = []struct {
	err  error
	text string
}{
	{ErrQuota, "Your storage on this node is full. Delete some files or ask for more space."},
	{ErrNotOwner, "This file is not yours to delete."},
	{ErrHashMismatch, "The upload was damaged on the way. Try again."},
	{ErrCorrupt, "A stored copy was damaged; another copy is used and the damaged one is being repaired."},
	{ErrNotFound, "This file piece is not stored on the network any more."},
	{ErrUnderReplicated, "Saved, but with fewer copies than wanted. It will be repaired when more nodes are reachable."},
	{ErrNoHolder, "No storage node could be reached. Check the network and try again."},
	{ErrTooLarge, "This piece is too large to store."},
}

// Message returns the text a person sees for err.
func Message(err error) string {
	for _, u := range userText {
		if errors.Is(err, u.err) {
			return u.text
		}
	}
	return "Something went wrong with file storage. Try again."
}
