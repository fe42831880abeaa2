// Package usbboot answers "where am I running from?" for the conduit.
//
// The stick root is the folder the borghui binary sits in; everything the
// conduit keeps lives in the data folder BorgData/ beside it (or the folder
// given with --data). [Layout] is the one place that names paths on the
// stick, so nothing else invents a path and nothing is written to the host.
// The package also opens the person's browser once and writes the log file
// on the stick.
package usbboot
