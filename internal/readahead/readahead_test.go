package s3

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"
)

func TestReadAheadCopiesInOrder(t *testing.T) {
	for _, size := range []int{0, 1, readAheadBufferSize - 1, readAheadBufferSize, 3*readAheadBufferSize + 17, 9 * readAheadBufferSize} {
		content := make([]byte, size)
		_, _ = rand.NewChaCha8([32]byte{byte(size), byte(size >> 8)}).Read(content)
		// OneByteReader makes the body return short reads, as a socket does.
		r := newReadAhead(io.NopCloser(iotest.OneByteReader(bytes.NewReader(content))))
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

func TestReadAheadReturnsBodyError(t *testing.T) {
	failure := errors.New("connection reset")
	body := io.MultiReader(bytes.NewReader(make([]byte, readAheadBufferSize+5)), iotest.ErrReader(failure))
	r := newReadAhead(io.NopCloser(body))
	defer r.Close()
	n, err := io.Copy(io.Discard, r)
	if !errors.Is(err, failure) {
		t.Fatalf("Copy error = %v, want %v", err, failure)
	}
	if n != readAheadBufferSize+5 {
		t.Errorf("Copy read %d bytes before the error, want %d", n, readAheadBufferSize+5)
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

func TestReadAheadCloseEndsBlockedRead(t *testing.T) {
	body := &blockingBody{closed: make(chan struct{})}
	r := newReadAhead(body)
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
