package storagetest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/cofferhq/coffer/internal/storage"
)

func testMissingKeys(t *testing.T, d storage.Driver) {
	put(t, d, "file", []byte("x"))

	// "file/below" is missing because "file" is a key, not a prefix.
	for _, key := range []string{"missing", "missing/deeper", "file/below"} {
		_, err := d.Reader(t.Context(), key, 0)
		assertErrorIs(t, fmt.Sprintf("Reader(%q)", key), err, storage.ErrNotFound)

		_, err = d.Stat(t.Context(), key)
		assertErrorIs(t, fmt.Sprintf("Stat(%q)", key), err, storage.ErrNotFound)

		err = d.Move(t.Context(), key, "destination")
		assertErrorIs(t, fmt.Sprintf("Move(%q)", key), err, storage.ErrNotFound)

		err = d.Delete(t.Context(), key)
		assertErrorIs(t, fmt.Sprintf("Delete(%q)", key), err, storage.ErrNotFound)
	}
	assertMissing(t, d, "destination")
	assertContent(t, d, "file", []byte("x"))
}

func testPrefixIsNotKey(t *testing.T, d storage.Driver) {
	put(t, d, "prefix/key", []byte("x"))

	_, err := d.Reader(t.Context(), "prefix", 0)
	assertErrorIs(t, "Reader of a prefix", err, storage.ErrNotFound)

	_, err = d.Stat(t.Context(), "prefix")
	assertErrorIs(t, "Stat of a prefix", err, storage.ErrNotFound)

	_, err = d.Writer(t.Context(), "prefix", 1)
	assertErrorIs(t, "Writer at offset 1 on a prefix", err, storage.ErrNotFound)

	err = d.Move(t.Context(), "prefix", "elsewhere")
	assertErrorIs(t, "Move of a prefix", err, storage.ErrNotFound)

	assertContent(t, d, "prefix/key", []byte("x"))
	assertMissing(t, d, "elsewhere")
}

func testInvalidKeys(t *testing.T, d storage.Driver) {
	put(t, d, "good", []byte("x"))

	for _, key := range []string{"../x", "/abs", "a//b", "a/./b", "", "a/", "a b"} {
		_, err := d.Reader(t.Context(), key, 0)
		assertErrorIs(t, fmt.Sprintf("Reader(%q)", key), err, storage.ErrInvalidKey)

		_, err = d.Stat(t.Context(), key)
		assertErrorIs(t, fmt.Sprintf("Stat(%q)", key), err, storage.ErrInvalidKey)

		_, err = d.Writer(t.Context(), key, 0)
		assertErrorIs(t, fmt.Sprintf("Writer(%q)", key), err, storage.ErrInvalidKey)

		err = d.Move(t.Context(), key, "good")
		assertErrorIs(t, fmt.Sprintf("Move(%q, good)", key), err, storage.ErrInvalidKey)

		err = d.Move(t.Context(), "good", key)
		assertErrorIs(t, fmt.Sprintf("Move(good, %q)", key), err, storage.ErrInvalidKey)

		err = d.Delete(t.Context(), key)
		assertErrorIs(t, fmt.Sprintf("Delete(%q)", key), err, storage.ErrInvalidKey)

		if key != "" {
			err = d.Walk(t.Context(), key, func(storage.Info) error { return nil })
			assertErrorIs(t, fmt.Sprintf("Walk(%q)", key), err, storage.ErrInvalidKey)
		}
	}
	assertContent(t, d, "good", []byte("x"))
}

func testCancelledContext(t *testing.T, d storage.Driver) {
	put(t, d, "k", []byte("abc"))
	ctx := cancelledContext(t)

	_, err := d.Reader(ctx, "k", 0)
	assertErrorIs(t, "Reader", err, context.Canceled)

	_, err = d.Stat(ctx, "k")
	assertErrorIs(t, "Stat", err, context.Canceled)

	_, err = d.Writer(ctx, "k", 0)
	assertErrorIs(t, "Writer", err, context.Canceled)

	err = d.Move(ctx, "k", "moved")
	assertErrorIs(t, "Move", err, context.Canceled)

	err = d.Delete(ctx, "k")
	assertErrorIs(t, "Delete", err, context.Canceled)

	err = d.Walk(ctx, "", func(storage.Info) error { return nil })
	assertErrorIs(t, "Walk", err, context.Canceled)

	assertContent(t, d, "k", []byte("abc"))
	assertMissing(t, d, "moved")

	w, err := d.Writer(t.Context(), "other", 0)
	if err != nil {
		t.Fatalf("Writer: %v", err)
	}
	if _, err := w.Write([]byte("x")); err != nil {
		t.Fatalf("Write: %v", err)
	}
	err = w.Commit(ctx)
	assertErrorIs(t, "Commit", err, context.Canceled)
	if err := w.Close(); err != nil {
		t.Errorf("Close after a cancelled Commit = %v, want nil", err)
	}
}

func testConcurrentWriters(t *testing.T, d storage.Driver) {
	const writers = 8
	contents := make([][]byte, writers)
	for i := range contents {
		contents[i] = randomBytes(256<<10+i, uint64(10+i))
	}

	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			key := fmt.Sprintf("concurrent/%d/blob", i)
			w, err := d.Writer(t.Context(), key, 0)
			if err != nil {
				t.Errorf("Writer(%q): %v", key, err)
				return
			}
			for rest := contents[i]; len(rest) > 0; {
				n := min(4096, len(rest))
				if _, err := w.Write(rest[:n]); err != nil {
					t.Errorf("Write to %q: %v", key, err)
					_ = w.Close()
					return
				}
				rest = rest[n:]
			}
			if err := w.Commit(t.Context()); err != nil {
				t.Errorf("Commit of %q: %v", key, err)
			}
		})
	}
	wg.Wait()

	for i := range writers {
		assertContent(t, d, fmt.Sprintf("concurrent/%d/blob", i), contents[i])
	}
}
