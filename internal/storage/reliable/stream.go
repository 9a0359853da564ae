package reliable

import (
	"context"
	"fmt"
	"io"

	"github.com/cofferhq/coffer/internal/storage"
)

// reader is a stream opened by Reader. Close ends the context the stream
// was opened under. A transient failure of Read is reported as
// storage.ErrUnavailable, like a failed call.
type reader struct {
	io.ReadCloser
	release func()
	key     string
}

func (r *reader) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	if err != nil && err != io.EOF && transientError(err) {
		err = &storage.UnavailableError{Err: fmt.Errorf("storage read of %q: %w", r.key, err)}
	}
	return n, err
}

func (r *reader) Close() error {
	err := r.ReadCloser.Close()
	r.release()
	return err
}

// writer is a writer opened by Writer. Its calls are not retried (see the
// package documentation). Commit's result counts for the breaker like any
// call, and Commit, Cancel and Close end the context the writer was opened
// under, except a failed Commit, after which the writer stays open for
// Cancel or Close as the contract allows.
//
// A transient failure of Write or Commit, such as a connection the
// backend refused or reset, is reported as storage.ErrUnavailable, so the
// client gets 503 and retries instead of seeing an internal error.
type writer struct {
	storage.Writer
	release func()
	driver  *Driver
	key     string
}

func (w *writer) Write(p []byte) (int, error) {
	n, err := w.Writer.Write(p)
	if err != nil && transientError(err) {
		err = w.driver.unavailable(opWrite, w.key, err)
	}
	return n, err
}

func (w *writer) Commit(ctx context.Context) error {
	err := w.Writer.Commit(ctx)
	transient := isTransient(ctx, err)
	w.driver.breaker.settle(ctx, false, resultOf(ctx, err, transient))
	if err == nil {
		w.release()
	}
	if transient {
		return w.driver.unavailable(opCommit, w.key, err)
	}
	return err
}

func (w *writer) Cancel(ctx context.Context) error {
	err := w.Writer.Cancel(ctx)
	w.release()
	return err
}

func (w *writer) Close() error {
	err := w.Writer.Close()
	w.release()
	return err
}

// unavailable returns the ErrUnavailable error of a transient stream
// failure of op on key. It carries the rest of the breaker's cooldown as
// its wait when the breaker is open.
func (d *Driver) unavailable(op, key string, err error) error {
	return &storage.UnavailableError{
		RetryAfter: d.breaker.remaining(),
		Err:        fmt.Errorf("storage %s of %q: %w", op, key, err),
	}
}
