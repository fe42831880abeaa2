package ledger

import (
	"bytes"
	"fmt"
)

// PayStorage pays the holders of proofs from the network wallet, at
// Config.Rate per GiB-hour, each (holder, shard, window) once ever on this
// node: windows already paid (recorded in the database) are skipped. The
// proofs must have been verified against their content by the caller
// (Proof.Verify); their signatures are checked again here. It needs
// Config.NetworkSigner and queues the transfers here like submitted ones
// (at most MaxSeqAhead in flight: ErrBusy beyond, nothing done). It
// returns the transfers' statuses.
func (s *Server) PayStorage(proofs []*Proof) ([]*StatusResponse, error) {
	k := s.cfg.NetworkSigner
	if k == nil || !bytes.Equal(k.PublicKey(), s.cfg.NetworkKey) {
		return nil, fmt.Errorf("%w: this node does not hold the network wallet key", ErrInvalid)
	}
	s.payMu.Lock()
	defer s.payMu.Unlock()
	var fresh []*Proof
	var keys [][]byte
	seen := map[string]bool{}
	for _, p := range proofs {
		if p == nil {
			continue
		}
		if err := p.VerifySignature(); err != nil {
			return nil, err
		}
		m, err := MUIDOf(p.Holder[:])
		if err != nil {
			return nil, err
		}
		key := paidKey(m, p.Shard, ProofWindow(p, s.cfg.ProofPeriod))
		if seen[string(key)] || s.st.isPaid(key) {
			continue
		}
		seen[string(key)] = true
		fresh = append(fresh, p)
		keys = append(keys, key)
	}
	credits, err := ComputePayouts(fresh, s.cfg.Rate, s.cfg.ProofPeriod)
	if err != nil || len(credits) == 0 {
		return nil, err
	}
	s.mu.RLock()
	acct := s.live.acc[s.network]
	s.mu.RUnlock()
	next := max(acct.Seq, s.pend.maxSeq(s.network)) + 1
	if next+uint64(len(credits))-1 > acct.Seq+MaxSeqAhead {
		return nil, fmt.Errorf("%w: %d payouts would pass the %d transfers in flight", ErrBusy, len(credits), MaxSeqAhead)
	}
	ts, err := PayoutTransfers(k, credits, next, s.cfg.Clock())
	if err != nil {
		return nil, err
	}
	out := make([]*StatusResponse, 0, len(ts))
	for _, t := range ts {
		st, err := s.admit(t)
		if err != nil {
			return out, err
		}
		out = append(out, st)
	}
	if _, err := s.st.markPaid(keys); err != nil {
		return out, err
	}
	return out, nil
}
