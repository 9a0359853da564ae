// Package storage defines the Driver contract that every blob backend
// implements, and the errors drivers return.
//
// A driver stores opaque byte streams under keys. Keys are slash-separated
// relative paths made of the characters [a-zA-Z0-9._-/]; no segment is
// empty, "." or "..". Callers above this package (the blob store) build every
// key, so user input never reaches a key unvalidated; drivers still reject a
// key outside the grammar with ErrInvalidKey.
package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

var (
	// ErrNotFound reports a key that does not exist.
	ErrNotFound = errors.New("storage key not found")
	// ErrInvalidKey reports a key outside the key grammar.
	ErrInvalidKey = errors.New("invalid storage key")
	// ErrInvalidOffset reports a read or write offset outside the stored content.
	ErrInvalidOffset = errors.New("invalid storage offset")
	// ErrUnavailable reports that the backend is unreachable, overloaded or
	// timed out. Retrying later may succeed. Errors of this kind may carry a
	// wait hint as an *UnavailableError.
	ErrUnavailable = errors.New("storage backend unavailable")
	// ErrThrottled reports that the backend asked for fewer requests. It
	// wraps ErrUnavailable, so code that handles ErrUnavailable handles it
	// too.
	ErrThrottled = NewKind("storage backend throttled the request", ErrUnavailable)
	// ErrSizeMismatch reports content whose length differs from the size
	// declared when its writer was opened.
	ErrSizeMismatch = errors.New("content size differs from the declared size")
)

// Info describes one stored key.
type Info struct {
	Key     string
	Size    int64
	ModTime time.Time
}

// Driver is the contract of a storage backend. Every method takes the
// request context first; a driver honours its cancellation where the backend
// allows it. Drivers are safe for concurrent use.
type Driver interface {
	// Name identifies the driver in logs and metrics ("filesystem", "memory").
	Name() string

	// Reader opens key for reading, starting at offset bytes into the
	// content. An offset equal to the size returns an empty stream; a larger
	// one returns ErrInvalidOffset. A missing key returns ErrNotFound.
	Reader(ctx context.Context, key string, offset int64) (io.ReadCloser, error)

	// Stat returns the size and modification time of key, or ErrNotFound.
	Stat(ctx context.Context, key string) (Info, error)

	// Writer opens key for writing at offset. Offset 0 creates the key or
	// truncates it. A positive offset continues existing content: the key
	// must hold at least offset bytes, and anything past offset (left by an
	// interrupted write) is discarded. Bytes become durable only when Commit
	// returns nil.
	Writer(ctx context.Context, key string, offset int64) (Writer, error)

	// Move renames src to dst atomically and durably, replacing dst if it
	// exists. A missing src returns ErrNotFound.
	Move(ctx context.Context, src, dst string) error

	// Delete removes key, or, when key names a prefix, every key below
	// "key/". Deleting a missing key returns ErrNotFound.
	Delete(ctx context.Context, key string) error

	// Walk calls fn for every key below prefix ("" walks everything), in
	// lexical key order. An error returned by fn stops the walk and is
	// returned by Walk.
	Walk(ctx context.Context, prefix string, fn func(Info) error) error
}

// Writer streams content into one key.
type Writer interface {
	io.Writer
	// Size returns the content length so far, including the starting offset.
	Size() int64
	// Commit makes every byte written durable and closes the writer.
	Commit(ctx context.Context) error
	// Cancel discards what this writer wrote since it was opened and closes it.
	Cancel(ctx context.Context) error
	// Close releases the writer without making its bytes durable. Content
	// written may or may not survive a crash; a later Writer at the last
	// committed offset continues from there.
	Close() error
}

// SizedWriterOpener is implemented by drivers that can store content of a
// known size more cheaply than a stream of unknown size, such as the S3
// driver, which then sends one PutObject instead of a multipart upload.
// Decorators implement it by passing the size on to the driver they wrap.
type SizedWriterOpener interface {
	// SizedWriter opens key for writing at offset 0, like Writer, for
	// content of exactly size bytes. Commit fails when another number of
	// bytes was written.
	SizedWriter(ctx context.Context, key string, size int64) (Writer, error)
}

// NewWriter opens key of d for writing at offset 0. With size >= 0 the
// content must have exactly size bytes: a Write past size fails, and so
// does a Commit before size bytes, which cancels the writer. A driver that
// implements SizedWriterOpener gets the size when the writer opens. A negative size means
// unknown.
func NewWriter(ctx context.Context, d Driver, key string, size int64) (Writer, error) {
	if size < 0 {
		return d.Writer(ctx, key, 0)
	}
	if opener, ok := d.(SizedWriterOpener); ok {
		return opener.SizedWriter(ctx, key, size)
	}
	w, err := d.Writer(ctx, key, 0)
	if err != nil {
		return nil, err
	}
	return CheckSize(w, key, size), nil
}

// TempWriterOpener is implemented by drivers that can commit content
// faster when its key is temporary: the caller moves the content to its
// final key with Move right after Commit, and no one reads the temporary
// key. Commit then makes the bytes durable, but a crash may lose the
// temporary key's name, which the Move would have replaced anyway. The
// filesystem driver skips the fsync of the key's directory. Decorators
// implement it by passing the call on to the driver they wrap.
type TempWriterOpener interface {
	// TempWriter opens key for writing at offset 0 as NewWriter does,
	// for content of size bytes, or of unknown size when size < 0.
	TempWriter(ctx context.Context, key string, size int64) (Writer, error)
}

// NewTempWriter opens the temporary key of d for writing, as NewWriter
// does, through TempWriter when d implements TempWriterOpener.
func NewTempWriter(ctx context.Context, d Driver, key string, size int64) (Writer, error) {
	if opener, ok := d.(TempWriterOpener); ok {
		return opener.TempWriter(ctx, key, size)
	}
	return NewWriter(ctx, d, key, size)
}

// CheckSize returns w held to a content of size bytes, as NewWriter returns
// it for a driver without SizedWriter, or w itself when size < 0.
func CheckSize(w Writer, key string, size int64) Writer {
	if size < 0 {
		return w
	}
	return &sizeCheckedWriter{Writer: w, key: key, declared: size}
}

// sizeCheckedWriter holds a Writer to a declared content size, for drivers
// that do not check it themselves.
type sizeCheckedWriter struct {
	Writer
	key      string
	declared int64
}

// Write fails without writing when p would take the content past its
// declared size.
func (w *sizeCheckedWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > w.declared-w.Writer.Size() {
		return 0, fmt.Errorf("write %q: %w: the content exceeds its declared size of %d bytes", w.key, ErrSizeMismatch, w.declared)
	}
	return w.Writer.Write(p)
}

// Commit fails, and cancels the writer, when fewer bytes than declared
// were written.
func (w *sizeCheckedWriter) Commit(ctx context.Context) error {
	if written := w.Writer.Size(); written != w.declared {
		err := fmt.Errorf("commit %q: %w: %d of the declared %d bytes were written", w.key, ErrSizeMismatch, written, w.declared)
		return errors.Join(err, w.Writer.Cancel(ctx))
	}
	return w.Writer.Commit(ctx)
}
