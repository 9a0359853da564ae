// Package filesystem implements storage.Driver on a local directory tree.
//
// Each key is a regular file at the key's path below the root directory, so
// "blobs/sha256/ab" is stored in <root>/blobs/sha256/ab. A key therefore
// cannot also be the prefix of other keys. Directories exist only to hold
// keys: Delete, Move and Cancel remove the directories they leave empty.
//
// Commit and Move are durable on filesystems that honour fsync on files and
// directories: Commit syncs the file and then its directory, and Move syncs
// the directories of both keys after the rename. Directories that a write or
// move creates are synced into their parents as well.
//
// NOTE: the key grammar sets no length limit, but the filesystem does. A key
// with a segment longer than its name limit (255 bytes on ext4 and XFS)
// fails with the operating system's error, while the memory driver accepts it.
package filesystem

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/cofferhq/coffer/internal/storage"
)

// Driver stores keys as files below a root directory.
type Driver struct {
	root string
	// rootPrefix is root with a trailing separator, the prefix of every key's path.
	rootPrefix string
	// dirs keeps directory removal apart from directory use. Creating parent
	// directories and then a file or rename inside them holds the read lock.
	// Delete and the pruning of empty directories hold the write lock, so no
	// directory is removed between those two steps.
	dirs sync.RWMutex
	// syncs shares directory fsyncs among concurrent writers.
	syncs dirSyncer
	// pageCacheOnly turns direct I/O off (see DisableDirectIO).
	pageCacheOnly bool
}

var _ storage.Driver = (*Driver)(nil)

// New returns a driver that stores keys below root, creating root and its
// parents when they do not exist.
func New(root string) (*Driver, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("resolve storage root %q: %w", root, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("create storage root %q: %w", abs, err)
	}
	rootPrefix := abs
	if !strings.HasSuffix(rootPrefix, string(filepath.Separator)) {
		rootPrefix += string(filepath.Separator)
	}
	return &Driver{root: abs, rootPrefix: rootPrefix}, nil
}

// DisableDirectIO makes every write and read go through the page cache,
// and returns d. Call it before the driver is used. By default full write
// buffers and large reads use O_DIRECT. That saves the CPU time of copying
// through the page cache, but large blobs then never stay in it, so every
// read of one goes to the disk.
func (d *Driver) DisableDirectIO() *Driver {
	d.pageCacheOnly = true
	return d
}

// Name returns "filesystem".
func (d *Driver) Name() string { return "filesystem" }

// Reader opens the file of key and seeks to offset.
func (d *Driver) Reader(ctx context.Context, key string, offset int64) (io.ReadCloser, error) {
	path, err := d.keyPath(ctx, key)
	if err != nil {
		return nil, err
	}

	file, err := os.Open(path)
	if err != nil {
		return nil, fileError(fmt.Sprintf("read %q", key), err)
	}
	size, err := regularSize(file)
	if err != nil {
		_ = file.Close()
		return nil, fileError(fmt.Sprintf("read %q", key), err)
	}
	if offset < 0 || offset > size {
		_ = file.Close()
		return nil, fmt.Errorf("read %q: %w: offset %d is outside the content of %d bytes",
			key, storage.ErrInvalidOffset, offset, size)
	}
	if _, err := file.Seek(offset, io.SeekStart); err != nil {
		_ = file.Close()
		return nil, fmt.Errorf("read %q: seek to offset %d: %w", key, offset, err)
	}
	if !d.pageCacheOnly && size-offset >= directReadMinSize && offset%directAlignment == 0 {
		return newDirectReader(file), nil
	}
	return file, nil
}

// Stat returns the size and modification time of the file of key.
func (d *Driver) Stat(ctx context.Context, key string) (storage.Info, error) {
	path, err := d.keyPath(ctx, key)
	if err != nil {
		return storage.Info{}, err
	}

	fi, err := os.Stat(path)
	if err == nil && !fi.Mode().IsRegular() {
		err = fs.ErrNotExist
	}
	if err != nil {
		return storage.Info{}, fileError(fmt.Sprintf("stat %q", key), err)
	}
	return storage.Info{Key: key, Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// Move renames the file of src to the path of dst, then syncs the
// directories of both keys and removes the directories src leaves empty.
func (d *Driver) Move(ctx context.Context, src, dst string) error {
	srcPath, err := d.keyPath(ctx, src)
	if err != nil {
		return err
	}
	if err := storage.ValidateKey(dst); err != nil {
		return err
	}
	dstPath := d.path(dst)

	op := fmt.Sprintf("move %q to %q", src, dst)

	fi, err := os.Stat(srcPath)
	if err == nil && !fi.Mode().IsRegular() {
		err = fs.ErrNotExist
	}
	if err != nil {
		return fileError(op, err)
	}
	if src == dst {
		return nil
	}

	created, err := d.renameCreatingDirs(srcPath, dstPath)
	if err != nil {
		return fileError(op, err)
	}
	// Syncing the destination directory makes the new name durable. The
	// source directory is not synced: on journaling filesystems the rename
	// is one journal transaction, and at worst a crash leaves the old name
	// as well, an orphan that garbage collection removes.
	if err := d.syncs.syncDirs(append(created, filepath.Dir(dstPath))); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}

	d.dirs.Lock()
	defer d.dirs.Unlock()
	d.pruneEmptyDirs(filepath.Dir(srcPath))
	return nil
}

// renameCreatingDirs renames src to dst after creating the missing parent
// directories of dst, and returns the directories to sync for them.
func (d *Driver) renameCreatingDirs(src, dst string) ([]string, error) {
	d.dirs.RLock()
	defer d.dirs.RUnlock()

	created, err := d.makeDirs(filepath.Dir(dst))
	if err != nil {
		return nil, err
	}
	if err := os.Rename(src, dst); err != nil {
		return nil, err
	}
	return created, nil
}

// Delete removes the file of key, or the directory of key and everything in
// it when key is a prefix, and then the parent directories left empty.
func (d *Driver) Delete(ctx context.Context, key string) error {
	path, err := d.keyPath(ctx, key)
	if err != nil {
		return err
	}

	d.dirs.Lock()
	defer d.dirs.Unlock()

	fi, err := os.Lstat(path)
	if err != nil {
		return fileError(fmt.Sprintf("delete %q", key), err)
	}
	if fi.IsDir() {
		err = os.RemoveAll(path)
	} else {
		err = os.Remove(path)
	}
	if err != nil {
		return fileError(fmt.Sprintf("delete %q", key), err)
	}
	d.pruneEmptyDirs(filepath.Dir(path))
	return nil
}

// keyPath checks the context and key and returns the file path of key.
func (d *Driver) keyPath(ctx context.Context, key string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if err := storage.ValidateKey(key); err != nil {
		return "", err
	}
	return d.path(key), nil
}

// path returns the file path of a valid key.
func (d *Driver) path(key string) string {
	return filepath.Join(d.root, filepath.FromSlash(key))
}

// fileError wraps err from the file operation op, such as `read "a/b"`,
// turning a missing file into storage.ErrNotFound without the file path.
func fileError(op string, err error) error {
	if isNotExist(err) {
		return fmt.Errorf("%s: %w", op, storage.ErrNotFound)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// isNotExist reports whether err means that a path does not exist, including
// a path below a regular file ("a/b" when "a" is a file), which is ENOTDIR.
func isNotExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// regularSize returns the size of file, or fs.ErrNotExist when it is not a
// regular file, because a directory is a prefix and not a key.
func regularSize(file *os.File) (int64, error) {
	fi, err := file.Stat()
	if err != nil {
		return 0, err
	}
	if !fi.Mode().IsRegular() {
		return 0, fs.ErrNotExist
	}
	return fi.Size(), nil
}
