package memory

import (
	"context"
	"fmt"
	"slices"

	"github.com/cofferhq/coffer/internal/storage"
)

// Writer opens key for writing at offset. Like a file truncated on open, the
// key contains its first offset bytes (none at offset 0) from this call on. The
// written bytes become visible when Commit or Close publishes them.
func (d *Driver) Writer(ctx context.Context, key string, offset int64) (storage.Writer, error) {
	if err := checkRequest(ctx, key); err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, fmt.Errorf("write %q: %w: offset %d is negative", key, storage.ErrInvalidOffset, offset)
	}

	d.mu.Lock()
	defer d.mu.Unlock()
	if offset == 0 {
		if err := d.checkPlacement(key); err != nil {
			return nil, fmt.Errorf("write %q: %w", key, err)
		}
		d.publish(key, nil)
		return &writer{driver: d, key: key}, nil
	}

	obj, ok := d.objects[key]
	if !ok {
		return nil, fmt.Errorf("write %q at offset %d: %w", key, offset, storage.ErrNotFound)
	}
	if offset > int64(len(obj.data)) {
		return nil, fmt.Errorf("write %q: %w: offset %d is beyond the content of %d bytes",
			key, storage.ErrInvalidOffset, offset, len(obj.data))
	}
	kept := obj.data[:offset:offset]
	d.publish(key, kept)
	return &writer{driver: d, key: key, offset: offset, buf: slices.Clone(kept)}, nil
}

// writer buffers content until Commit or Close publishes it. It is not safe
// for concurrent use.
type writer struct {
	driver *Driver
	key    string
	offset int64
	buf    []byte
	closed bool
}

// Write appends p to the buffered content.
func (w *writer) Write(p []byte) (int, error) {
	if w.closed {
		return 0, fmt.Errorf("write %q: %w", w.key, errWriterClosed)
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}

// Size returns the content length so far, including the starting offset.
func (w *writer) Size() int64 { return int64(len(w.buf)) }

// Commit publishes the content and closes the writer. When ctx is already
// done, Commit still closes the writer as Close does and returns ctx's error.
func (w *writer) Commit(ctx context.Context) error {
	if w.closed {
		return fmt.Errorf("commit %q: %w", w.key, errWriterClosed)
	}
	if err := w.Close(); err != nil {
		return err
	}
	return ctx.Err()
}

// Cancel discards what the writer wrote. The key keeps its first offset
// bytes, or is removed when the writer was opened at offset 0.
func (w *writer) Cancel(ctx context.Context) error {
	if w.closed {
		return fmt.Errorf("cancel %q: %w", w.key, errWriterClosed)
	}
	w.closed = true

	d := w.driver
	d.mu.Lock()
	defer d.mu.Unlock()
	if w.offset == 0 {
		if _, ok := d.objects[w.key]; ok {
			d.remove(w.key)
		}
		return nil
	}
	return w.publishLocked(w.buf[:w.offset:w.offset])
}

// Close publishes the content, because memory has no crash that could lose
// it. Close after Commit, Cancel or Close does nothing and returns nil.
func (w *writer) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true

	d := w.driver
	d.mu.Lock()
	defer d.mu.Unlock()
	return w.publishLocked(w.buf)
}

// publishLocked stores data under the writer's key unless a concurrent
// write made the key a prefix or placed it below another key.
func (w *writer) publishLocked(data []byte) error {
	if err := w.driver.checkPlacement(w.key); err != nil {
		return fmt.Errorf("publish %q: %w", w.key, err)
	}
	w.driver.publish(w.key, data)
	return nil
}
