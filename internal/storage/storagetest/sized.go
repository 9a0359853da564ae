package storagetest

import (
	"errors"
	"slices"
	"testing"

	"github.com/cofferhq/coffer/internal/storage"
)

// sizedContentSizes covers empty content, content in one S3 part, and
// content past the first part, which the S3 driver streams as one
// PutObject.
var sizedContentSizes = []struct {
	name string
	size int
}{
	{"empty", 0},
	{"small", 1000},
	{"past first part", 9<<20 + 3},
}

func testSizedWriterRoundTrip(t *testing.T, d storage.Driver) {
	for i, tt := range sizedContentSizes {
		t.Run(tt.name, func(t *testing.T) {
			content := randomBytes(tt.size, uint64(40+i))
			w, err := storage.NewWriter(t.Context(), d, "sized", int64(len(content)))
			if err != nil {
				t.Fatalf("NewWriter: %v", err)
			}
			// Several writes, as a request body arrives.
			for chunk := range slices.Chunk(content, 1<<20) {
				if _, err := w.Write(chunk); err != nil {
					t.Fatalf("Write: %v", err)
				}
			}
			if got := w.Size(); got != int64(len(content)) {
				t.Errorf("Size = %d, want %d", got, len(content))
			}
			if err := w.Commit(t.Context()); err != nil {
				t.Fatalf("Commit: %v", err)
			}
			assertContent(t, d, "sized", content)
		})
	}
}

func testSizedWriterTooFewBytes(t *testing.T, d storage.Driver) {
	content := randomBytes(9<<20, 50)
	w, err := storage.NewWriter(t.Context(), d, "short", int64(len(content))+1)
	if err != nil {
		t.Fatalf("NewWriter: %v", err)
	}
	if _, err := w.Write(content); err != nil {
		t.Fatalf("Write: %v", err)
	}
	err = w.Commit(t.Context())
	if !errors.Is(err, storage.ErrSizeMismatch) {
		t.Fatalf("Commit of one byte too few = %v, want ErrSizeMismatch", err)
	}
	// The key is not checked: a store behind the S3 driver may keep the
	// body of the aborted request (see streamWriter.Cancel), and garbage
	// collection removes such upload keys.
}

func testSizedWriterTooManyBytes(t *testing.T, d storage.Driver) {
	content := randomBytes(9<<20, 51)
	w, err := storage.NewWriter(t.Context(), d, "long", int64(len(content))-1)
	if err != nil {
		t.Fatalf("NewWriter: %v", err)
	}
	_, err = w.Write(content)
	if !errors.Is(err, storage.ErrSizeMismatch) {
		t.Fatalf("Write of one byte too many = %v, want ErrSizeMismatch", err)
	}
	if err := w.Cancel(t.Context()); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	assertMissing(t, d, "long")
}

func testSizedWriterCancel(t *testing.T, d storage.Driver) {
	put(t, d, "replaced", []byte("old"))
	content := randomBytes(9<<20, 52)
	w, err := storage.NewWriter(t.Context(), d, "replaced", int64(len(content)))
	if err != nil {
		t.Fatalf("NewWriter: %v", err)
	}
	if _, err := w.Write(content); err != nil {
		t.Fatalf("Write: %v", err)
	}
	// Every byte was written, as when the content's digest turns out wrong.
	if err := w.Cancel(t.Context()); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	// A writer at offset 0 truncated the key, so Cancel leaves nothing.
	assertMissing(t, d, "replaced")
}

func testTempWriterMovedToFinalKey(t *testing.T, d storage.Driver) {
	for _, size := range []int64{-1, 1000} {
		content := randomBytes(1000, 60)
		w, err := storage.NewTempWriter(t.Context(), d, "uploads/temp", size)
		if err != nil {
			t.Fatalf("NewTempWriter with size %d: %v", size, err)
		}
		if _, err := w.Write(content); err != nil {
			t.Fatalf("Write: %v", err)
		}
		if err := w.Commit(t.Context()); err != nil {
			t.Fatalf("Commit: %v", err)
		}
		if err := d.Move(t.Context(), "uploads/temp", "final/key"); err != nil {
			t.Fatalf("Move: %v", err)
		}
		assertContent(t, d, "final/key", content)
	}
}

func testTempWriterTooFewBytes(t *testing.T, d storage.Driver) {
	content := randomBytes(1000, 61)
	w, err := storage.NewTempWriter(t.Context(), d, "uploads/short", int64(len(content))+1)
	if err != nil {
		t.Fatalf("NewTempWriter: %v", err)
	}
	if _, err := w.Write(content); err != nil {
		t.Fatalf("Write: %v", err)
	}
	err = w.Commit(t.Context())
	if !errors.Is(err, storage.ErrSizeMismatch) {
		t.Fatalf("Commit of one byte too few = %v, want ErrSizeMismatch", err)
	}
}
