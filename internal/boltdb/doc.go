// Package boltdb opens the cells' bbolt databases, refusing folders on
// filesystems where bbolt would lose data.
//
// bbolt grows its file with ftruncate and then writes pages into the
// grown part. Some FAT drivers cannot do that: fusefat 0.1a (used on
// Linux hosts without a vfat module) refuses to grow a file with
// ftruncate, and where a reopened file is written past its end it drops
// the file's start. bbolt's NoGrowSync option skips the ftruncate but
// then extends the file by writing, which is exactly what loses data
// there. So [Open] asks the folder first and returns [ErrCannotGrow]
// for such a filesystem: a clear error instead of a corrupt database.
// The kernel's vfat, Windows' and macOS' FAT drivers grow files normally.
package boltdb
