package reliable

import (
	"context"
	"io"

	"github.com/cofferhq/coffer/internal/storage"
)

// reader is a stream opened by Reader. Close ends the context the stream
// was opened under.
type reader struct {
	io.ReadCloser
	release func()
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
type writer struct {
	storage.Writer
	release func()
	driver  *Driver
}

func (w *writer) Commit(ctx context.Context) error {
	err := w.Writer.Commit(ctx)
	w.driver.breaker.settle(ctx, false, resultOf(ctx, err, isTransient(ctx, err)))
	if err == nil {
		w.release()
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
