// Package dirs makes folders without ever re-creating the stick's data
// folder once it has vanished.
//
// A pulled USB stick leaves its mount point behind (/mnt/usb, say), and
// that folder is the host's disk. os.MkdirAll on a path below the data
// folder would quietly make the data folder again there, and whatever is
// written next is a trace on the host. So the data folder is registered
// with [Anchor] once it exists, and [MkdirAll] never creates an anchor or
// anything above one: it finds the deepest folder that still exists at or
// below the anchor and makes the rest relative to an open handle of that
// folder (an [os.Root]), so a folder that vanishes between the check and
// the create cannot be made again by its path. When the anchor itself is
// missing the error matches [ErrGone].
//
// Outside every anchor, MkdirAll is os.MkdirAll.
package dirs
