// Package seglog is an append-only log of checksummed records that stays
// whole on the filesystems a USB stick carries.
//
// Some FAT drivers lose data when a file is reopened and written past its
// end (fusefat 0.1a, used on Linux hosts without a vfat module, drops the
// start of such a file; it also drops writes made to an open file after
// it was renamed). So a Log never extends a file it did not create in the
// same open: the log at path is a series of segment files — path itself,
// then path.1, path.2, … — and every Open that appends starts the next
// segment. Compact writes the live records as a new segment that begins
// with a snapshot mark and ends with an end mark; once the end mark is on
// disk, older segments are deleted, and a reader starts at the newest
// complete snapshot. Only create, append, fsync and delete are needed:
// no rename, no truncate.
//
// A record is one line: its body, a space, the body's CRC-32C as 8 hex
// digits. Bodies must not contain a newline (JSON from encoding/json never
// does). A torn last line — a write cut by a crash or a pulled stick — is
// dropped when read, so a record counts only once its whole line was
// fsync'd, which Append does before it returns.
package seglog
