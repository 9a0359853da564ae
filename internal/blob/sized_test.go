package blob_test

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/cofferhq/coffer/internal/blob"
	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata/sqlite"
	"github.com/cofferhq/coffer/internal/storage"
	"github.com/cofferhq/coffer/internal/storage/memory"
)

// sizedDriver records how each writer of an upload key was opened:
// "sized N" through SizedWriter, "at N" through Writer at offset N.
type sizedDriver struct {
	*memory.Driver
	mu     sync.Mutex
	opened []string
}

func (d *sizedDriver) record(s string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.opened = append(d.opened, s)
}

func (d *sizedDriver) Writer(ctx context.Context, key string, offset int64) (storage.Writer, error) {
	if strings.HasPrefix(key, "uploads/") {
		d.record("at " + strconv.FormatInt(offset, 10))
	}
	return d.Driver.Writer(ctx, key, offset)
}

func (d *sizedDriver) SizedWriter(ctx context.Context, key string, size int64) (storage.Writer, error) {
	if strings.HasPrefix(key, "uploads/") {
		d.record("sized " + strconv.FormatInt(size, 10))
	}
	return d.Driver.Writer(ctx, key, 0)
}

// TestUploadFirstChunkOfKnownSize checks that a session's first chunk of a
// known size opens a sized writer, so that a driver can store it in one
// request, while later chunks and chunks of unknown size continue the
// content with Writer.
func TestUploadFirstChunkOfKnownSize(t *testing.T) {
	meta, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatalf("open sqlite store: %v", err)
	}
	t.Cleanup(func() { _ = meta.Close() })
	driver := &sizedDriver{Driver: memory.New()}
	s := blob.New(driver, meta)
	ctx := t.Context()
	data := []byte("a monolithic push, then a chunked one")

	// A monolithic push: the whole body arrives with the commit.
	u, err := s.StartUpload(ctx, "repo")
	if err != nil {
		t.Fatalf("start upload: %v", err)
	}
	d := digest.SHA256.FromBytes(data)
	if _, _, err := s.Commit(ctx, u.ID, d, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatalf("monolithic commit: %v", err)
	}

	// A chunked push: a first chunk of known size, then one of unknown size.
	other := []byte("another blob in two chunks")
	u, err = s.StartUpload(ctx, "repo")
	if err != nil {
		t.Fatalf("start upload: %v", err)
	}
	if _, err := s.Append(ctx, u.ID, 0, bytes.NewReader(other[:10]), 10); err != nil {
		t.Fatalf("append the first chunk: %v", err)
	}
	if _, err := s.Append(ctx, u.ID, 10, bytes.NewReader(other[10:]), -1); err != nil {
		t.Fatalf("append the second chunk: %v", err)
	}
	od := digest.SHA256.FromBytes(other)
	if _, _, err := s.Commit(ctx, u.ID, od, nil, 0); err != nil {
		t.Fatalf("chunked commit: %v", err)
	}

	want := []string{"sized " + strconv.Itoa(len(data)), "sized 10", "at 10"}
	if !slices.Equal(driver.opened, want) {
		t.Errorf("upload writers opened = %q, want %q", driver.opened, want)
	}
	for _, c := range []struct {
		d    digest.Digest
		data []byte
	}{{d, data}, {od, other}} {
		got, err := readRange(t, s, c.d, int64(len(c.data)), 0, int64(len(c.data)))
		if err != nil || !bytes.Equal(got, c.data) {
			t.Errorf("read %s = %q, %v; want %q", c.d, got, err, c.data)
		}
	}
}
