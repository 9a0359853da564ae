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
