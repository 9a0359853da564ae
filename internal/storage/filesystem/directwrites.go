package filesystem

import (
	"os"
	"sync"
)

// directWriteBuffers hold the aligned buffers of directWrites.
var directWriteBuffers = sync.Pool{New: func() any {
	b := alignedBuffer(writeBufferSize)
	return &b
}}

// directWriteDepth is how many buffers one file may have queued or being
// written at once.
const directWriteDepth = 2

// directWrites writes full buffers to a file with direct I/O in a goroutine
// of its own, in the order they were queued. A direct write returns only
// when the disk has the bytes, so writing in the background lets the next
// buffer fill and hash meanwhile. The caller waits for the queue to drain
// before any other use of the file.
type directWrites struct {
	file  *os.File
	queue chan *[]byte // buffers to write; closed by finish
	free  chan *[]byte // buffers written, ready to fill again
	done  chan struct{}
	mu    sync.Mutex
	err   error // the first write error
}

func newDirectWrites(file *os.File) *directWrites {
	w := &directWrites{
		file:  file,
		queue: make(chan *[]byte, directWriteDepth),
		free:  make(chan *[]byte, directWriteDepth),
		done:  make(chan struct{}),
	}
	for range directWriteDepth {
		w.free <- directWriteBuffers.Get().(*[]byte)
	}
	go w.run()
	return w
}

// run writes each queued buffer, and after a failure only returns them.
func (w *directWrites) run() {
	defer close(w.done)
	for buf := range w.queue {
		if w.failed() == nil {
			w.setErr(writeDirect(w.file, *buf))
		}
		w.free <- buf
	}
}

// write copies p, whose length is a multiple of directAlignment, into a
// free buffer and queues it. It returns the error of an earlier write.
func (w *directWrites) write(p []byte) error {
	buf := <-w.free
	if err := w.failed(); err != nil {
		w.free <- buf
		return err
	}
	*buf = (*buf)[:cap(*buf)]
	if len(p) > len(*buf) {
		// A write larger than the buffer came straight from the caller:
		// write it here, after the queued ones.
		w.free <- buf
		if err := w.drain(); err != nil {
			return err
		}
		return writeDirect(w.file, p)
	}
	*buf = (*buf)[:copy(*buf, p)]
	w.queue <- buf
	return nil
}

// drain waits until every queued buffer is written.
func (w *directWrites) drain() error {
	bufs := make([]*[]byte, 0, directWriteDepth)
	for range directWriteDepth {
		bufs = append(bufs, <-w.free)
	}
	for _, buf := range bufs {
		w.free <- buf
	}
	return w.failed()
}

// finish waits for the queued writes, stops the goroutine, returns the
// buffers to their pool and returns the first write error.
func (w *directWrites) finish() error {
	close(w.queue)
	<-w.done
	for range directWriteDepth {
		buf := <-w.free
		directWriteBuffers.Put(buf)
	}
	return w.failed()
}

func (w *directWrites) failed() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

func (w *directWrites) setErr(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = err
	}
}

// writeDirect writes p to file. When the filesystem rejects the direct
// write before writing anything, it turns O_DIRECT off and writes p through
// the page cache.
func writeDirect(file *os.File, p []byte) error {
	n, err := file.Write(p)
	if n == 0 && isInvalidArgument(err) {
		if err := setDirect(file, false); err != nil {
			return err
		}
		_, err = file.Write(p)
	}
	return err
}
