package filesystem_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/cofferhq/coffer/internal/storage"
	"github.com/cofferhq/coffer/internal/storage/filesystem"
	"github.com/cofferhq/coffer/internal/storage/storagetest"
)

func TestDriver(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Driver { return newDriver(t, t.TempDir()) })
}

func TestNewCreatesRoot(t *testing.T) {
	root := filepath.Join(t.TempDir(), "a", "b")
	newDriver(t, root)

	fi, err := os.Stat(root)
	if err != nil {
		t.Fatalf("stat root: %v", err)
	}
	if !fi.IsDir() {
		t.Errorf("root %q is not a directory", root)
	}
}

func TestNewRejectsFileRoot(t *testing.T) {
	root := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(root, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := filesystem.New(root); err == nil {
		t.Errorf("New(%q) on a regular file succeeded, want an error", root)
	}
}

func TestKeyStoredAtPath(t *testing.T) {
	root := t.TempDir()
	d := newDriver(t, root)
	put(t, d, "blobs/sha256/ab/abcd", "content")

	got, err := os.ReadFile(filepath.Join(root, "blobs", "sha256", "ab", "abcd"))
	if err != nil {
		t.Fatalf("read the file of the key: %v", err)
	}
	if string(got) != "content" {
		t.Errorf("file content = %q, want %q", got, "content")
	}
}

func TestDeleteRemovesEmptyDirs(t *testing.T) {
	root := t.TempDir()
	d := newDriver(t, root)
	put(t, d, "a/b/c/key", "1")
	put(t, d, "a/other", "2")
	put(t, d, "p/q/r/s", "3")

	if err := d.Delete(t.Context(), "a/b/c/key"); err != nil {
		t.Fatalf("Delete of key: %v", err)
	}
	if got, want := tree(t, root), []string{"a", "a/other", "p", "p/q", "p/q/r", "p/q/r/s"}; !slices.Equal(got, want) {
		t.Errorf("tree after Delete of a/b/c/key = %q, want %q", got, want)
	}

	if err := d.Delete(t.Context(), "p/q"); err != nil {
		t.Fatalf("Delete of prefix: %v", err)
	}
	if got, want := tree(t, root), []string{"a", "a/other"}; !slices.Equal(got, want) {
		t.Errorf("tree after Delete of prefix p/q = %q, want %q", got, want)
	}

	if err := d.Delete(t.Context(), "a/other"); err != nil {
		t.Fatalf("Delete of last key: %v", err)
	}
	if got := tree(t, root); len(got) != 0 {
		t.Errorf("tree after deleting every key = %q, want it empty", got)
	}
	if _, err := os.Stat(root); err != nil {
		t.Errorf("root after deleting every key: %v, want it kept", err)
	}
}

func TestMoveRemovesEmptySourceDirs(t *testing.T) {
	root := t.TempDir()
	d := newDriver(t, root)
	put(t, d, "uploads/1/data", "content")

	if err := d.Move(t.Context(), "uploads/1/data", "blobs/ab/key"); err != nil {
		t.Fatalf("Move: %v", err)
	}
	if got, want := tree(t, root), []string{"blobs", "blobs/ab", "blobs/ab/key"}; !slices.Equal(got, want) {
		t.Errorf("tree after Move = %q, want %q", got, want)
	}
}

func TestCancelRemovesEmptyDirs(t *testing.T) {
	root := t.TempDir()
	d := newDriver(t, root)

	w, err := d.Writer(t.Context(), "uploads/1/data", 0)
	if err != nil {
		t.Fatalf("Writer: %v", err)
	}
	if _, err := w.Write([]byte("content")); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if err := w.Cancel(t.Context()); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	if got := tree(t, root); len(got) != 0 {
		t.Errorf("tree after Cancel = %q, want it empty", got)
	}
}

func TestWalkSkipsForeignFiles(t *testing.T) {
	root := t.TempDir()
	d := newDriver(t, root)
	put(t, d, "dir/key", "x")
	if err := os.WriteFile(filepath.Join(root, "dir", "not a key"), []byte("y"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "dir", "key"), filepath.Join(root, "dir", "link")); err != nil {
		t.Fatal(err)
	}

	var keys []string
	err := d.Walk(t.Context(), "", func(info storage.Info) error {
		keys = append(keys, info.Key)
		return nil
	})
	if err != nil {
		t.Fatalf("Walk: %v", err)
	}
	if want := []string{"dir/key"}; !slices.Equal(keys, want) {
		t.Errorf("Walk = %q, want %q", keys, want)
	}
}

func newDriver(t *testing.T, root string) *filesystem.Driver {
	t.Helper()
	d, err := filesystem.New(root)
	if err != nil {
		t.Fatalf("New(%q): %v", root, err)
	}
	return d
}

func put(t *testing.T, d storage.Driver, key, content string) {
	t.Helper()
	w, err := d.Writer(t.Context(), key, 0)
	if err != nil {
		t.Fatalf("Writer(%q): %v", key, err)
	}
	if _, err := w.Write([]byte(content)); err != nil {
		t.Fatalf("Write to %q: %v", key, err)
	}
	if err := w.Commit(t.Context()); err != nil {
		t.Fatalf("Commit of %q: %v", key, err)
	}
}

// tree returns every file and directory below root as slash-separated
// relative paths, in lexical order.
func tree(t *testing.T, root string) []string {
	t.Helper()
	var paths []string
	err := filepath.WalkDir(root, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path == root {
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		paths = append(paths, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatalf("walk %q: %v", root, err)
	}
	return paths
}
