package blob

import (
	"io"
	"sync"
)

// parallelWriter writes each buffer to several writers at once: the first
// in the caller's goroutine, each other one in a goroutine of its own. It
// lets an upload hash with SHA-256 and MD5 (or a checksum) on separate
// cores while the bytes also go to storage. Write returns only when every
// writer is done with the buffer, so callers may reuse it, as io.Writer
// requires. The other writers must not fail: they are hashes.
type parallelWriter struct {
	first   io.Writer
	workers []chan []byte
	done    sync.WaitGroup
	stopped sync.WaitGroup
}

// newParallelWriter starts one goroutine per writer in others; Close stops them.
func newParallelWriter(first io.Writer, others ...io.Writer) *parallelWriter {
	w := &parallelWriter{first: first}
	for _, other := range others {
		work := make(chan []byte)
		w.workers = append(w.workers, work)
		w.stopped.Add(1)
		go func(dst io.Writer) {
			defer w.stopped.Done()
			for p := range work {
				_, _ = dst.Write(p)
				w.done.Done()
			}
		}(other)
	}
	return w
}

func (w *parallelWriter) Write(p []byte) (int, error) {
	w.done.Add(len(w.workers))
	for _, work := range w.workers {
		work <- p
	}
	n, err := w.first.Write(p)
	w.done.Wait()
	return n, err
}

// Close stops the worker goroutines.
func (w *parallelWriter) Close() {
	for _, work := range w.workers {
		close(work)
	}
	w.stopped.Wait()
}
