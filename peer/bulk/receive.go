package bulk

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/borgios/borghui/internal/dirs"
)

// Receiver defaults.
const (
	DefaultSyncBytes = 64 << 20 // bytes written between background fsyncs of the partial file
	maxBadChunks     = 16       // chunks failing their hash on one connection before the receiver gives up
	receiveBuffers   = 4        // chunk buffers between the connection reader and the hash/write worker
	keepaliveEvery   = 250 * time.Millisecond
)

// Receiver stores offered blobs in Dir. Its zero value (with Dir set) is
// usable; it may serve many connections at once. Files in Dir, by transfer id
// (64 hex digits):
//
//	<id>.part        the partial file, preallocated to the offer's size
//	<id>.bitmap      the chunks durably in <id>.part (format: package doc)
//	<id>.bitmap.tmp  a bitmap being replaced
//	<id>             the completed file (renamed from <id>.part)
type Receiver struct {
	Dir string
	// MaxSize refuses offers larger than this many bytes; 0 = only the
	// protocol limit (MaxChunks × MaxChunkSize).
	MaxSize int64
	// Accept is the policy hook (quota, allowed names...): called with a
	// well-formed offer; an error refuses it with CodeRefused and the error's
	// text as reason. Nil accepts everything.
	Accept func(o Offer) error
	// OnComplete is called with the final path once the file is complete,
	// fsync'd and renamed, before the sender is told Done. It is called again
	// if a sender offers an id whose final file is still in Dir.
	OnComplete func(path string, o Offer)
	// Timeout: no frame from the sender, or a write that does not complete,
	// within it ends the session (the partial is kept); 0 = DefaultChunkTimeout.
	Timeout time.Duration
	// SyncBytes is how many bytes are written between background fsyncs of
	// the partial file and its bitmap; 0 = DefaultSyncBytes. A crash loses
	// at most the chunks written since the last sync.
	SyncBytes int64
	// VerifyOnDisk re-reads and re-hashes the whole file after the final
	// fsync, before the rename (and an existing final file before reusing
	// it). Off by default: chunks are verified in memory before they are
	// written. A mismatch removes the partial and fails with CodeVerify.
	VerifyOnDisk bool

	// test hooks
	beforeFinal func(part string) // after the final fsync, before verification
	afterChunk  func(i int)       // after chunk i was written, before its ack
	crash       bool              // end a failed session without saving the bitmap
}

func (r *Receiver) timeout() time.Duration {
	if r.Timeout > 0 {
		return r.Timeout
	}
	return DefaultChunkTimeout
}

// Serve runs one transfer on c: it reads the offer, refuses it or resumes
// or starts it, receives the missing chunks and, when the file is complete,
// sends Done. It closes c before returning. It returns nil only after Done
// was sent; on a broken connection or timeout the partial file and its bitmap
// stay for a later offer of the same id (or for Cleanup).
func (r *Receiver) Serve(ctx context.Context, c net.Conn) (err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	defer c.Close()
	defer func() {
		if err != nil && ctx.Err() != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("bulk: serve canceled: %w (%w)", context.Cause(ctx), err)
		}
	}()
	w := &frameWriter{c: c, timeout: r.timeout()}
	br := bufio.NewReaderSize(c, 64<<10)
	o, err := r.readOffer(c, br, w)
	if err != nil {
		return err
	}
	idHex := o.IDString()
	release, err := acquire(ctx, activeKey(r.Dir, idHex), cancel)
	if err != nil {
		w.status(frameFail, CodeShutdown, err.Error())
		return err
	}
	defer release()
	t := &transfer{
		r: r, o: &o, w: w, c: c, br: br,
		part:  filepath.Join(r.Dir, idHex+".part"),
		bits:  filepath.Join(r.Dir, idHex+".bitmap"),
		final: filepath.Join(r.Dir, idHex),
	}
	return t.run(ctx)
}

// readOffer reads and checks the offer, refusing it (Fail frame) when it is
// malformed, too large or rejected by the policy hook. It allocates for the
// manifest only after the offer's head was checked against the limits.
func (r *Receiver) readOffer(c net.Conn, br *bufio.Reader, w *frameWriter) (Offer, error) {
	c.SetReadDeadline(time.Now().Add(w.timeout))
	var h [frameHeaderLen]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		return Offer{}, netErr("reading offer", err)
	}
	typ, n, err := decodeFrameHeader(h[:])
	if err != nil {
		return Offer{}, w.refuse(CodeBadOffer, err)
	}
	if typ != frameOffer {
		return Offer{}, w.refuse(CodeProtocol, fmt.Errorf("%w: frame type %d instead of an offer", ErrProtocol, typ))
	}
	// n ≤ maxOfferLen here, so draining the rest before a refusal is bounded.
	drain := func(k int) { io.CopyN(io.Discard, br, int64(k)) }
	var head [offerHeadLen]byte
	if n < offerHeadLen {
		drain(n)
		return Offer{}, w.refuse(CodeBadOffer, fmt.Errorf("%w: offer of %d bytes", ErrBadOffer, n))
	}
	if _, err := io.ReadFull(br, head[:]); err != nil {
		return Offer{}, netErr("reading offer", unexpectedEOF(err))
	}
	oh, err := decodeOfferHead(head[:], n)
	if err != nil {
		drain(n - offerHeadLen)
		return Offer{}, w.refuse(CodeBadOffer, err)
	}
	if r.MaxSize > 0 && oh.size > r.MaxSize {
		drain(n - offerHeadLen)
		return Offer{}, w.refuse(CodeTooLarge, fmt.Errorf("%w: %d bytes, limit %d", ErrBadOffer, oh.size, r.MaxSize))
	}
	p := make([]byte, n)
	copy(p, head[:])
	if _, err := io.ReadFull(br, p[offerHeadLen:]); err != nil {
		return Offer{}, netErr("reading offer", unexpectedEOF(err))
	}
	o, err := decodeOffer(p)
	if err != nil {
		return Offer{}, w.refuse(CodeBadOffer, err)
	}
	if r.Accept != nil {
		if err := r.Accept(o); err != nil {
			return Offer{}, w.refuse(CodeRefused, err)
		}
	}
	return o, nil
}

// transfer is one accepted offer being received.
type transfer struct {
	r                  *Receiver
	o                  *Offer
	w                  *frameWriter
	c                  net.Conn
	br                 *bufio.Reader
	part, bits, final  string
	f                  *os.File
	syncBytes          int64
	snap               []byte // bitmap file contents (one persist at a time)
	trigger            chan struct{}
	syncStop, syncDone chan struct{}

	mu       sync.Mutex
	have     bitmap // chunks written to f (this session or synced earlier)
	unsynced int64
	syncErr  error
}

// errIO marks a failure of the receiver's storage.
var errIO = errors.New("bulk: storage")

func (t *transfer) run(ctx context.Context) error {
	count := t.o.Chunks()
	if done, err := t.reuseFinal(); done || err != nil {
		return err
	}
	if err := t.open(); err != nil {
		return t.w.refuse(CodeIO, err)
	}
	if err := t.w.write(frameAccept, appendAccept(nil, t.have, count)); err != nil {
		t.closeKeep()
		return netErr("sending accept", err)
	}
	if need := count - t.have.count(); need > 0 {
		if err := t.receive(ctx, need); err != nil {
			return t.failed(err)
		}
	}
	return t.finish()
}

// reuseFinal answers an offer whose final file is already in Dir (a sender
// that missed Done re-offers): Accept with every chunk, OnComplete, Done.
func (t *transfer) reuseFinal() (bool, error) {
	fi, err := os.Stat(t.final)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != t.o.Size {
		return false, nil
	}
	stop := t.keepalive()
	defer stop()
	if t.r.VerifyOnDisk {
		f, err := os.Open(t.final)
		if err != nil {
			return false, nil
		}
		err = verifyFile(f, t.o)
		f.Close()
		if err != nil {
			os.Remove(t.final)
			return false, nil
		}
	}
	os.Remove(t.part)
	os.Remove(t.bits)
	if t.r.OnComplete != nil {
		t.r.OnComplete(t.final, *t.o)
	}
	stop()
	all := newBitmap(t.o.Chunks())
	for i := range t.o.Chunks() {
		all.set(i)
	}
	if err := t.w.write(frameAccept, appendAccept(nil, all, t.o.Chunks())); err != nil {
		return true, netErr("sending accept", err)
	}
	if err := t.w.write(frameDone, t.o.ID[:]); err != nil {
		return true, netErr("sending done", err)
	}
	return true, nil
}

// open opens or creates the partial file and loads its bitmap; a missing or
// damaged bitmap, or a partial of the wrong size, starts the transfer over.
func (t *transfer) open() (err error) {
	if err := dirs.MkdirAll(t.r.Dir, 0o700); err != nil {
		return fmt.Errorf("%w: %w", errIO, err)
	}
	created := false
	f, err := os.OpenFile(t.part, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		f, err = os.OpenFile(t.part, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		created = true
	}
	if err != nil {
		return fmt.Errorf("%w: %w", errIO, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			if created {
				os.Remove(t.part)
			}
		}
	}()
	count := t.o.Chunks()
	var have bitmap
	if !created {
		if bm, err := loadBitmapFile(t.bits, t.o.ID, count); err == nil {
			if fi, err := f.Stat(); err == nil && fi.Size() == t.o.Size {
				have = append(bitmap(nil), bm...)
			}
		}
	}
	if have == nil {
		have = newBitmap(count)
		os.Remove(t.bits)
		if err := f.Truncate(0); err != nil {
			return fmt.Errorf("%w: %w", errIO, err)
		}
		if err := f.Truncate(t.o.Size); err != nil {
			return fmt.Errorf("%w: %w", errIO, err)
		}
	}
	if created {
		syncDir(t.r.Dir)
	}
	t.f, t.have = f, have
	t.syncBytes = t.r.SyncBytes
	if t.syncBytes <= 0 {
		t.syncBytes = DefaultSyncBytes
	}
	return nil
}

// job is one received chunk on its way through the hash/write worker.
type job struct {
	idx, n int
	buf    []byte
	bad    bool  // hash mismatch (Nack sent)
	err    error // write or ack failure
}

var errBadChunks = errors.New("bulk: too many bad chunks")

// receive reads chunk frames until need more chunks are written. The
// connection reader (this goroutine) hands each chunk to a worker that
// verifies its hash, writes it and acks it, so reading, hashing and writing
// overlap; a background syncer fsyncs the file and saves the bitmap every
// SyncBytes.
func (t *transfer) receive(ctx context.Context, need int) (err error) {
	count := t.o.Chunks()
	nb := min(receiveBuffers, need)
	bufLen := min(int64(t.o.ChunkSize), t.o.Size)
	free := make([][]byte, 0, nb)
	for range nb {
		free = append(free, make([]byte, bufLen))
	}
	queued := append(bitmap(nil), t.have...) // written, or with the worker
	jobs := make(chan job, nb)
	results := make(chan job, nb)
	workerDone := make(chan struct{})
	go t.work(jobs, results, workerDone)
	t.startSyncer()
	defer func() {
		close(jobs)
		if err != nil {
			t.c.Close() // unblock an ack write
		}
		<-workerDone
		t.stopSyncer()
	}()

	got, pending, bad := 0, 0, 0
	handle := func(j job) error {
		pending--
		free = append(free, j.buf)
		switch {
		case j.err != nil:
			return j.err
		case j.bad:
			queued.clear(j.idx)
			if bad++; bad > maxBadChunks {
				return fmt.Errorf("%w: %d chunks failed their hash", errBadChunks, bad)
			}
		default:
			got++
		}
		return nil
	}
	var hdr [chunkHeaderLen]byte
	var scratch []byte
	for got < need {
	collect:
		for {
			select {
			case j := <-results:
				if err := handle(j); err != nil {
					return err
				}
			default:
				break collect
			}
		}
		if got >= need {
			break
		}
		if len(free) == 0 || (pending > 0 && got+pending == need) {
			select {
			case j := <-results:
				if err := handle(j); err != nil {
					return err
				}
			case <-ctx.Done():
				return context.Cause(ctx)
			}
			continue
		}
		if err := t.syncError(); err != nil {
			return err
		}
		t.c.SetReadDeadline(time.Now().Add(t.w.timeout))
		if _, err := io.ReadFull(t.br, hdr[:frameHeaderLen]); err != nil {
			return netErr("reading chunk", err)
		}
		typ, n, err := decodeFrameHeader(hdr[:frameHeaderLen])
		if err != nil {
			return err
		}
		switch typ {
		case frameChunk:
		case frameAbort:
			if cap(scratch) < n {
				scratch = make([]byte, n)
			}
			if _, err := io.ReadFull(t.br, scratch[:n]); err != nil {
				return netErr("reading abort", unexpectedEOF(err))
			}
			code, reason, err := decodeStatus(scratch[:n])
			if err != nil {
				return err
			}
			return &RemoteError{Code: code, Reason: reason}
		default:
			return fmt.Errorf("%w: frame type %d during the transfer", ErrProtocol, typ)
		}
		if n < 4 {
			return fmt.Errorf("%w: chunk frame of %d bytes", ErrProtocol, n)
		}
		if _, err := io.ReadFull(t.br, hdr[frameHeaderLen:]); err != nil {
			return netErr("reading chunk", unexpectedEOF(err))
		}
		i, err := decodeIndex(hdr[frameHeaderLen:], count)
		if err != nil {
			return err
		}
		if want := t.o.chunkLen(i); n-4 != want {
			return fmt.Errorf("%w: chunk %d of %d bytes, want %d", ErrProtocol, i, n-4, want)
		}
		if queued.has(i) {
			// A resend may arrive before this loop handled the Nack's result,
			// which the worker queued before writing the Nack.
		late:
			for {
				select {
				case j := <-results:
					if err := handle(j); err != nil {
						return err
					}
				default:
					break late
				}
			}
			if queued.has(i) {
				return fmt.Errorf("%w: chunk %d sent twice", ErrProtocol, i)
			}
		}
		buf := free[len(free)-1]
		free = free[:len(free)-1]
		if _, err := io.ReadFull(t.br, buf[:n-4]); err != nil {
			return netErr("reading chunk", unexpectedEOF(err))
		}
		queued.set(i)
		pending++
		jobs <- job{idx: i, n: n - 4, buf: buf}
	}
	return nil
}

// work verifies, writes and acknowledges chunks.
func (t *transfer) work(jobs <-chan job, results chan<- job, done chan<- struct{}) {
	defer close(done)
	for j := range jobs {
		data := j.buf[:j.n]
		if sha256.Sum256(data) != t.o.Hashes[j.idx] {
			// The result goes first: when the resend arrives (caused by the
			// Nack), the reader finds the chunk released (see receive). A
			// failed Nack write shows up as the reader's next error.
			j.bad = true
			results <- j
			t.w.writeIndex(frameNack, j.idx)
			continue
		}
		if _, err := t.f.WriteAt(data, t.o.chunkOff(j.idx)); err != nil {
			j.err = fmt.Errorf("%w: writing chunk %d: %w", errIO, j.idx, err)
			results <- j
			continue
		}
		t.mu.Lock()
		t.have.set(j.idx)
		t.unsynced += int64(j.n)
		kick := t.unsynced >= t.syncBytes
		if kick {
			t.unsynced = 0
		}
		t.mu.Unlock()
		if kick {
			select {
			case t.trigger <- struct{}{}:
			default:
			}
		}
		if t.r.afterChunk != nil {
			t.r.afterChunk(j.idx)
		}
		if err := t.w.writeIndex(frameAck, j.idx); err != nil {
			j.err = netErr("sending ack", err)
		}
		results <- j
	}
}

func (t *transfer) startSyncer() {
	t.trigger = make(chan struct{}, 1)
	t.syncStop = make(chan struct{})
	t.syncDone = make(chan struct{})
	go func() {
		defer close(t.syncDone)
		for {
			select {
			case <-t.trigger:
				if err := t.persist(); err != nil {
					t.mu.Lock()
					t.syncErr = err
					t.mu.Unlock()
				}
			case <-t.syncStop:
				return
			}
		}
	}()
}

func (t *transfer) stopSyncer() {
	close(t.syncStop)
	<-t.syncDone
}

func (t *transfer) syncError() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.syncErr
}

// persist makes the chunks written so far durable: it snapshots the bitmap,
// fsyncs the partial file (so every chunk in the snapshot is on disk), then
// replaces the bitmap file. Never two at once.
func (t *transfer) persist() error {
	t.mu.Lock()
	t.snap = appendBitmapFile(t.snap[:0], t.o.ID, t.o.Chunks(), t.have)
	t.mu.Unlock()
	if err := t.f.Sync(); err != nil {
		return fmt.Errorf("%w: fsync: %w", errIO, err)
	}
	if err := writeBitmapFile(t.bits, t.snap); err != nil {
		return fmt.Errorf("%w: %w", errIO, err)
	}
	return nil
}

// closeKeep saves the bitmap and closes the partial file, keeping both for a
// later resume.
func (t *transfer) closeKeep() {
	if !t.r.crash {
		t.persist()
	}
	t.f.Close()
}

// removeAll closes and deletes the partial file and its bitmap.
func (t *transfer) removeAll() {
	t.f.Close()
	os.Remove(t.part)
	os.Remove(t.bits)
	os.Remove(t.bits + ".tmp")
}

// failed ends a session that broke off: it tells the sender why (when the
// connection still works), and keeps or removes the partial data.
func (t *transfer) failed(err error) error {
	var re *RemoteError
	switch {
	case errors.As(err, &re): // the sender aborted for good
		t.removeAll()
		return err
	case errors.Is(err, errBadChunks):
		t.w.status(frameFail, CodeBadChunks, err.Error())
		t.removeAll()
		return fmt.Errorf("%w: %w", ErrVerify, err)
	case errors.Is(err, ErrProtocol):
		t.w.status(frameFail, CodeProtocol, err.Error())
	case errors.Is(err, errIO):
		t.w.status(frameFail, CodeIO, err.Error())
	}
	t.closeKeep()
	return err
}

// finish completes the transfer: fsync, optional re-verification, rename,
// bitmap removal, OnComplete, Done. Keepalives tell the sender the receiver
// is still working meanwhile.
func (t *transfer) finish() error {
	stop := t.keepalive()
	defer stop()
	if err := t.f.Sync(); err != nil {
		err = fmt.Errorf("%w: fsync: %w", errIO, err)
		t.w.status(frameFail, CodeIO, err.Error())
		t.f.Close()
		return err
	}
	if t.r.beforeFinal != nil {
		t.r.beforeFinal(t.part)
	}
	if t.r.VerifyOnDisk {
		if err := verifyFile(t.f, t.o); err != nil {
			t.removeAll()
			err = fmt.Errorf("%w: %w", ErrVerify, err)
			t.w.status(frameFail, CodeVerify, err.Error())
			return err
		}
	}
	if err := t.f.Close(); err != nil {
		err = fmt.Errorf("%w: closing: %w", errIO, err)
		t.w.status(frameFail, CodeIO, err.Error())
		return err
	}
	if err := os.Rename(t.part, t.final); err != nil {
		err = fmt.Errorf("%w: %w", errIO, err)
		t.w.status(frameFail, CodeIO, err.Error())
		return err
	}
	syncDir(t.r.Dir)
	os.Remove(t.bits)
	os.Remove(t.bits + ".tmp")
	if t.r.OnComplete != nil {
		t.r.OnComplete(t.final, *t.o)
	}
	stop()
	if err := t.w.write(frameDone, t.o.ID[:]); err != nil {
		return netErr("sending done", err)
	}
	return nil
}

// keepalive sends Keepalive frames until the returned stop is called (which
// waits for the sender goroutine and may be called more than once).
func (t *transfer) keepalive() (stop func()) {
	every := min(keepaliveEvery, t.w.timeout/3)
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				if t.w.write(frameKeepalive, nil) != nil {
					return
				}
			case <-quit:
				return
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(quit) })
		<-done
	}
}

// verifyFile re-reads every chunk of o from f and checks its hash.
func verifyFile(f *os.File, o *Offer) error {
	buf := make([]byte, min(int64(o.ChunkSize), o.Size))
	for i := range o.Chunks() {
		n := o.chunkLen(i)
		if k, err := f.ReadAt(buf[:n], o.chunkOff(i)); k != n {
			return fmt.Errorf("reading chunk %d back: %w", i, err)
		}
		if sha256.Sum256(buf[:n]) != o.Hashes[i] {
			return fmt.Errorf("chunk %d on disk does not match its hash", i)
		}
	}
	return nil
}

// syncDir fsyncs a directory so renames and creations in it are durable
// (best effort: not every platform can).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// frameWriter serialises the receiver's writes (acks from the worker,
// keepalives, the rest from Serve), each under a write deadline.
type frameWriter struct {
	mu      sync.Mutex
	c       net.Conn
	timeout time.Duration
	buf     []byte
}

func (w *frameWriter) write(typ byte, p []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf[:0], 0, 0, 0, 0, 0)
	putFrameHeader(w.buf, typ, len(p))
	w.buf = append(w.buf, p...)
	w.c.SetWriteDeadline(time.Now().Add(w.timeout))
	_, err := w.c.Write(w.buf)
	return err
}

func (w *frameWriter) writeIndex(typ byte, i int) error {
	b := [4]byte{byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)}
	return w.write(typ, b[:])
}

// status sends a Fail or Abort frame, best effort.
func (w *frameWriter) status(typ byte, code Code, reason string) {
	w.write(typ, appendStatus(nil, code, reason))
}

// refuse answers the offer with a Fail frame and returns Serve's error.
func (w *frameWriter) refuse(code Code, err error) error {
	w.status(frameFail, code, err.Error())
	return fmt.Errorf("%w (%s): %w", ErrRefused, code, err)
}
