//go:build !unix

package wallet

// raiseMemlockLimit has nothing to do here: Windows bounds VirtualLock by the
// working-set quota, which memguard manages.
func raiseMemlockLimit() {}
