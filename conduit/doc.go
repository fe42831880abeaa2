// Package conduit is the application core of BorgHUI Conduit: the services
// the browser UI calls, composed of the wallet, the signer and (in later
// layers) the network clients. It knows nothing of HTML.
//
// This layer holds the identity life cycle: create (24 words shown once,
// confirmed by a quiz on three of them, then a passphrase), restore (24
// words, a legacy 27-word phrase or a legacy wallet file), unlock, lock, and
// the opt-in "remember my passphrase on this computer". Secrets arrive and
// leave as byte slices the caller wipes; errors carry a short message for
// the person ([UserMessage]) apart from their internal detail.
//
// Unlocking opens a [Session] on the network ([NetworkConfig]): the drive,
// mail, wallet and network time. While the network is unknown or out of
// reach the session runs on the conduit's own solo network; once the
// network answers (or [Conduit.JoinNetwork] names one), the drive's files
// and folders and the letters the solo cells held are replicated there,
// the session moves for good, and [NetStatus.Moved] says what moved. The
// move log on the stick makes an interrupted move go on where it stopped.
//
// State changes are announced on the event [Bus], which the web layer relays
// to open browser tabs over a websocket.
package conduit
