// Package roster keeps a cell server's list of the members of its tree.
//
// The peer runtime's tree view names only a node's root, parent, children
// and root group, but a cell that places data (shards, ledger replicas,
// mail copies) or polls its peers (network time) needs every member. So
// members announce themselves: a broadcast Hello ("<type> " + JSON of
// {id, addr, recp}) when a node takes its first position or changes tree
// and every Config.Every after, and a one-way Hello straight back to a
// member heard of for the first time, so a newcomer learns everyone in one
// round. Entries not heard of for three periods expire.
//
// A Hello proves nothing by itself: its broadcast origin (or, sent
// directly, its transport sender) must be the ID it names, and a member is
// only ever reached through the transport, which checks its node card
// against that ID.
package roster
