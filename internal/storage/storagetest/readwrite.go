package storagetest

import (
	"bytes"
	"testing"

	"github.com/cofferhq/coffer/internal/storage"
)

func testRoundTrip(t *testing.T, d storage.Driver) {
	large := randomBytes(5<<20+3, 1)
	tests := []struct {
		name    string
		key     string
		content []byte
		chunk   int
	}{
		{"empty", "empty", []byte{}, 1},
		{"small", "dir/small", []byte("hello, coffer"), 4},
		{"large", "deep/nested/dir/large", large, 100_003},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := d.Writer(t.Context(), tt.key, 0)
			if err != nil {
				t.Fatalf("Writer: %v", err)
			}
			for rest := tt.content; len(rest) > 0; {
				n := min(tt.chunk, len(rest))
				written, err := w.Write(rest[:n])
				if err != nil {
					t.Fatalf("Write: %v", err)
				}
				if written != n {
					t.Fatalf("Write returned %d, want %d", written, n)
				}
				rest = rest[n:]
			}
			if err := w.Commit(t.Context()); err != nil {
				t.Fatalf("Commit: %v", err)
			}

			assertContent(t, d, tt.key, tt.content)
			info, err := d.Stat(t.Context(), tt.key)
			if err != nil {
				t.Fatalf("Stat: %v", err)
			}
			if info.Size != int64(len(tt.content)) {
				t.Errorf("Stat size = %d, want %d", info.Size, len(tt.content))
			}
		})
	}
}

func testReaderOffsets(t *testing.T, d storage.Driver) {
	content := randomBytes(1000, 2)
	put(t, d, "k", content)

	for _, offset := range []int64{0, 1, 400, 999, 1000} {
		got := get(t, d, "k", offset)
		if !bytes.Equal(got, content[offset:]) {
			t.Errorf("Reader at %d: got %d bytes, want the %d bytes from the offset", offset, len(got), len(content)-int(offset))
		}
	}

	_, err := d.Reader(t.Context(), "k", 1001)
	assertErrorIs(t, "Reader at size+1", err, storage.ErrInvalidOffset)
}

func testStat(t *testing.T, d storage.Driver) {
	put(t, d, "a/b", []byte("12345"))

	info, err := d.Stat(t.Context(), "a/b")
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	if info.Key != "a/b" {
		t.Errorf("Stat key = %q, want %q", info.Key, "a/b")
	}
	if info.Size != 5 {
		t.Errorf("Stat size = %d, want 5", info.Size)
	}
	if info.ModTime.IsZero() {
		t.Error("Stat modification time is zero")
	}
}

func testWriterSize(t *testing.T, d storage.Driver) {
	w, err := d.Writer(t.Context(), "k", 0)
	if err != nil {
		t.Fatalf("Writer: %v", err)
	}
	if got := w.Size(); got != 0 {
		t.Errorf("Size of new writer = %d, want 0", got)
	}
	if _, err := w.Write([]byte("abc")); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if got := w.Size(); got != 3 {
		t.Errorf("Size after 3 bytes = %d, want 3", got)
	}
	if err := w.Commit(t.Context()); err != nil {
		t.Fatalf("Commit: %v", err)
	}

	w, err = d.Writer(t.Context(), "k", 2)
	if err != nil {
		t.Fatalf("Writer at 2: %v", err)
	}
	defer func() { _ = w.Close() }()
	if got := w.Size(); got != 2 {
		t.Errorf("Size of writer at offset 2 = %d, want 2", got)
	}
	if _, err := w.Write([]byte("xyz")); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if got := w.Size(); got != 5 {
		t.Errorf("Size after offset 2 and 3 bytes = %d, want 5", got)
	}
}

func testWriterContinuesAtOffset(t *testing.T, d storage.Driver) {
	first := randomBytes(3<<20, 3)
	second := randomBytes(2<<20+7, 4)
	put(t, d, "upload", first)

	w, err := d.Writer(t.Context(), "upload", int64(len(first)))
	if err != nil {
		t.Fatalf("Writer at %d: %v", len(first), err)
	}
	if _, err := w.Write(second); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if err := w.Commit(t.Context()); err != nil {
		t.Fatalf("Commit: %v", err)
	}

	assertContent(t, d, "upload", append(first, second...))
}

func testWriterDiscardsPastOffset(t *testing.T, d storage.Driver) {
	put(t, d, "k", []byte("hello garbage"))

	w, err := d.Writer(t.Context(), "k", 5)
	if err != nil {
		t.Fatalf("Writer at 5: %v", err)
	}
	if _, err := w.Write([]byte(" world")); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if err := w.Commit(t.Context()); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	assertContent(t, d, "k", []byte("hello world"))

	w, err = d.Writer(t.Context(), "k", 5)
	if err != nil {
		t.Fatalf("second Writer at 5: %v", err)
	}
	if err := w.Commit(t.Context()); err != nil {
		t.Fatalf("Commit with no writes: %v", err)
	}
	assertContent(t, d, "k", []byte("hello"))
}

func testWriterOffsetBeyondSize(t *testing.T, d storage.Driver) {
	put(t, d, "k", []byte("abc"))

	_, err := d.Writer(t.Context(), "k", 4)
	assertErrorIs(t, "Writer at size+1", err, storage.ErrInvalidOffset)
	assertContent(t, d, "k", []byte("abc"))

	w, err := d.Writer(t.Context(), "k", 3)
	if err != nil {
		t.Fatalf("Writer at size: %v", err)
	}
	if err := w.Commit(t.Context()); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	assertContent(t, d, "k", []byte("abc"))
}

func testWriterOffsetOnMissingKey(t *testing.T, d storage.Driver) {
	_, err := d.Writer(t.Context(), "missing", 1)
	assertErrorIs(t, "Writer at offset 1 on a missing key", err, storage.ErrNotFound)
	assertMissing(t, d, "missing")
}

func testWriterTruncatesAtZero(t *testing.T, d storage.Driver) {
	put(t, d, "k", []byte("long content"))
	put(t, d, "k", []byte("short"))
	assertContent(t, d, "k", []byte("short"))
}

func testCancelAtZero(t *testing.T, d storage.Driver) {
	put(t, d, "existing", []byte("old"))

	for _, key := range []string{"new/key", "existing"} {
		w, err := d.Writer(t.Context(), key, 0)
		if err != nil {
			t.Fatalf("Writer(%q): %v", key, err)
		}
		if _, err := w.Write(randomBytes(2<<20, 5)); err != nil {
			t.Fatalf("Write: %v", err)
		}
		if err := w.Cancel(t.Context()); err != nil {
			t.Fatalf("Cancel: %v", err)
		}
		assertMissing(t, d, key)
	}
	if keys := walkKeys(t, d, ""); len(keys) != 0 {
		t.Errorf("Walk after cancelling every write = %q, want no keys", keys)
	}
}

func testCancelAtOffset(t *testing.T, d storage.Driver) {
	put(t, d, "k", []byte("abc"))

	w, err := d.Writer(t.Context(), "k", 3)
	if err != nil {
		t.Fatalf("Writer at 3: %v", err)
	}
	if _, err := w.Write(randomBytes(2<<20, 6)); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if err := w.Cancel(t.Context()); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	assertContent(t, d, "k", []byte("abc"))
}

func testCloseWithoutCommit(t *testing.T, d storage.Driver) {
	put(t, d, "k", []byte("abc"))

	w, err := d.Writer(t.Context(), "k", 3)
	if err != nil {
		t.Fatalf("Writer at 3: %v", err)
	}
	if _, err := w.Write([]byte("def")); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	w, err = d.Writer(t.Context(), "k", 3)
	if err != nil {
		t.Fatalf("Writer at the committed offset after Close: %v", err)
	}
	if _, err := w.Write([]byte("XYZ")); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if err := w.Commit(t.Context()); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	assertContent(t, d, "k", []byte("abcXYZ"))
}

func testWriterAfterCommit(t *testing.T, d storage.Driver) {
	w, err := d.Writer(t.Context(), "k", 0)
	if err != nil {
		t.Fatalf("Writer: %v", err)
	}
	if err := w.Commit(t.Context()); err != nil {
		t.Fatalf("Commit: %v", err)
	}

	if _, err := w.Write([]byte("x")); err == nil {
		t.Error("Write after Commit succeeded, want an error")
	}
	if err := w.Commit(t.Context()); err == nil {
		t.Error("second Commit succeeded, want an error")
	}
	if err := w.Cancel(t.Context()); err == nil {
		t.Error("Cancel after Commit succeeded, want an error")
	}
	if err := w.Close(); err != nil {
		t.Errorf("Close after Commit = %v, want nil", err)
	}
	assertContent(t, d, "k", []byte{})
}

func testNegativeOffsets(t *testing.T, d storage.Driver) {
	put(t, d, "k", []byte("abc"))

	_, err := d.Reader(t.Context(), "k", -1)
	assertErrorIs(t, "Reader at -1", err, storage.ErrInvalidOffset)
	_, err = d.Writer(t.Context(), "k", -1)
	assertErrorIs(t, "Writer at -1", err, storage.ErrInvalidOffset)
	assertContent(t, d, "k", []byte("abc"))
}
