package s3

import (
	"errors"
	"io"
	"sync"
)

const (
	// readAheadMinSize is the smallest response body that is read ahead.
	// Smaller bodies arrive in a few reads, and the buffers would cost
	// more than they save.
	readAheadMinSize = 8 << 20
	// readAheadBufferSize and readAheadBuffers bound what one reader holds:
	// 4 buffers of 1 MiB.
	readAheadBufferSize = 1 << 20
	readAheadBuffers    = 4
)

// readAheadPool holds the buffers of readers, each a *[]byte of
// readAheadBufferSize bytes.
var readAheadPool = sync.Pool{New: func() any {
	b := make([]byte, readAheadBufferSize)
	return &b
}}

// readAhead reads a response body in a goroutine of its own, up to
// readAheadBuffers buffers ahead of the caller, so that receiving bytes from
// the store overlaps with what the caller does with them, such as hashing
// them and sending them on. It is not safe for concurrent use.
type readAhead struct {
	body io.ReadCloser
	// filled carries buffers in the order the body filled them, and free
	// returns them to the goroutine.
	filled chan filledBuffer
	free   chan *[]byte
	stop   chan struct{}
	done   chan struct{}

	current filledBuffer
	offset  int
	err     error
	closed  sync.Once
}

// filledBuffer is one buffer read from the body: n bytes, then err if the
// read that filled it ended the body or failed.
type filledBuffer struct {
	buf *[]byte
	n   int
	err error
}

func newReadAhead(body io.ReadCloser) *readAhead {
	r := &readAhead{
		body:   body,
		filled: make(chan filledBuffer, readAheadBuffers),
		free:   make(chan *[]byte, readAheadBuffers),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	for range readAheadBuffers {
		r.free <- readAheadPool.Get().(*[]byte)
	}
	go r.fill()
	return r
}

// fill reads the body into free buffers until the body ends, a read fails
// or Close stops it.
func (r *readAhead) fill() {
	defer close(r.done)
	for {
		var buf *[]byte
		select {
		case buf = <-r.free:
		case <-r.stop:
			return
		}
		n, err := io.ReadFull(r.body, *buf)
		if errors.Is(err, io.ErrUnexpectedEOF) {
			err = io.EOF
		}
		r.filled <- filledBuffer{buf: buf, n: n, err: err}
		if err != nil {
			return
		}
	}
}

// Read copies bytes of the buffers in order, and returns the error that
// ended the body after its last byte.
func (r *readAhead) Read(p []byte) (int, error) {
	for r.current.buf == nil || r.offset == r.current.n {
		if r.err != nil {
			return 0, r.err
		}
		if r.current.buf != nil {
			r.err = r.current.err
			r.free <- r.current.buf
			r.current = filledBuffer{}
			continue
		}
		r.current, r.offset = <-r.filled, 0
	}
	n := copy(p, (*r.current.buf)[r.offset:r.current.n])
	r.offset += n
	return n, nil
}

// Close closes the body, which ends a read in progress, waits for the
// goroutine and returns the buffers to their pool.
func (r *readAhead) Close() error {
	var err error
	r.closed.Do(func() {
		close(r.stop)
		err = r.body.Close()
		<-r.done
		close(r.filled)
		for b := range r.filled {
			readAheadPool.Put(b.buf)
		}
		if r.current.buf != nil {
			readAheadPool.Put(r.current.buf)
		}
		close(r.free)
		for b := range r.free {
			readAheadPool.Put(b)
		}
	})
	return err
}
