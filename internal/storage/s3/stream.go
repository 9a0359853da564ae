package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cofferhq/coffer/internal/storage"
)

// maxPutObjectSize is the largest object one PutObject may store (5 GiB,
// from the Amazon S3 user guide, "Uploading objects").
const maxPutObjectSize = 5 << 30

// SizedWriter opens key for content of exactly size bytes. Content that fits
// in the first part, or is larger than one PutObject allows, goes through
// Writer, held to size. Other content streams to the store as the body of one PutObject,
// so the store writes it once, with no parts to join at the end.
//
// The body is sent with an unsigned payload (see unsignedPayload), because
// its SHA-256 is not known before the last byte.
func (d *Driver) SizedWriter(ctx context.Context, key string, size int64) (storage.Writer, error) {
	if size <= firstPartSize || size > maxPutObjectSize {
		w, err := d.Writer(ctx, key, 0)
		if err != nil {
			return nil, err
		}
		return storage.CheckSize(w, key, size), nil
	}
	if err := checkRequest(ctx, key); err != nil {
		return nil, err
	}
	if err := d.checkPlacement(ctx, key); err != nil {
		return nil, fmt.Errorf("write %q: %w", key, err)
	}

	body, pipe := io.Pipe()
	// The request outlives the caller's context until Commit, Cancel or
	// Close ends it: a client that leaves after its last byte must not
	// cancel the commit of that byte.
	putCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	w := &streamWriter{driver: d, key: key, size: size, pipe: pipe, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		_, err := d.client.PutObject(putCtx, &awss3.PutObjectInput{
			Bucket:        aws.String(d.bucket),
			Key:           aws.String(d.objectKey(key)),
			Body:          sizedBody{PipeReader: body, size: size},
			ContentLength: aws.Int64(size),
		}, withoutPartChecksum, unsignedPayload)
		if err != nil {
			w.err = fmt.Errorf("put object: %w", err)
		}
		// A request that ended early must not leave Write blocked.
		body.CloseWithError(errPutEnded)
	}()
	return w, nil
}

// sizedBody is a request body of a known length. Its Len method lets the
// SDK set the HTTP request's content length, which it otherwise leaves
// unknown for a stream it cannot seek: the request would then go out
// chunked, with a signed Content-Length header that it does not send.
type sizedBody struct {
	*io.PipeReader
	size int64
}

// Len returns the length of the whole body; the SDK calls it before it
// reads any of it.
func (b sizedBody) Len() int { return int(b.size) }

// errPutEnded is what Write returns once the PutObject request has ended.
var errPutEnded = errors.New("the put object request ended before the last byte")

// streamWriter streams content of a known size as the body of one
// PutObject that runs in the background. It is not safe for concurrent use.
type streamWriter struct {
	driver  *Driver
	key     string
	size    int64
	written int64
	pipe    *io.PipeWriter
	cancel  context.CancelFunc
	// done closes when the PutObject request has ended, with its error in err.
	done     chan struct{}
	err      error
	closed   bool
	stopOnce sync.Once
}

// Write passes p to the request body. It fails when p would take the
// content past its declared size, or when the request has ended.
func (w *streamWriter) Write(p []byte) (int, error) {
	if w.closed {
		return 0, fmt.Errorf("write %q: %w", w.key, errWriterClosed)
	}
	if int64(len(p)) > w.size-w.written {
		return 0, fmt.Errorf("write %q: %w: the content exceeds its declared size of %d bytes", w.key, storage.ErrSizeMismatch, w.size)
	}
	n, err := w.pipe.Write(p)
	w.written += int64(n)
	if err != nil {
		<-w.done
		if w.err != nil {
			err = w.err
		}
		return n, requestError(context.Background(), fmt.Sprintf("write %q", w.key), err)
	}
	return n, nil
}

// Size returns the number of bytes written so far.
func (w *streamWriter) Size() int64 { return w.written }

// Commit ends the body and waits for the store to acknowledge the object.
// It fails, and deletes whatever the store kept, when fewer bytes than
// declared were written.
func (w *streamWriter) Commit(ctx context.Context) error {
	if w.closed {
		return fmt.Errorf("commit %q: %w", w.key, errWriterClosed)
	}
	op := fmt.Sprintf("commit %q", w.key)
	if w.written != w.size {
		err := fmt.Errorf("%s: %w: %d of the declared %d bytes were written", op, storage.ErrSizeMismatch, w.written, w.size)
		return errors.Join(err, w.Cancel(ctx))
	}
	w.closed = true
	_ = w.pipe.Close()
	if !w.wait(ctx) {
		w.stop()
		return fmt.Errorf("%s: %w", op, ctx.Err())
	}
	w.cancel()
	if w.err != nil {
		return requestError(ctx, op, w.err)
	}
	return nil
}

// Cancel ends the request and deletes the key, because to the storage
// contract a writer at offset 0 truncated it. When every byte was written,
// the request completes first, so the delete comes after the store has
// written the object. Otherwise the request is aborted before its last
// byte.
//
// NOTE: S3 rejects a body shorter than its Content-Length, but versitygw
// v1.8.0 stores what arrived, and may do so after the delete. Such an
// object is an orphan upload key, which garbage collection removes.
func (w *streamWriter) Cancel(ctx context.Context) error {
	if w.closed {
		return fmt.Errorf("cancel %q: %w", w.key, errWriterClosed)
	}
	w.closed = true
	if w.written == w.size {
		_ = w.pipe.Close()
		w.wait(ctx)
	}
	w.stop()
	return w.driver.deleteTruncated(ctx, w.key)
}

// Close ends the request without committing. Close after Commit, Cancel or
// Close does nothing and returns nil.
func (w *streamWriter) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	w.stop()
	return nil
}

// wait waits until the request has ended or ctx is done, and reports
// whether the request ended.
func (w *streamWriter) wait(ctx context.Context) bool {
	select {
	case <-w.done:
		return true
	case <-ctx.Done():
		return false
	}
}

// stop aborts the request and waits until it has ended.
func (w *streamWriter) stop() {
	w.stopOnce.Do(func() {
		_ = w.pipe.CloseWithError(errWriterClosed)
		w.cancel()
		<-w.done
	})
}
