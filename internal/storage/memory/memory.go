// Package memory implements storage.Driver in process memory, for tests.
//
// The driver follows the filesystem driver's semantics, including its
// namespace rule: a key is never also a prefix of other keys, so writing "a/b"
// fails while "a" exists and the other way round. Memory has no crash to
// model, so Writer.Close publishes what was written just as Commit does.
package memory

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cofferhq/coffer/internal/storage"
)

// Driver is an in-memory storage.Driver. Create one with New, because the
// zero value has no maps.
type Driver struct {
	mu sync.RWMutex
	// objects maps each key to its content. A stored slice is never modified
	// after it is published, so readers may keep it without holding mu.
	objects map[string]object
	// prefixes counts the keys below each prefix, such as "a" and "a/b" for
	// the key "a/b/c".
	prefixes map[string]int
}

// object is the stored content of one key.
type object struct {
	data    []byte
	modTime time.Time
}

var _ storage.Driver = (*Driver)(nil)

// New returns an empty driver.
func New() *Driver {
	return &Driver{objects: map[string]object{}, prefixes: map[string]int{}}
}

// Name returns "memory".
func (d *Driver) Name() string { return "memory" }

// Reader returns a reader of the content of key from offset on.
func (d *Driver) Reader(ctx context.Context, key string, offset int64) (io.ReadCloser, error) {
	if err := checkRequest(ctx, key); err != nil {
		return nil, err
	}

	d.mu.RLock()
	obj, ok := d.objects[key]
	d.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("read %q: %w", key, storage.ErrNotFound)
	}
	if offset < 0 || offset > int64(len(obj.data)) {
		return nil, fmt.Errorf("read %q: %w: offset %d is outside the content of %d bytes",
			key, storage.ErrInvalidOffset, offset, len(obj.data))
	}
	return io.NopCloser(bytes.NewReader(obj.data[offset:])), nil
}

// Stat returns the size and modification time of key.
func (d *Driver) Stat(ctx context.Context, key string) (storage.Info, error) {
	if err := checkRequest(ctx, key); err != nil {
		return storage.Info{}, err
	}

	d.mu.RLock()
	obj, ok := d.objects[key]
	d.mu.RUnlock()
	if !ok {
		return storage.Info{}, fmt.Errorf("stat %q: %w", key, storage.ErrNotFound)
	}
	return storage.Info{Key: key, Size: int64(len(obj.data)), ModTime: obj.modTime}, nil
}

// Move renames src to dst, replacing dst when it is a key.
func (d *Driver) Move(ctx context.Context, src, dst string) error {
	if err := checkRequest(ctx, src); err != nil {
		return err
	}
	if err := storage.ValidateKey(dst); err != nil {
		return err
	}

	d.mu.Lock()
	defer d.mu.Unlock()
	obj, ok := d.objects[src]
	if !ok {
		return fmt.Errorf("move %q to %q: %w", src, dst, storage.ErrNotFound)
	}
	if src == dst {
		return nil
	}
	if err := d.checkPlacement(dst); err != nil {
		return fmt.Errorf("move %q to %q: %w", src, dst, err)
	}
	d.remove(src)
	d.publish(dst, obj.data)
	return nil
}

// Delete removes key, or every key below "key/" when key is a prefix.
func (d *Driver) Delete(ctx context.Context, key string) error {
	if err := checkRequest(ctx, key); err != nil {
		return err
	}

	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.objects[key]; ok {
		d.remove(key)
		return nil
	}
	if d.prefixes[key] == 0 {
		return fmt.Errorf("delete %q: %w", key, storage.ErrNotFound)
	}
	below := key + "/"
	for k := range d.objects {
		if strings.HasPrefix(k, below) {
			d.remove(k)
		}
	}
	return nil
}

// Walk calls fn for prefix itself, when it is a key, and for every key
// below "prefix/", in lexical order. A prefix with no keys visits nothing.
// The keys are listed before the first call, so fn may call the driver.
func (d *Driver) Walk(ctx context.Context, prefix string, fn func(storage.Info) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if prefix != "" {
		if err := storage.ValidateKey(prefix); err != nil {
			return err
		}
	}

	infos := d.list(prefix)
	for _, info := range infos {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(info); err != nil {
			return err
		}
	}
	return nil
}

// list returns the keys that Walk visits for prefix, sorted by key.
func (d *Driver) list(prefix string) []storage.Info {
	d.mu.RLock()
	defer d.mu.RUnlock()

	var infos []storage.Info
	for key, obj := range d.objects {
		if prefix == "" || key == prefix || strings.HasPrefix(key, prefix+"/") {
			infos = append(infos, storage.Info{Key: key, Size: int64(len(obj.data)), ModTime: obj.modTime})
		}
	}
	slices.SortFunc(infos, func(a, b storage.Info) int { return strings.Compare(a.Key, b.Key) })
	return infos
}

// checkPlacement returns an error when storing key would make it both a key
// and a prefix, because one of its parents is a key or other keys are stored
// below it. The caller holds d.mu.
func (d *Driver) checkPlacement(key string) error {
	for parent := range parents(key) {
		if _, ok := d.objects[parent]; ok {
			return fmt.Errorf("key %q cannot be stored below key %q; delete %q first", key, parent, parent)
		}
	}
	if d.prefixes[key] > 0 {
		return fmt.Errorf("key %q is the prefix of %d stored keys; delete them first", key, d.prefixes[key])
	}
	return nil
}

// publish stores data under key, which must pass checkPlacement. The caller
// holds d.mu and must not modify data afterwards.
func (d *Driver) publish(key string, data []byte) {
	if _, ok := d.objects[key]; !ok {
		for parent := range parents(key) {
			d.prefixes[parent]++
		}
	}
	d.objects[key] = object{data: data, modTime: time.Now()}
}

// remove deletes key, which must exist. The caller holds d.mu.
func (d *Driver) remove(key string) {
	delete(d.objects, key)
	for parent := range parents(key) {
		d.prefixes[parent]--
		if d.prefixes[parent] == 0 {
			delete(d.prefixes, parent)
		}
	}
}

// parents yields the proper prefixes of key: "a" and "a/b" for "a/b/c".
func parents(key string) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		for i := range len(key) {
			if key[i] == '/' && !yield(key[:i]) {
				return
			}
		}
	}
}

// checkRequest returns the context's error or the key's validation error.
func checkRequest(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return storage.ValidateKey(key)
}

// errWriterClosed reports a call on a writer after Commit, Cancel or Close.
var errWriterClosed = errors.New("storage writer is already closed")
