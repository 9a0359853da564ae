package readahead

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"
)

// testBufferSize is small, so that the tests fill and reuse every buffer.
const testBufferSize = 64 << 10

func TestReaderCopiesInOrder(t *testing.T) {
	for _, size := range []int{0, 1, testBufferSize - 1, testBufferSize, 3*testBufferSize + 17, 9 * testBufferSize} {
		content := make([]byte, size)
		_, _ = rand.NewChaCha8([32]byte{byte(size), byte(size >> 8)}).Read(content)
		// OneByteReader makes the body return short reads, as a socket does.
		r := New(io.NopCloser(iotest.OneByteReader(bytes.NewReader(content))), testBufferSize)
		got, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("size %d: ReadAll: %v", size, err)
		}
		if !bytes.Equal(got, content) {
			t.Errorf("size %d: read %d bytes that differ from the body", size, len(got))
		}
		if err := r.Close(); err != nil {
			t.Errorf("size %d: Close: %v", size, err)
		}
	}
}

func TestReaderReturnsBodyError(t *testing.T) {
	failure := errors.New("connection reset")
	body := io.MultiReader(bytes.NewReader(make([]byte, testBufferSize+5)), iotest.ErrReader(failure))
	r := New(io.NopCloser(body), testBufferSize)
	defer r.Close()
	n, err := io.Copy(io.Discard, r)
	if !errors.Is(err, failure) {
		t.Fatalf("Copy error = %v, want %v", err, failure)
	}
	if n != testBufferSize+5 {
		t.Errorf("Copy read %d bytes before the error, want %d", n, testBufferSize+5)
	}
	if _, err := r.Read(make([]byte, 1)); !errors.Is(err, failure) {
		t.Errorf("Read after the error = %v, want %v", err, failure)
	}
}

// blockingBody returns one buffer of zeros and then blocks until Close.
type blockingBody struct {
	sent   bool
	closed chan struct{}
}

func (b *blockingBody) Read(p []byte) (int, error) {
	if !b.sent {
		b.sent = true
		return len(p), nil
	}
	<-b.closed
	return 0, errors.New("read on closed body")
}

func (b *blockingBody) Close() error {
	close(b.closed)
	return nil
}

func TestReaderCloseEndsBlockedRead(t *testing.T) {
	body := &blockingBody{closed: make(chan struct{})}
	r := New(body, testBufferSize)
	if _, err := r.Read(make([]byte, 10)); err != nil {
		t.Fatalf("Read: %v", err)
	}
	// The goroutine is now blocked in the body's Read; Close must end it.
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestReaderReadAfterCloseFails(t *testing.T) {
	r := New(io.NopCloser(bytes.NewReader(make([]byte, 3*testBufferSize))), testBufferSize)
	if _, err := r.Read(make([]byte, 10)); err != nil {
		t.Fatalf("Read: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// The buffer that the first Read used is back in its pool, so a Read
	// must neither copy from it nor hand it back a second time.
	n, err := io.Copy(io.Discard, r)
	if !errors.Is(err, ErrClosed) {
		t.Errorf("Copy after Close error = %v, want %v", err, ErrClosed)
	}
	if n != 0 {
		t.Errorf("Copy after Close read %d bytes, want 0", n)
	}
}

func TestReaderCloseEndsConcurrentRead(t *testing.T) {
	body := &blockingBody{closed: make(chan struct{})}
	r := New(body, testBufferSize)
	if _, err := io.ReadFull(r, make([]byte, testBufferSize)); err != nil {
		t.Fatalf("ReadFull of the first buffer: %v", err)
	}
	// The next Read waits for a buffer that the blocked body never fills,
	// until Close ends it.
	result := make(chan error)
	go func() {
		_, err := r.Read(make([]byte, 10))
		result <- err
	}()
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := <-result; !errors.Is(err, ErrClosed) {
		t.Errorf("Read during Close = %v, want %v", err, ErrClosed)
	}
}

// TestReaderCloseNestedReader closes a reader whose body is another read-ahead
// reader while the outer goroutine waits in the inner Read. This is how
// the blob store reads ahead of a storage driver that reads ahead itself.
func TestReaderCloseNestedReader(t *testing.T) {
	body := &blockingBody{closed: make(chan struct{})}
	outer := New(New(body, testBufferSize), testBufferSize)
	if _, err := io.ReadFull(outer, make([]byte, testBufferSize)); err != nil {
		t.Fatalf("ReadFull of the first buffer: %v", err)
	}
	if err := outer.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := outer.Read(make([]byte, 1)); !errors.Is(err, ErrClosed) {
		t.Errorf("Read after Close = %v, want %v", err, ErrClosed)
	}
}
