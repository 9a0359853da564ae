package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cofferhq/coffer/internal/storage"
)

// Writer opens key for writing at offset. The key keeps its object until
// Commit, or until Cancel of a writer at offset 0. At offset 0 the key must
// not be a prefix or lie below another key. A positive offset must not exceed the size of the existing
// object, whose first offset bytes the writer reads (below 5 MiB) or copies
// into a new multipart upload (from 5 MiB on).
//
// Write sends parts under ctx, because io.Writer has no context parameter:
// when ctx is done, the next part fails and the writer can only be closed.
func (d *Driver) Writer(ctx context.Context, key string, offset int64) (storage.Writer, error) {
	if err := checkRequest(ctx, key); err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, fmt.Errorf("write %q: %w: offset %d is negative", key, storage.ErrInvalidOffset, offset)
	}

	w := &writer{driver: d, ctx: ctx, key: key, offset: offset, size: offset}
	if offset == 0 {
		if err := d.checkPlacement(ctx, key); err != nil {
			return nil, fmt.Errorf("write %q: %w", key, err)
		}
		return w, nil
	}

	op := fmt.Sprintf("write %q at offset %d", key, offset)
	base, err := d.head(ctx, key)
	if err != nil {
		return nil, requestError(ctx, op, err)
	}
	if offset > base.info.Size {
		return nil, fmt.Errorf("%s: %w: the content has only %d bytes", op, storage.ErrInvalidOffset, base.info.Size)
	}
	w.base = base
	if offset < minPartSize {
		err = w.readBase(ctx)
	} else {
		err = w.copyBase(ctx)
	}
	if err != nil {
		w.releaseBuffer()
		return nil, requestError(ctx, op, err)
	}
	return w, nil
}

// writer streams content into one key as a multipart upload. It sends each
// full part in the background while Write fills the next one, so it holds
// at most two parts in memory. It is not safe for concurrent use.
type writer struct {
	driver *Driver
	// ctx is the context of the Writer call, under which Write sends parts.
	ctx    context.Context
	key    string
	offset int64
	size   int64
	// base is the existing object that a writer at a positive offset continues.
	base object
	// upload is the multipart upload, nil until the first part is sent.
	upload *multipartUpload
	// buf is the part being filled, with fill bytes written so far. It is nil
	// before the first byte, and after a part when the next part has another size.
	buf  *[]byte
	fill int
	// parts counts the parts sent or copied into upload so far.
	parts int
	// sending is the part upload in progress, or nil.
	sending *partUpload
	// err is the failure of a part upload. The writer cannot continue after it.
	err    error
	closed bool
}

// readBase reads the first offset bytes of the base object into the buffer
// of the first part.
func (w *writer) readBase(ctx context.Context) error {
	out, err := w.driver.client.GetObject(ctx, &awss3.GetObjectInput{
		Bucket:  aws.String(w.driver.bucket),
		Key:     aws.String(w.driver.objectKey(w.key)),
		Range:   aws.String(byteRange{start: 0, end: w.offset}.header()),
		IfMatch: aws.String(w.base.etag),
	})
	if err != nil {
		return fmt.Errorf("read the first %d bytes: %w", w.offset, err)
	}
	defer out.Body.Close()

	w.buf = getPartBuffer(partSize(1))
	if _, err := io.ReadFull(out.Body, (*w.buf)[:w.offset]); err != nil {
		return fmt.Errorf("read the first %d bytes: %w", w.offset, err)
	}
	w.fill = int(w.offset)
	return nil
}

// copyBase starts the multipart upload with the first offset bytes of the
// base object, copied by the store in parts of at least 5 MiB.
func (w *writer) copyBase(ctx context.Context) error {
	upload, err := w.driver.createUpload(ctx, w.key)
	if err != nil {
		return err
	}
	for _, r := range splitRange(w.offset, w.driver.maxCopyPart) {
		if err := upload.copyPart(ctx, w.base, r); err != nil {
			return abortAfter(ctx, upload, err)
		}
	}
	w.upload = upload
	w.parts = len(upload.parts)
	return nil
}

// partUpload is one part on its way to the store.
type partUpload struct {
	done chan struct{}
	buf  *[]byte
	err  error // set before done closes
}

// Write copies p into the part buffer, sending the buffer as the next part
// whenever it is full and more bytes follow. After a failed part, every
// Write returns that failure.
func (w *writer) Write(p []byte) (int, error) {
	if w.closed {
		return 0, fmt.Errorf("write %q: %w", w.key, errWriterClosed)
	}
	if w.err != nil {
		return 0, w.err
	}

	written := 0
	for len(p) > 0 {
		if w.buf != nil && w.fill == len(*w.buf) {
			if err := w.sendPart(w.ctx); err != nil {
				w.err = requestError(w.ctx, fmt.Sprintf("write %q", w.key), err)
				return written, w.err
			}
		}
		if w.buf == nil {
			w.buf = getPartBuffer(partSize(w.nextPartNumber()))
		}
		n := copy((*w.buf)[w.fill:], p)
		w.fill += n
		w.size += int64(n)
		written += n
		p = p[n:]
	}
	return written, nil
}

// Size returns the content length so far, including the starting offset.
func (w *writer) Size() int64 { return w.size }

// nextPartNumber returns the number of the part being filled.
func (w *writer) nextPartNumber() int { return w.parts + 1 }

// sendPart starts sending the buffered bytes as the next part, in the
// background, and starts the multipart upload first when this is the first
// part. It waits for the part before, so one part at a time is on its way
// and the parts complete in order. The next Write fills a new buffer.
func (w *writer) sendPart(ctx context.Context) error {
	if w.upload == nil {
		upload, err := w.driver.createUpload(ctx, w.key)
		if err != nil {
			return err
		}
		w.upload = upload
	}
	if err := w.waitPart(); err != nil {
		return err
	}

	w.parts++
	part := &partUpload{done: make(chan struct{}), buf: w.buf}
	upload, number, data := w.upload, w.parts, (*w.buf)[:w.fill]
	go func() {
		defer close(part.done)
		part.err = upload.uploadPart(ctx, number, data)
	}()
	w.sending = part
	w.buf, w.fill = nil, 0
	return nil
}

// waitPart waits for the part on its way, if any, returns its buffer to
// the pool and returns its error.
func (w *writer) waitPart() error {
	part := w.sending
	if part == nil {
		return nil
	}
	<-part.done
	w.sending = nil
	putPartBuffer(part.buf)
	return part.err
}

// Commit sends the last part and completes the multipart upload, or sends
// content that fits in one part with a single PutObject. The key then holds
// the new object. Commit closes the writer even when it fails, and then
// aborts the upload. When ctx is already done, Commit aborts the upload as
// Close does and returns ctx's error.
func (w *writer) Commit(ctx context.Context) error {
	if w.closed {
		return fmt.Errorf("commit %q: %w", w.key, errWriterClosed)
	}
	w.closed = true
	defer w.releaseBuffer()

	op := fmt.Sprintf("commit %q", w.key)
	if err := ctx.Err(); err != nil {
		return errors.Join(fmt.Errorf("%s: %w", op, err), w.abort(ctx))
	}
	if w.err != nil {
		return errors.Join(w.err, w.abort(ctx))
	}
	if err := w.finish(ctx); err != nil {
		return errors.Join(requestError(ctx, op, err), w.abort(ctx))
	}
	return nil
}

// finish stores the written content under the key.
func (w *writer) finish(ctx context.Context) error {
	if w.offset > 0 && w.offset == w.base.info.Size && w.size == w.offset {
		// Nothing written and nothing past offset to cut off: the key
		// already holds this content.
		return w.abort(ctx)
	}
	if w.upload == nil {
		return w.putObject(ctx)
	}
	if w.fill > 0 {
		if err := w.sendPart(ctx); err != nil {
			return err
		}
	}
	if err := w.waitPart(); err != nil {
		return err
	}
	return w.upload.complete(ctx)
}

// putObject stores the buffered bytes, all of the content, with one request.
func (w *writer) putObject(ctx context.Context) error {
	var content []byte
	if w.buf != nil {
		content = (*w.buf)[:w.fill]
	}
	_, err := w.driver.client.PutObject(ctx, &awss3.PutObjectInput{
		Bucket:        aws.String(w.driver.bucket),
		Key:           aws.String(w.driver.objectKey(w.key)),
		Body:          bytes.NewReader(content),
		ContentLength: aws.Int64(int64(len(content))),
	})
	if err != nil {
		return fmt.Errorf("put object: %w", err)
	}
	return nil
}

// Cancel aborts the multipart upload, so the key keeps the object it had
// before the writer opened. A writer opened at offset 0 also deletes the
// key, because to the storage contract it truncated the key. Cancel cleans
// up even when ctx is done, within cleanupTimeout.
func (w *writer) Cancel(ctx context.Context) error {
	if w.closed {
		return fmt.Errorf("cancel %q: %w", w.key, errWriterClosed)
	}
	w.closed = true
	w.releaseBuffer()

	err := w.abort(ctx)
	if w.offset == 0 {
		err = errors.Join(err, w.driver.deleteTruncated(ctx, w.key))
	}
	return err
}

// deleteTruncated deletes key after a cancelled write at offset 0, which to
// the storage contract truncated the key. It cleans up even when ctx is
// done, within cleanupTimeout.
func (d *Driver) deleteTruncated(ctx context.Context, key string) error {
	cleanupCtx, cancel := cleanupContext(ctx)
	defer cancel()
	if err := d.deleteObject(cleanupCtx, key); err != nil {
		return requestError(cleanupCtx, fmt.Sprintf("cancel %q: delete the key", key), err)
	}
	return nil
}

// Close aborts the multipart upload without committing. S3 cannot keep
// bytes that were not committed, so the key keeps the object it had before
// the writer opened. Close after Commit, Cancel or Close does nothing and
// returns nil.
func (w *writer) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	w.releaseBuffer()
	return w.abort(w.ctx)
}

// abort aborts the multipart upload, if one started, even when ctx is done.
// It first waits for the part on its way, whose failure the abort reports
// no more.
func (w *writer) abort(ctx context.Context) error {
	_ = w.waitPart()
	if w.upload == nil {
		return nil
	}
	upload := w.upload
	w.upload = nil

	cleanupCtx, cancel := cleanupContext(ctx)
	defer cancel()
	if err := upload.abort(cleanupCtx); err != nil {
		return requestError(cleanupCtx, fmt.Sprintf("abort the upload of %q", w.key), err)
	}
	return nil
}

// releaseBuffer returns the part buffer to its pool, after waiting for the
// part on its way, whose buffer goes back too.
func (w *writer) releaseBuffer() {
	_ = w.waitPart()
	if w.buf != nil {
		putPartBuffer(w.buf)
		w.buf = nil
	}
}
