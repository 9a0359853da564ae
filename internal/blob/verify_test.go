package blob_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"testing/iotest"

	"github.com/cofferhq/coffer/internal/blob"
	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata/sqlite"
	"github.com/cofferhq/coffer/internal/storage"
	"github.com/cofferhq/coffer/internal/storage/memory"
)

// newStore returns a blob store on the memory driver with upload state in
// a new SQLite database, and the driver and database for direct access.
func newStore(t *testing.T) (*blob.Store, *memory.Driver, *sqlite.Store) {
	t.Helper()
	meta, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatalf("open sqlite store: %v", err)
	}
	t.Cleanup(func() { _ = meta.Close() })
	driver := memory.New()
	return blob.New(driver, meta), driver, meta
}

// storeBlob uploads data in one chunk and commits it under its digest with
// algorithm a.
func storeBlob(t *testing.T, s *blob.Store, a digest.Algorithm, data []byte) digest.Digest {
	t.Helper()
	ctx := t.Context()
	u, err := s.StartUpload(ctx, "repo")
	if err != nil {
		t.Fatalf("start upload: %v", err)
	}
	if _, err := s.Append(ctx, u.ID, 0, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatalf("append: %v", err)
	}
	d := a.FromBytes(data)
	size, _, err := s.Commit(ctx, u.ID, d, nil, 0)
	if err != nil {
		t.Fatalf("commit %s: %v", d, err)
	}
	if size != int64(len(data)) {
		t.Fatalf("commit %s: size %d, want %d", d, size, len(data))
	}
	return d
}

// overwrite replaces the stored content of key.
func overwrite(t *testing.T, driver storage.Driver, key string, data []byte) {
	t.Helper()
	ctx := context.Background()
	w, err := driver.Writer(ctx, key, 0)
	if err != nil {
		t.Fatalf("open %s for writing: %v", key, err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatalf("write %s: %v", key, err)
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatalf("commit %s: %v", key, err)
	}
}

func readRange(t *testing.T, s *blob.Store, d digest.Digest, size, start, length int64) ([]byte, error) {
	t.Helper()
	rc, err := s.Open(t.Context(), d, size, start, length)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

func TestOpenRanges(t *testing.T) {
	for _, a := range []digest.Algorithm{digest.SHA256, digest.SHA512} {
		s, _, _ := newStore(t)
		data := []byte("0123456789abcdef")
		d := storeBlob(t, s, a, data)
		size := int64(len(data))
		for _, r := range []struct{ start, length int64 }{{0, 16}, {0, 1}, {2, 5}, {15, 1}, {10, 6}, {16, 0}, {3, 0}} {
			got, err := readRange(t, s, d, size, r.start, r.length)
			if err != nil {
				t.Errorf("%s range %d+%d: %v", a, r.start, r.length, err)
				continue
			}
			if want := data[r.start : r.start+r.length]; !bytes.Equal(got, want) {
				t.Errorf("%s range %d+%d = %q, want %q", a, r.start, r.length, got, want)
			}
		}
		if n := s.CorruptReads(); n != 0 {
			t.Errorf("%s: CorruptReads = %d after clean reads", a, n)
		}
	}
}

func TestOpenRejects(t *testing.T) {
	s, _, _ := newStore(t)
	d := storeBlob(t, s, digest.SHA256, []byte("0123456789"))
	for _, r := range []struct{ start, length int64 }{{-1, 2}, {0, -1}, {5, 6}, {11, 0}} {
		if _, err := s.Open(t.Context(), d, 10, r.start, r.length); !errors.Is(err, blob.ErrInvalidRange) {
			t.Errorf("Open range %d+%d: %v, want ErrInvalidRange", r.start, r.length, err)
		}
	}
	missing := digest.SHA256.FromBytes([]byte("missing"))
	if _, err := s.Open(t.Context(), missing, 7, 0, 7); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Open missing blob: %v, want ErrNotFound", err)
	}
	if _, err := s.Stat(t.Context(), missing); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat missing blob: %v, want ErrNotFound", err)
	}
	if size, err := s.Stat(t.Context(), d); err != nil || size != 10 {
		t.Errorf("Stat = %d, %v; want 10", size, err)
	}
}

// TestOpenCorrupt checks that a stored blob that no longer matches its
// digest fails with ErrDigestMismatch before the reader returns the last
// byte of the requested range.
func TestOpenCorrupt(t *testing.T) {
	data := []byte("the original stored content")
	size := int64(len(data))
	corruptions := []struct {
		name   string
		stored []byte
	}{
		{"flipped byte", append([]byte("The"), data[3:]...)},
		{"flipped last byte", append(bytes.Clone(data[:size-1]), 'X')},
		{"truncated", data[:size-4]},
		{"extended", append(bytes.Clone(data), "more"...)},
	}
	ranges := []struct{ start, length int64 }{{0, size}, {0, 5}, {4, 10}, {size - 3, 3}}
	for _, c := range corruptions {
		for _, r := range ranges {
			s, driver, _ := newStore(t)
			d := storeBlob(t, s, digest.SHA256, data)
			overwrite(t, driver, blob.Key(d), c.stored)

			rc, err := s.Open(t.Context(), d, size, r.start, r.length)
			if err != nil {
				t.Fatalf("%s: open: %v", c.name, err)
			}
			// One byte per read, so every byte the reader releases is seen.
			got, err := io.ReadAll(iotest.OneByteReader(rc))
			rc.Close()
			if !errors.Is(err, blob.ErrDigestMismatch) {
				t.Errorf("%s, range %d+%d: read error %v, want ErrDigestMismatch", c.name, r.start, r.length, err)
			}
			if int64(len(got)) >= r.length {
				t.Errorf("%s, range %d+%d: reader returned all %d bytes (%q) of a corrupt blob", c.name, r.start, r.length, len(got), got)
			}
			if n := s.CorruptReads(); n != 1 {
				t.Errorf("%s, range %d+%d: CorruptReads = %d, want 1", c.name, r.start, r.length, n)
			}
		}
	}
}

func TestOpenCorruptSHA512(t *testing.T) {
	s, driver, _ := newStore(t)
	data := []byte("sha512 content")
	d := storeBlob(t, s, digest.SHA512, data)
	if got := blob.Key(d); got != "blobs/sha512/"+d.Encoded()[:2]+"/"+d.Encoded() {
		t.Errorf("Key(%s) = %q", d, got)
	}
	overwrite(t, driver, blob.Key(d), []byte("SHA512 content"))
	got, err := readRange(t, s, d, int64(len(data)), 0, int64(len(data)))
	if !errors.Is(err, blob.ErrDigestMismatch) || len(got) != 0 {
		t.Errorf("read corrupt sha512 blob = %q, %v; want no bytes and ErrDigestMismatch", got, err)
	}
}

// TestCommitRepairsCorruptBlob uploads a blob again after its stored copy
// went bad. Pushing the content again is how a client repairs a blob, so
// the commit must replace a copy that no longer matches its digest instead
// of keeping it.
func TestCommitRepairsCorruptBlob(t *testing.T) {
	data := []byte("content pushed twice")
	for _, c := range []struct {
		name   string
		stored []byte
	}{
		{"same length", bytes.ToUpper(data)},
		{"truncated", data[:5]},
	} {
		s, driver, _ := newStore(t)
		d := storeBlob(t, s, digest.SHA256, data)
		overwrite(t, driver, blob.Key(d), c.stored)

		storeBlob(t, s, digest.SHA256, data)
		got, err := readRange(t, s, d, int64(len(data)), 0, int64(len(data)))
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("%s: read after a second push = %q, %v; want the pushed content", c.name, got, err)
		}
	}
}

// TestOpenLargeReadAhead reads blobs large enough to be read ahead: an
// intact one returns every byte, and a corrupt one never returns its last
// byte.
func TestOpenLargeReadAhead(t *testing.T) {
	data := make([]byte, 9<<20+5)
	_, _ = rand.NewChaCha8([32]byte{9}).Read(data)
	size := int64(len(data))

	s, driver, _ := newStore(t)
	d := storeBlob(t, s, digest.SHA256, data)
	got, err := readRange(t, s, d, size, 0, size)
	if err != nil {
		t.Fatalf("read intact blob: %v", err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes that differ from the %d stored", len(got), size)
	}

	for _, at := range []int64{0, size / 2, size - 1} {
		corrupt := bytes.Clone(data)
		corrupt[at] ^= 0x01
		overwrite(t, driver, blob.Key(d), corrupt)
		got, err := readRange(t, s, d, size, 0, size)
		if !errors.Is(err, blob.ErrDigestMismatch) {
			t.Errorf("byte %d flipped: read error %v, want ErrDigestMismatch", at, err)
		}
		if int64(len(got)) >= size {
			t.Errorf("byte %d flipped: the reader returned all %d bytes of a corrupt blob", at, len(got))
		}
	}
}
