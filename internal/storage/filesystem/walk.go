package filesystem

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cofferhq/coffer/internal/storage"
)

// Walk calls fn for prefix itself, when it is a key, and for every key
// below "prefix/", in lexical key order. A prefix with no keys visits
// nothing. Directories are not keys and are not visited, and neither are
// symbolic links or files whose names fall outside the key grammar.
//
// Walk reads one directory at a time, so keys created or deleted during the
// walk may or may not be visited.
func (d *Driver) Walk(ctx context.Context, prefix string, fn func(storage.Info) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if prefix == "" {
		return d.walkDir(ctx, d.root, "", fn)
	}
	if err := storage.ValidateKey(prefix); err != nil {
		return err
	}

	dir := d.path(prefix)
	fi, err := os.Stat(dir)
	switch {
	case isNotExist(err):
		return nil
	case err != nil:
		return fmt.Errorf("walk %q: %w", prefix, err)
	case fi.Mode().IsRegular():
		return fn(storage.Info{Key: prefix, Size: fi.Size(), ModTime: fi.ModTime()})
	case fi.IsDir():
		return d.walkDir(ctx, dir, prefix, fn)
	}
	return nil
}

// walkDir visits the keys in dir, whose key prefix is prefix, and below.
func (d *Driver) walkDir(ctx context.Context, dir, prefix string, fn func(storage.Info) error) error {
	entries, err := os.ReadDir(dir)
	if isNotExist(err) {
		// Deleted since its parent was read.
		return nil
	}
	if err != nil {
		return fmt.Errorf("walk %q: %w", prefix, err)
	}
	sortByKey(entries)

	for _, entry := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		if storage.ValidateKey(entry.Name()) != nil {
			continue
		}
		key := path.Join(prefix, entry.Name())

		if entry.IsDir() {
			if err := d.walkDir(ctx, filepath.Join(dir, entry.Name()), key, fn); err != nil {
				return err
			}
			continue
		}
		if !entry.Type().IsRegular() {
			continue
		}
		fi, err := entry.Info()
		if isNotExist(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("walk %q: %w", key, err)
		}
		if err := fn(storage.Info{Key: key, Size: fi.Size(), ModTime: fi.ModTime()}); err != nil {
			return err
		}
	}
	return nil
}

// sortByKey orders the entries of one directory so that visiting them in
// turn, depth first, yields keys in lexical order. Sorting by name alone
// would visit the keys below directory "a" before file "a-c", although
// "a/..." sorts after "a-c" because '/' sorts after '-' and '.'. Comparing
// each directory as its name plus "/" gives the key order.
func sortByKey(entries []fs.DirEntry) {
	sortName := func(entry fs.DirEntry) string {
		if entry.IsDir() {
			return entry.Name() + "/"
		}
		return entry.Name()
	}
	slices.SortFunc(entries, func(a, b fs.DirEntry) int {
		return strings.Compare(sortName(a), sortName(b))
	})
}
