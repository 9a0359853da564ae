// Package readahead reads a stream in a goroutine of its own, a few
// buffers ahead of the caller. Producing the bytes, such as receiving them
// from a store or hashing them, then overlaps with what the caller does
// with them, such as sending them on.
package readahead

import (
	"errors"
	"io"
	"sync"
)

// MinSize is the smallest stream worth reading ahead. Smaller streams
// arrive in a few reads, and the buffers would cost more than they save.
const MinSize = 8 << 20

// buffers is the number of buffers of one reader.
const buffers = 4

// pools holds one buffer pool per buffer size, each entry a *[]byte.
var pools sync.Map

func pool(size int) *sync.Pool {
	if p, ok := pools.Load(size); ok {
		return p.(*sync.Pool)
	}
	p, _ := pools.LoadOrStore(size, &sync.Pool{New: func() any {
		b := make([]byte, size)
		return &b
	}})
	return p.(*sync.Pool)
}

// ErrClosed is the error of a Read that Close ended or that follows Close.
var ErrClosed = errors.New("read-ahead reader closed")

// readAhead is the reader that New returns. Read is not safe for
// concurrent use, but Close may run while a Read is in progress, which is
// what happens when one read-ahead reader is the body of another.
type readAhead struct {
	pool *sync.Pool
	body io.ReadCloser
	// filled carries buffers in the order the body filled them, and free
	// returns them to the goroutine. Every buffer is in one of the two, in
	// current or in the goroutine's hands, so neither send ever blocks.
	filled chan filledBuffer
	free   chan *[]byte
	stop   chan struct{}
	done   chan struct{}

	closeOnce sync.Once
	closeErr  error

	// mu keeps Close from returning the buffers to their pool while a Read
	// uses them.
	mu      sync.Mutex
	current filledBuffer
	offset  int
	err     error
}

// filledBuffer is one buffer read from the body: n bytes, then err if the
// read that filled it ended the body or failed.
type filledBuffer struct {
	buf *[]byte
	n   int
	err error
}

// New returns a reader of body that reads up to four buffers of
// bufferSize bytes ahead in a goroutine of its own, which Close ends. The
// reader returns the error that ended body after the bytes read before it.
func New(body io.ReadCloser, bufferSize int) io.ReadCloser {
	r := &readAhead{
		pool:   pool(bufferSize),
		body:   body,
		filled: make(chan filledBuffer, buffers),
		free:   make(chan *[]byte, buffers),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	for range buffers {
		r.free <- r.pool.Get().(*[]byte)
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
	r.mu.Lock()
	defer r.mu.Unlock()
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
		select {
		case r.current = <-r.filled:
			r.offset = 0
		case <-r.stop:
		}
		// A buffer that arrives after Close began may hold the error of
		// the closed body, which is not the error to report.
		select {
		case <-r.stop:
			r.err = ErrClosed
			return 0, r.err
		default:
		}
	}
	n := copy(p, (*r.current.buf)[r.offset:r.current.n])
	r.offset += n
	return n, nil
}

// Close ends a Read in progress, closes the body, which ends the
// goroutine's read, waits for the goroutine and returns the buffers to
// their pool. Reads after Close return ErrClosed.
func (r *readAhead) Close() error {
	r.closeOnce.Do(func() {
		close(r.stop)
		r.closeErr = r.body.Close()
		<-r.done
		r.mu.Lock()
		defer r.mu.Unlock()
		r.releaseBuffers()
		r.err = ErrClosed
	})
	return r.closeErr
}

// releaseBuffers returns every buffer to the pool once the goroutine has
// ended.
func (r *readAhead) releaseBuffers() {
	if r.current.buf != nil {
		r.pool.Put(r.current.buf)
		r.current = filledBuffer{}
	}
	for {
		select {
		case b := <-r.filled:
			r.pool.Put(b.buf)
		case b := <-r.free:
			r.pool.Put(b)
		default:
			return
		}
	}
}
