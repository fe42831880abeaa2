package bulk

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"time"
)

// Defaults for zero Options fields.
const (
	DefaultWindow       = 32
	DefaultChunkTimeout = 30 * time.Second
	DefaultRetries      = 5
	DefaultRetryDelay   = 250 * time.Millisecond
	maxWindow           = 4096
	maxRetryDelay       = 10 * time.Second
	maxResends          = 3 // a chunk Nack'ed more often than this ends the transfer
)

// Options tune Send. The zero value is usable.
type Options struct {
	// ChunkSize in bytes; 0 = DefaultChunkSize (doubled for huge blobs so the
	// count stays within MaxChunks). Must be in [MinChunkSize, MaxChunkSize].
	ChunkSize int
	// Window is the most chunks sent and not yet acknowledged; 0 =
	// DefaultWindow. The sender keeps no copy of them (a resend re-reads the
	// source), so a big window costs no sender memory.
	Window int
	// ChunkTimeout: no frame from the receiver (ack, keepalive, reply) or a
	// write that does not complete within it ends the attempt with
	// ErrTimeout; 0 = DefaultChunkTimeout. While finishing, the receiver
	// sends a keepalive every 250 ms, so keep this well above that.
	ChunkTimeout time.Duration
	// Retries is how many times Send re-dials after a failed attempt in a row
	// that made no progress (an attempt that delivered chunks resets the
	// count); 0 = DefaultRetries, negative = never re-dial.
	Retries int
	// RetryDelay is the first back-off before a re-dial, doubled per failure
	// in a row up to 10 s, with ±25 % jitter; 0 = DefaultRetryDelay.
	RetryDelay time.Duration
}

func (o Options) withDefaults() Options {
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	o.Window = min(o.Window, maxWindow)
	if o.ChunkTimeout <= 0 {
		o.ChunkTimeout = DefaultChunkTimeout
	}
	if o.Retries == 0 {
		o.Retries = DefaultRetries
	} else if o.Retries < 0 {
		o.Retries = 0
	}
	if o.RetryDelay <= 0 {
		o.RetryDelay = DefaultRetryDelay
	}
	return o
}

// Stats describe one Send.
type Stats struct {
	Bytes    int64         // chunk bytes written to connections, resends included
	Chunks   int64         // chunks delivered (acknowledged) by this Send
	Resent   int64         // chunk transmissions after the first of the same chunk (Nack, lost connection)
	Resumed  int64         // chunks the receiver already had when this Send began
	Dials    int64         // connections dialed
	Duration time.Duration // wall time, hashing the source included
}

// Send hashes src (size bytes) into an offer named name and delivers it over
// connections from dial, resuming after broken connections (see Options). It
// returns nil only after the receiver reported Done: the file is complete,
// verified, fsync'd and renamed into place.
func Send(ctx context.Context, dial func(context.Context) (net.Conn, error), name string, src io.ReaderAt, size int64, opts Options) (Stats, error) {
	start := time.Now()
	o, err := NewOffer(ctx, name, src, size, opts.ChunkSize)
	if err != nil {
		return Stats{Duration: time.Since(start)}, err
	}
	st, err := SendOffer(ctx, dial, o, src, opts)
	st.Duration = time.Since(start)
	return st, err
}

// SendOffer is Send with an offer made earlier by NewOffer for the same src
// (for example to log its id first). opts.ChunkSize is ignored.
func SendOffer(ctx context.Context, dial func(context.Context) (net.Conn, error), o Offer, src io.ReaderAt, opts Options) (Stats, error) {
	start := time.Now()
	opts = opts.withDefaults()
	p := o.payload()
	if _, err := decodeOffer(p); err != nil {
		return Stats{}, err
	}
	count := o.Chunks()
	s := &sender{
		o:       &o,
		src:     src,
		opts:    opts,
		acked:   newBitmap(count),
		sent:    newBitmap(count),
		flight:  newBitmap(count),
		resends: make([]uint8, count),
		buf:     make([]byte, chunkHeaderLen+min(o.ChunkSize, int(max(o.Size, 0)))),
	}
	s.offerFrame = make([]byte, frameHeaderLen, frameHeaderLen+len(p))
	putFrameHeader(s.offerFrame, frameOffer, len(p))
	s.offerFrame = append(s.offerFrame, p...)

	failures := 0
	for {
		var progress bool
		c, err := dial(ctx)
		s.st.Dials++
		if err == nil {
			progress, err = s.attempt(ctx, c)
			if err == nil {
				s.finishStats()
				s.st.Duration = time.Since(start)
				return s.st, nil
			}
		} else {
			err = fmt.Errorf("bulk: dial: %w", err)
		}
		if ctx.Err() != nil {
			err = fmt.Errorf("bulk: send %s canceled: %w", o.IDString()[:16], context.Cause(ctx))
		}
		var re *RemoteError
		if progress && !errors.As(err, &re) {
			failures = 0 // a remote failure (e.g. CodeVerify) never counts as progress
		} else {
			failures++
		}
		if ctx.Err() == nil && retryable(err) && failures > opts.Retries && s.st.Dials > 1 {
			err = fmt.Errorf("%w (gave up after %d connections)", err, s.st.Dials)
		}
		if ctx.Err() != nil || !retryable(err) || failures > opts.Retries {
			s.finishStats()
			s.st.Duration = time.Since(start)
			return s.st, err
		}
		d := opts.RetryDelay << min(max(failures-1, 0), 16)
		d = min(d, maxRetryDelay)
		d = d*3/4 + rand.N(d/2+1)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			s.finishStats()
			s.st.Duration = time.Since(start)
			return s.st, fmt.Errorf("bulk: send %s canceled: %w (after: %w)", o.IDString()[:16], context.Cause(ctx), err)
		case <-t.C:
		}
	}
}

// retryable reports whether an attempt's error allows a re-dial.
func retryable(err error) bool {
	var re *RemoteError
	if errors.As(err, &re) {
		return re.Code.retryable()
	}
	return !errors.Is(err, ErrProtocol) && !errors.Is(err, ErrSourceChanged) &&
		!errors.Is(err, ErrTooManyResends) && !errors.Is(err, errSource)
}

type sender struct {
	o          *Offer
	src        io.ReaderAt
	opts       Options
	offerFrame []byte
	acked      bitmap // chunks the receiver has (acked or in an Accept)
	first      bitmap // chunks the receiver had at the first Accept
	sent       bitmap // chunks sent at least once by this Send
	flight     bitmap // chunks sent and not yet acked on this connection
	resends    []uint8
	resendQ    []int
	buf        []byte // chunk frame: header + data
	scratch    []byte
	st         Stats
}

// finishStats derives Chunks and Resumed from the bitmaps.
func (s *sender) finishStats() {
	var delivered, resumed int64
	for i := range s.o.Chunks() {
		if !s.acked.has(i) {
			continue
		}
		if s.first != nil && s.first.has(i) {
			resumed++
		} else {
			delivered++
		}
	}
	s.st.Chunks, s.st.Resumed = delivered, resumed
}

// event is what the reader goroutine hands to the send loop.
type event struct {
	typ byte
	idx int
	err error
}

// attempt runs the protocol on one connection. progress reports whether the
// receiver gained chunks during it.
func (s *sender) attempt(ctx context.Context, c net.Conn) (progress bool, err error) {
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	defer c.Close()
	t := s.opts.ChunkTimeout
	count := s.o.Chunks()
	br := bufio.NewReaderSize(c, 4096)

	// Offer → Accept | Fail.
	c.SetWriteDeadline(time.Now().Add(t))
	if _, err := c.Write(s.offerFrame); err != nil {
		return false, netErr("sending offer", err)
	}
	var typ byte
	var p []byte
	for typ = frameKeepalive; typ == frameKeepalive; {
		c.SetReadDeadline(time.Now().Add(t))
		if typ, p, err = readFrame(br, &s.scratch); err != nil {
			return false, netErr("reading the answer to the offer", err)
		}
	}
	switch typ {
	case frameAccept:
	case frameFail:
		code, reason, err := decodeStatus(p)
		if err != nil {
			return false, err
		}
		return false, &RemoteError{Code: code, Reason: reason, Refusal: true}
	default:
		return false, fmt.Errorf("%w: frame type %d in answer to the offer", ErrProtocol, typ)
	}
	have, err := decodeAccept(p, count)
	if err != nil {
		return false, err
	}
	if s.first == nil {
		s.first = append(bitmap(nil), have...)
	}
	for i := range count {
		switch {
		case have.has(i) && !s.acked.has(i):
			s.acked.set(i)
			progress = true
		case !have.has(i) && s.acked.has(i):
			s.acked.clear(i) // the receiver lost it (crash before its bitmap was synced)
		}
	}
	clear(s.flight)
	s.resendQ = s.resendQ[:0]

	// Reader goroutine: Ack, Nack, Keepalive, Done, Fail.
	events := make(chan event, s.opts.Window+2)
	quit := make(chan struct{})
	readerDone := make(chan struct{})
	go s.readLoop(c, br, events, quit, readerDone)
	defer func() {
		close(quit)
		c.Close()
		<-readerDone
	}()

	next, inflight := 0, 0
	for {
		for inflight < s.opts.Window {
			i := -1
			if len(s.resendQ) > 0 {
				i = s.resendQ[0]
				s.resendQ = s.resendQ[1:]
			} else {
				for next < count && s.acked.has(next) {
					next++
				}
				if next < count {
					i = next
					next++
				}
			}
			if i < 0 {
				break
			}
			if err := s.sendChunk(c, i); err != nil {
				return progress, err
			}
			s.flight.set(i)
			inflight++
		}
		if inflight == 0 {
			break // everything acknowledged
		}
		var ev event
		select {
		case ev = <-events:
		case <-ctx.Done():
			return progress, context.Cause(ctx)
		}
		switch ev.typ {
		case frameAck, frameNack:
			if !s.flight.has(ev.idx) {
				return progress, fmt.Errorf("%w: ack for chunk %d not in flight", ErrProtocol, ev.idx)
			}
			s.flight.clear(ev.idx)
			inflight--
			if ev.typ == frameAck {
				s.acked.set(ev.idx)
				progress = true
				continue
			}
			if err := s.nacked(c, ev.idx); err != nil {
				return progress, err
			}
			s.resendQ = append(s.resendQ, ev.idx)
		default:
			return progress, s.eventErr(ev)
		}
	}

	// Everything acknowledged: wait for Done.
	var ev event
	select {
	case ev = <-events:
	case <-ctx.Done():
		return progress, context.Cause(ctx)
	}
	if ev.typ == frameDone {
		return progress, nil
	}
	return progress, s.eventErr(ev)
}

// eventErr turns an unexpected event into the attempt's error.
func (s *sender) eventErr(ev event) error {
	switch {
	case ev.err != nil:
		return ev.err
	case ev.typ == frameDone:
		return fmt.Errorf("%w: done before all chunks were acknowledged", ErrProtocol)
	}
	return fmt.Errorf("%w: unexpected frame type %d", ErrProtocol, ev.typ)
}

// nacked handles a Nack for chunk i: checks the resend limit and that the
// source still matches the offer, aborting the transfer if not.
func (s *sender) nacked(c net.Conn, i int) error {
	s.resends[i]++
	if s.resends[i] > maxResends {
		err := fmt.Errorf("%w: chunk %d rejected %d times", ErrTooManyResends, i, s.resends[i])
		s.abort(c, CodeTooManyResends, err)
		return err
	}
	data := s.buf[chunkHeaderLen : chunkHeaderLen+s.o.chunkLen(i)]
	if err := readChunk(s.src, s.o, i, data); err != nil {
		return err
	}
	if sha256.Sum256(data) != s.o.Hashes[i] {
		err := fmt.Errorf("%w: chunk %d no longer matches the offer", ErrSourceChanged, i)
		s.abort(c, CodeSourceChanged, err)
		return err
	}
	return nil
}

// abort tells the receiver the transfer is over for good (best effort).
func (s *sender) abort(c net.Conn, code Code, why error) {
	b := make([]byte, frameHeaderLen, frameHeaderLen+maxStatusLen)
	b = appendStatus(b, code, why.Error())
	putFrameHeader(b, frameAbort, len(b)-frameHeaderLen)
	c.SetWriteDeadline(time.Now().Add(s.opts.ChunkTimeout))
	c.Write(b)
}

// sendChunk reads chunk i from the source and writes its frame.
func (s *sender) sendChunk(c net.Conn, i int) error {
	n := s.o.chunkLen(i)
	b := s.buf[:chunkHeaderLen+n]
	if err := readChunk(s.src, s.o, i, b[chunkHeaderLen:]); err != nil {
		return err
	}
	putFrameHeader(b, frameChunk, 4+n)
	b[5], b[6], b[7], b[8] = byte(i>>24), byte(i>>16), byte(i>>8), byte(i)
	c.SetWriteDeadline(time.Now().Add(s.opts.ChunkTimeout))
	if _, err := c.Write(b); err != nil {
		return netErr(fmt.Sprintf("sending chunk %d", i), err)
	}
	if s.sent.has(i) {
		s.st.Resent++
	}
	s.sent.set(i)
	s.st.Bytes += int64(n)
	return nil
}

// readLoop reads the receiver's frames and hands them to the send loop
// until Done, Fail, an error or quit.
func (s *sender) readLoop(c net.Conn, br *bufio.Reader, events chan<- event, quit <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	var scratch []byte
	count := s.o.Chunks()
	emit := func(ev event) bool {
		select {
		case events <- ev:
			return true
		case <-quit:
			return false
		}
	}
	for {
		c.SetReadDeadline(time.Now().Add(s.opts.ChunkTimeout))
		typ, p, err := readFrame(br, &scratch)
		if err != nil {
			emit(event{err: netErr("reading acks", err)})
			return
		}
		ev := event{typ: typ}
		switch typ {
		case frameKeepalive:
			continue
		case frameAck, frameNack:
			ev.idx, ev.err = decodeIndex(p, count)
		case frameDone:
			ev.err = decodeDone(p, s.o.ID)
		case frameFail:
			code, reason, err := decodeStatus(p)
			ev.err = err
			if err == nil {
				ev.err = &RemoteError{Code: code, Reason: reason}
			}
		default:
			ev.err = fmt.Errorf("%w: unexpected frame type %d", ErrProtocol, typ)
		}
		if ev.err != nil {
			ev.typ = 0
		}
		if !emit(ev) || ev.err != nil || typ == frameDone {
			return
		}
	}
}

// netErr wraps a connection error, marking deadline expiry as ErrTimeout.
func netErr(what string, err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("%w: %s: %w", ErrTimeout, what, err)
	}
	if errors.Is(err, ErrProtocol) {
		return err
	}
	return fmt.Errorf("bulk: %s: %w", what, unexpectedEOF(err))
}
