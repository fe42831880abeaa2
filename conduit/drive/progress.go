package drive

import (
	"time"

	"github.com/borgios/borghui/conduit/files"
)

// Progress is how far an upload is: bytes done and in all, the smoothed
// rate in bytes per second and the time left (-1 when unknown, 0 when
// done). It is files.Progress, so the UI shows drive and plain file
// transfers alike.
type Progress = files.Progress

// meter adapts files.Service.Upload's growing byte counts to progress:
// the rate is files.Meter's moving average over about a second, on the
// drive's clock. With a journal being resumed, the bytes of the chunks it
// records as finished count as done but not towards the rate.
func meter(size int64, j *files.Journal, now func() time.Time, progress func(Progress)) func(int64) {
	if progress == nil {
		return nil
	}
	m := files.NewMeter(size, now)
	if j != nil && j.Count() > 0 {
		m.Resume(min(size, int64(j.Count())*int64(j.Header.ChunkSize)))
	}
	return func(done int64) { progress(m.Update(done)) }
}
