package blob

import (
	"io"
	"sync"
)

// teeMinParallelSize is the smallest declared body whose tee runs in a
// goroutine of its own. A smaller body takes less time to hash than it
// takes to start the goroutine and hand it the buffers.
const teeMinParallelSize = 1 << 20

// Each laggingWriter may fall up to laggingBuffers copies of
// laggingBufferSize bytes behind the writer that Write feeds directly.
const (
	laggingBufferSize = 256 << 10
	laggingBuffers    = 16
)

// laggingBufferPool holds the copies that laggingWriters queue, each entry
// a *[]byte of laggingBufferSize bytes.
var laggingBufferPool = sync.Pool{New: func() any {
	b := make([]byte, laggingBufferSize)
	return &b
}}

// copyTee copies body to w as copyDeclared does, and every byte to tee as
// well. tee has received every byte when copyTee returns. A large body is
// hashed by tee in a goroutine of its own, on another core than w.
func copyTee(w, tee io.Writer, body io.Reader, declared int64) (int64, error) {
	if tee == nil {
		return copyDeclared(w, body, declared)
	}
	if declared >= 0 && declared < teeMinParallelSize {
		return copyDeclared(io.MultiWriter(w, tee), body, declared)
	}
	parallel := newParallelWriter(w, tee)
	defer parallel.Close()
	return copyDeclared(parallel, body, declared)
}

// parallelWriter writes each buffer to several writers: the first in the
// caller's goroutine, each other one through a laggingWriter. It lets an
// upload hash with SHA-256 and MD5 (or a checksum) on separate cores while
// the bytes also go to storage. The other writers must not fail: they are
// hashes.
type parallelWriter struct {
	first  io.Writer
	others []*laggingWriter
}

// newParallelWriter starts one goroutine per writer in others. Close waits
// until they have written every byte and stops them.
func newParallelWriter(first io.Writer, others ...io.Writer) *parallelWriter {
	w := &parallelWriter{first: first}
	for _, other := range others {
		w.others = append(w.others, newLaggingWriter(other))
	}
	return w
}

func (w *parallelWriter) Write(p []byte) (int, error) {
	for _, other := range w.others {
		other.queue(p)
	}
	return w.first.Write(p)
}

// Close waits until every writer has written every byte, and stops the
// goroutines.
func (w *parallelWriter) Close() {
	for _, other := range w.others {
		other.close()
	}
}

// laggingWriter writes copies of the bytes it is given to dst in a
// goroutine of its own, up to laggingBuffers copies behind. A slow hash
// such as MD5 then keeps its core busy while the caller reads the next
// bytes, instead of waiting for the caller at every buffer.
type laggingWriter struct {
	dst      io.Writer
	pending  chan *[]byte // copies not yet written, in order
	free     chan *[]byte // copies written, ready for reuse
	borrowed int          // copies borrowed from the pool
	done     chan struct{}
}

func newLaggingWriter(dst io.Writer) *laggingWriter {
	w := &laggingWriter{
		dst:     dst,
		pending: make(chan *[]byte, laggingBuffers),
		free:    make(chan *[]byte, laggingBuffers),
		done:    make(chan struct{}),
	}
	go w.run()
	return w
}

// run writes the queued copies until close.
func (w *laggingWriter) run() {
	defer close(w.done)
	for buf := range w.pending {
		_, _ = w.dst.Write(*buf)
		w.free <- buf
	}
}

// queue copies p and queues the copies for the goroutine. It waits for a
// free copy when the goroutine is laggingBuffers copies behind.
func (w *laggingWriter) queue(p []byte) {
	for len(p) > 0 {
		buf := w.freeBuffer()
		n := copy((*buf)[:cap(*buf)], p)
		*buf = (*buf)[:n]
		p = p[n:]
		w.pending <- buf
	}
}

// freeBuffer returns a written copy, or a new one from the pool while
// fewer than laggingBuffers are borrowed.
func (w *laggingWriter) freeBuffer() *[]byte {
	select {
	case buf := <-w.free:
		return buf
	default:
	}
	if w.borrowed < laggingBuffers {
		w.borrowed++
		return laggingBufferPool.Get().(*[]byte)
	}
	return <-w.free
}

// close waits until the goroutine has written every copy, stops it and
// returns the copies to the pool.
func (w *laggingWriter) close() {
	close(w.pending)
	<-w.done
	for range w.borrowed {
		laggingBufferPool.Put(<-w.free)
	}
}
