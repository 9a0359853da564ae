package filesystem

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/cofferhq/coffer/internal/storage"
)

// writeBufferSize is the size of each writer's buffer. Large buffers turn
// many small Write calls into few system calls, at 1 MiB of memory per open
// writer.
const writeBufferSize = 1 << 20

// writeBuffers keeps the buffers of closed writers for the next ones. A
// fresh 1 MiB buffer for every small object would cost more CPU time, in
// clearing and in garbage collection, than writing the object itself.
var writeBuffers = sync.Pool{
	New: func() any { return bufio.NewWriterSize(nil, writeBufferSize) },
}

// takeWriteBuffer returns a pooled buffer that writes to dst.
func takeWriteBuffer(dst io.Writer) *bufio.Writer {
	buf := writeBuffers.Get().(*bufio.Writer)
	buf.Reset(dst)
	return buf
}

// releaseBuffer returns the writer's buffer to the pool. The writer is
// closed, so it never touches the buffer again.
func (w *fileWriter) releaseBuffer() {
	w.buf.Reset(nil)
	writeBuffers.Put(w.buf)
	w.buf = nil
}

// errWriterClosed reports a call on a writer after Commit, Cancel or Close.
var errWriterClosed = errors.New("storage writer is already closed")

// Writer opens the file of key for writing at offset. Offset 0 creates the
// file and its parent directories, or truncates an existing file. A positive
// offset opens the existing file and truncates it to offset, discarding the
// bytes left past offset by an interrupted write.
func (d *Driver) Writer(ctx context.Context, key string, offset int64) (storage.Writer, error) {
	path, err := d.keyPath(ctx, key)
	if err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, fmt.Errorf("write %q: %w: offset %d is negative", key, storage.ErrInvalidOffset, offset)
	}

	w := &fileWriter{driver: d, key: key, path: path, offset: offset, size: offset}
	if offset == 0 {
		w.file, w.changedDirs, err = d.createFile(path)
		if err != nil {
			return nil, fmt.Errorf("write %q: %w", key, err)
		}
	} else {
		w.file, err = openAt(path, key, offset)
		if err != nil {
			return nil, err
		}
	}
	w.target = &writebackFile{file: w.file, start: offset, noDirect: d.pageCacheOnly}
	w.buf = takeWriteBuffer(w.target)
	return w, nil
}

// TempWriter opens the temporary key for writing at offset 0, as Writer
// does. Its Commit fsyncs the file but not the file's directory: the
// caller's Move syncs the directory the file moves to, which is the name
// that must survive a crash.
func (d *Driver) TempWriter(ctx context.Context, key string, size int64) (storage.Writer, error) {
	w, err := d.Writer(ctx, key, 0)
	if err != nil {
		return nil, err
	}
	w.(*fileWriter).temporary = true
	return storage.CheckSize(w, key, size), nil
}

// createFile creates or truncates the file at path, creating its parent
// directories, and returns the directories whose entries changed.
func (d *Driver) createFile(path string) (*os.File, []string, error) {
	d.dirs.RLock()
	defer d.dirs.RUnlock()

	changed, err := d.makeDirs(filepath.Dir(path))
	if err != nil {
		return nil, nil, err
	}
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, nil, err
	}
	return file, changed, nil
}

// openAt opens the existing file at path, truncates it to offset and seeks
// there. The file must contain at least offset bytes.
func openAt(path, key string, offset int64) (*os.File, error) {
	op := fmt.Sprintf("write %q at offset %d", key, offset)

	file, err := os.OpenFile(path, os.O_WRONLY, 0)
	if errors.Is(err, syscall.EISDIR) {
		// A directory is a prefix, not a key.
		err = fs.ErrNotExist
	}
	if err != nil {
		return nil, fileError(op, err)
	}

	size, err := regularSize(file)
	if err != nil {
		_ = file.Close()
		return nil, fileError(op, err)
	}
	if offset > size {
		_ = file.Close()
		return nil, fmt.Errorf("%s: %w: the content has only %d bytes", op, storage.ErrInvalidOffset, size)
	}
	if err := file.Truncate(offset); err != nil {
		_ = file.Close()
		return nil, fmt.Errorf("%s: truncate: %w", op, err)
	}
	if _, err := file.Seek(offset, io.SeekStart); err != nil {
		_ = file.Close()
		return nil, fmt.Errorf("%s: seek: %w", op, err)
	}
	return file, nil
}

// fileWriter writes into the file of its key through a buffer. It is not safe
// for concurrent use.
type fileWriter struct {
	driver *Driver
	key    string
	path   string
	file   *os.File
	buf    *bufio.Writer
	target *writebackFile // the destination of buf
	offset int64
	size   int64
	// changedDirs lists the directories whose entries changed when the
	// writer created parent directories; Commit syncs them.
	changedDirs []string
	// temporary skips the directory syncs of Commit (see TempWriter).
	temporary bool
	closed    bool
}

// Write buffers p and writes the buffer to the file whenever it fills.
func (w *fileWriter) Write(p []byte) (int, error) {
	if w.closed {
		return 0, fmt.Errorf("write %q: %w", w.key, errWriterClosed)
	}
	n, err := w.buf.Write(p)
	w.size += int64(n)
	if err != nil {
		return n, fmt.Errorf("write %q: %w", w.key, err)
	}
	return n, nil
}

// Size returns the content length so far, including the starting offset.
func (w *fileWriter) Size() int64 { return w.size }

// Commit flushes the buffer, fsyncs and closes the file, and then, when the
// writer created the file, fsyncs its directory and any directories the
// writer created. Commit closes the writer
// even when it fails. When ctx is already done, Commit closes the writer as
// Close does and returns ctx's error.
func (w *fileWriter) Commit(ctx context.Context) error {
	if w.closed {
		return fmt.Errorf("commit %q: %w", w.key, errWriterClosed)
	}
	if err := ctx.Err(); err != nil {
		return errors.Join(err, w.Close())
	}
	w.closed = true

	err := errors.Join(w.buf.Flush(), w.target.finishDirect())
	w.releaseBuffer()
	if err != nil {
		w.file.Close()
		return fmt.Errorf("commit %q: write buffered content: %w", w.key, err)
	}
	if err := w.file.Sync(); err != nil {
		w.file.Close()
		return fmt.Errorf("commit %q: sync file: %w", w.key, err)
	}
	if err := w.file.Close(); err != nil {
		return fmt.Errorf("commit %q: close file: %w", w.key, err)
	}
	if w.offset > 0 || w.temporary {
		// The file existed before, so no directory entry changed, or the
		// caller's Move makes the file's final name durable.
		return nil
	}
	if err := w.driver.syncs.syncDirs(append(w.changedDirs, filepath.Dir(w.path))); err != nil {
		return fmt.Errorf("commit %q: %w", w.key, err)
	}
	return nil
}

// Cancel drops the buffer and discards what the writer wrote. The file is
// truncated back to the starting offset, or removed with the directories it
// leaves empty when the writer started at offset 0. Cancel runs even when
// the context is done, because it only cleans up.
func (w *fileWriter) Cancel(context.Context) error {
	if w.closed {
		return fmt.Errorf("cancel %q: %w", w.key, errWriterClosed)
	}
	w.closed = true
	w.releaseBuffer()
	// What the background wrote is discarded below, so its error is too.
	_ = w.target.finishDirect()

	if w.offset > 0 {
		truncateErr := w.file.Truncate(w.offset)
		closeErr := w.file.Close()
		if err := errors.Join(truncateErr, closeErr); err != nil {
			return fmt.Errorf("cancel %q: %w", w.key, err)
		}
		return nil
	}

	closeErr := w.file.Close()
	d := w.driver
	d.dirs.Lock()
	defer d.dirs.Unlock()
	removeErr := os.Remove(w.path)
	if errors.Is(removeErr, fs.ErrNotExist) {
		removeErr = nil
	}
	d.pruneEmptyDirs(filepath.Dir(w.path))
	if err := errors.Join(closeErr, removeErr); err != nil {
		return fmt.Errorf("cancel %q: %w", w.key, err)
	}
	return nil
}

// Close writes the buffer to the file and closes it without fsync, so the
// content may not survive a crash. Close after Commit, Cancel or Close does
// nothing and returns nil.
func (w *fileWriter) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true

	flushErr := errors.Join(w.buf.Flush(), w.target.finishDirect())
	w.releaseBuffer()
	closeErr := w.file.Close()
	if err := errors.Join(flushErr, closeErr); err != nil {
		return fmt.Errorf("close writer of %q: %w", w.key, err)
	}
	return nil
}
