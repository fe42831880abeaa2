// Package testvec locates the project's shared test vectors for tests.
//
// The vectors are copies of ../shared/testvectors kept under testdata/vectors
// at the module root, so a clean checkout tests without anything beside it.
package testvec
