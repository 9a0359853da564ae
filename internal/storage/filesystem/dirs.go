package filesystem

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// errBelowKey reports a key whose parent directory would have to be the file
// of another key.
var errBelowKey = errors.New("a parent of the key is a stored key, not a prefix")

// makeDirs creates dir and its missing parents below the root. It returns the
// directories whose entries changed, which the caller syncs to make the new
// directories durable. The caller holds d.dirs for reading.
func (d *Driver) makeDirs(dir string) ([]string, error) {
	var changed []string
	for current := dir; d.isBelowRoot(current); current = filepath.Dir(current) {
		_, err := os.Stat(current)
		if !errors.Is(err, fs.ErrNotExist) {
			// current exists, or MkdirAll below reports why it cannot be used.
			break
		}
		changed = append(changed, filepath.Dir(current))
	}

	if err := os.MkdirAll(dir, 0o755); err != nil {
		if errors.Is(err, syscall.ENOTDIR) {
			// The cause is dropped on purpose, because the read paths map
			// ENOTDIR to "not found", but here it is a conflict with a key.
			return nil, fmt.Errorf("create directory %q: %w", dir, errBelowKey)
		}
		return nil, fmt.Errorf("create directory %q: %w", dir, err)
	}
	return changed, nil
}

// pruneEmptyDirs removes dir and then each parent up to, but not including,
// the root, stopping at the first directory that is not empty. Pruning is
// best effort, so a directory that cannot be removed stays behind without an
// error. The caller holds d.dirs for writing.
func (d *Driver) pruneEmptyDirs(dir string) {
	for current := dir; d.isBelowRoot(current); current = filepath.Dir(current) {
		if err := os.Remove(current); err != nil {
			return
		}
	}
}

// isBelowRoot reports whether path is a proper descendant of the root.
func (d *Driver) isBelowRoot(path string) bool {
	return len(path) > len(d.rootPrefix) && strings.HasPrefix(path, d.rootPrefix)
}

// syncDir fsyncs one directory.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory %q to sync it: %w", dir, err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("sync directory %q: %w", dir, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close directory %q after sync: %w", dir, err)
	}
	return nil
}
