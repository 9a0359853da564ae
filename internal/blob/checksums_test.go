package blob_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"

	"github.com/cofferhq/coffer/internal/blob"
	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata/sqlite"
	"github.com/cofferhq/coffer/internal/storage"
	"github.com/cofferhq/coffer/internal/storage/memory"
)

// testChunkSize is the chunk size of the stores in these tests.
const testChunkSize = 4096

// countingDriver counts the bytes read from each key.
type countingDriver struct {
	storage.Driver
	mu    sync.Mutex
	reads map[string]*atomic.Int64
}

func (c *countingDriver) Reader(ctx context.Context, key string, offset int64) (io.ReadCloser, error) {
	rc, err := c.Driver.Reader(ctx, key, offset)
	if err != nil {
		return nil, err
	}
	return &countingReader{ReadCloser: rc, count: c.counter(key)}, nil
}

func (c *countingDriver) counter(key string) *atomic.Int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reads[key] == nil {
		c.reads[key] = new(atomic.Int64)
	}
	return c.reads[key]
}

// bytesRead returns the bytes read from key since the last call, and
// resets the count.
func (c *countingDriver) bytesRead(key string) int64 {
	return c.counter(key).Swap(0)
}

type countingReader struct {
	io.ReadCloser
	count *atomic.Int64
}

func (r *countingReader) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	r.count.Add(int64(n))
	return n, err
}

// chunkedStore returns a blob store with testChunkSize chunks over a
// counting memory driver, and that driver.
func chunkedStore(t *testing.T) (*blob.Store, *countingDriver) {
	t.Helper()
	meta, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatalf("open sqlite store: %v", err)
	}
	t.Cleanup(func() { _ = meta.Close() })
	driver := &countingDriver{Driver: memory.New(), reads: map[string]*atomic.Int64{}}
	s := blob.New(driver, meta)
	s.SetChunkSize(testChunkSize)
	return s, driver
}

// randomBytes returns n bytes from a fixed seed.
func randomBytes(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	return data
}

// readOneByte reads the range one byte per Read, so that every byte the
// reader releases before an error is seen.
func readOneByte(t *testing.T, s *blob.Store, d digest.Digest, size, start, length int64) ([]byte, error) {
	t.Helper()
	rc, err := s.Open(t.Context(), d, size, start, length)
	if err != nil {
		t.Fatalf("open range %d+%d: %v", start, length, err)
	}
	defer rc.Close()
	return io.ReadAll(iotest.OneByteReader(rc))
}

func TestChunkedRangesExact(t *testing.T) {
	s, _ := chunkedStore(t)
	data := randomBytes(5*testChunkSize + 100)
	size := int64(len(data))
	d := storeBlob(t, s, digest.SHA256, data)

	ranges := []struct{ start, length int64 }{
		{0, 1},                         // first byte
		{size - 1, 1},                  // last byte
		{testChunkSize, testChunkSize}, // exactly one chunk
		{testChunkSize - 1, 2},         // across a chunk boundary
		{testChunkSize - 1, 2*testChunkSize + 2},
		{2 * testChunkSize, 1},   // first byte of a chunk
		{3*testChunkSize - 1, 1}, // last byte of a chunk
		{5 * testChunkSize, 100}, // the short last chunk
		{0, size - 1},
		{1, size - 1},
		{4*testChunkSize + 17, size - 4*testChunkSize - 17},
	}
	for _, r := range ranges {
		got, err := readRange(t, s, d, size, r.start, r.length)
		if err != nil {
			t.Errorf("range %d+%d: %v", r.start, r.length, err)
			continue
		}
		if want := data[r.start : r.start+r.length]; !bytes.Equal(got, want) {
			t.Errorf("range %d+%d: got %d bytes that differ from the stored content", r.start, r.length, len(got))
		}
	}
	if n := s.CorruptReads(); n != 0 {
		t.Errorf("CorruptReads = %d after clean reads, want 0", n)
	}
}

// TestChunkedRangeReadsOnlyCover checks that a ranged read of a blob with
// stored checksums reads the chunks that cover the range and nothing else.
func TestChunkedRangeReadsOnlyCover(t *testing.T) {
	s, driver := chunkedStore(t)
	data := randomBytes(64 * testChunkSize)
	size := int64(len(data))
	d := storeBlob(t, s, digest.SHA256, data)
	driver.bytesRead(blob.Key(d))

	// The first ranged read has no checksums yet: it reads the whole blob
	// once to verify the digest and compute them.
	if _, err := readRange(t, s, d, size, 5000, 8192); err != nil {
		t.Fatalf("first ranged read: %v", err)
	}
	if got, want := driver.bytesRead(blob.Key(d)), size+3*testChunkSize; got != want {
		t.Errorf("first ranged read read %d bytes of the blob, want %d (whole blob, then chunks 1-3)", got, want)
	}

	// Later ranged reads, also from a new store over the same storage as
	// after a restart, read only chunks 1-3.
	fresh := blob.New(driver, nil)
	fresh.SetChunkSize(testChunkSize)
	for name, store := range map[string]*blob.Store{"same store": s, "new store": fresh} {
		got, err := readRange(t, store, d, size, 5000, 8192)
		if err != nil {
			t.Fatalf("%s: ranged read: %v", name, err)
		}
		if !bytes.Equal(got, data[5000:5000+8192]) {
			t.Errorf("%s: ranged read returned other bytes", name)
		}
		if got, want := driver.bytesRead(blob.Key(d)), int64(3*testChunkSize); got != want {
			t.Errorf("%s: ranged read read %d bytes of the blob, want %d", name, got, want)
		}
	}

	// A whole read still reads and hashes everything.
	if _, err := readRange(t, s, d, size, 0, size); err != nil {
		t.Fatalf("whole read: %v", err)
	}
	if got := driver.bytesRead(blob.Key(d)); got != size {
		t.Errorf("whole read read %d bytes, want %d", got, size)
	}
}

// TestChunkedConcurrentComputeOnce checks that concurrent ranged reads of
// a blob without checksums read the whole blob only once between them.
func TestChunkedConcurrentComputeOnce(t *testing.T) {
	s, driver := chunkedStore(t)
	data := randomBytes(32 * testChunkSize)
	size := int64(len(data))
	d := storeBlob(t, s, digest.SHA256, data)
	driver.bytesRead(blob.Key(d))

	const readers = 8
	var wg sync.WaitGroup
	errs := make([]error, readers)
	for i := range readers {
		wg.Go(func() {
			start := int64(i) * testChunkSize
			got, err := readRange(t, s, d, size, start, testChunkSize)
			if err == nil && !bytes.Equal(got, data[start:start+testChunkSize]) {
				err = errors.New("returned other bytes")
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("reader %d: %v", i, err)
		}
	}
	if got, want := driver.bytesRead(blob.Key(d)), size+readers*testChunkSize; got != want {
		t.Errorf("concurrent ranged reads read %d bytes of the blob, want %d (one whole read and one chunk each)", got, want)
	}
}

// TestChunkedCorruptInsideRange corrupts one chunk after the checksums were
// stored: a range that covers it fails without returning that chunk's
// bytes, and a range that does not cover it is still served.
func TestChunkedCorruptInsideRange(t *testing.T) {
	data := randomBytes(8 * testChunkSize)
	size := int64(len(data))
	damaged := bytes.Clone(data)
	damaged[3*testChunkSize+10] ^= 0x01 // inside chunk 3

	for _, r := range []struct{ start, length int64 }{
		{3*testChunkSize + 10, 1},
		{3 * testChunkSize, testChunkSize},
		{testChunkSize, 4 * testChunkSize},
		{3*testChunkSize - 1, 2},
	} {
		s, driver := chunkedStore(t)
		d := storeBlob(t, s, digest.SHA256, data)
		if _, err := readRange(t, s, d, size, 0, 1); err != nil {
			t.Fatalf("ranged read before the damage: %v", err)
		}
		overwrite(t, driver, blob.Key(d), damaged)

		got, err := readOneByte(t, s, d, size, r.start, r.length)
		if !errors.Is(err, blob.ErrDigestMismatch) {
			t.Errorf("range %d+%d: error %v, want ErrDigestMismatch", r.start, r.length, err)
		}
		// Only the bytes of the verified chunks before chunk 3 may arrive.
		if want := max(0, 3*testChunkSize-r.start); int64(len(got)) != want {
			t.Errorf("range %d+%d: returned %d bytes, want %d (the range up to chunk 3)", r.start, r.length, len(got), want)
		}
		if !bytes.Equal(got, data[r.start:r.start+int64(len(got))]) {
			t.Errorf("range %d+%d: returned bytes differ from the original content", r.start, r.length)
		}
		if n := s.CorruptReads(); n != 1 {
			t.Errorf("range %d+%d: CorruptReads = %d, want 1", r.start, r.length, n)
		}
	}
}

func TestChunkedCorruptOutsideRange(t *testing.T) {
	s, driver := chunkedStore(t)
	data := randomBytes(8 * testChunkSize)
	size := int64(len(data))
	d := storeBlob(t, s, digest.SHA256, data)
	if _, err := readRange(t, s, d, size, 0, 1); err != nil {
		t.Fatalf("ranged read before the damage: %v", err)
	}
	damaged := bytes.Clone(data)
	damaged[6*testChunkSize] ^= 0x80
	overwrite(t, driver, blob.Key(d), damaged)

	// Ranged reads verify only the chunks they cover.
	got, err := readRange(t, s, d, size, testChunkSize, 2*testChunkSize)
	if err != nil {
		t.Fatalf("range outside the damage: %v", err)
	}
	if !bytes.Equal(got, data[testChunkSize:3*testChunkSize]) {
		t.Errorf("range outside the damage returned other bytes")
	}
	// A whole read checks the digest.
	got, err = readOneByte(t, s, d, size, 0, size)
	if !errors.Is(err, blob.ErrDigestMismatch) {
		t.Errorf("whole read: error %v, want ErrDigestMismatch", err)
	}
	if int64(len(got)) >= size {
		t.Errorf("whole read returned all %d bytes of a corrupt blob", len(got))
	}
}

// TestChunkedCorruptBeforeChecksums checks that a blob damaged before its
// checksums were computed fails its first ranged read and gets no
// checksums.
func TestChunkedCorruptBeforeChecksums(t *testing.T) {
	data := randomBytes(8 * testChunkSize)
	size := int64(len(data))
	for name, stored := range map[string][]byte{
		"flipped byte": append(bytes.Clone(data[:size-1]), data[size-1]^0xff),
		"truncated":    data[:size-10],
		"extended":     append(bytes.Clone(data), 'x'),
	} {
		s, driver := chunkedStore(t)
		d := storeBlob(t, s, digest.SHA256, data)
		overwrite(t, driver, blob.Key(d), stored)

		got, err := readOneByte(t, s, d, size, 10, 100)
		if !errors.Is(err, blob.ErrDigestMismatch) {
			t.Errorf("%s: error %v, want ErrDigestMismatch", name, err)
		}
		if len(got) != 0 {
			t.Errorf("%s: returned %d bytes, want none", name, len(got))
		}
		if _, err := driver.Stat(t.Context(), blob.ChecksumsKey(d)); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("%s: checksums of a corrupt blob: stat error %v, want ErrNotFound", name, err)
		}
		if n := s.CorruptReads(); n != 1 {
			t.Errorf("%s: CorruptReads = %d, want 1", name, n)
		}
	}
}

func TestChunkedTruncatedAfterChecksums(t *testing.T) {
	s, driver := chunkedStore(t)
	data := randomBytes(8 * testChunkSize)
	size := int64(len(data))
	d := storeBlob(t, s, digest.SHA256, data)
	if _, err := readRange(t, s, d, size, 0, 1); err != nil {
		t.Fatalf("ranged read before the damage: %v", err)
	}
	overwrite(t, driver, blob.Key(d), data[:size-1])

	got, err := readOneByte(t, s, d, size, 6*testChunkSize, 2*testChunkSize)
	if !errors.Is(err, blob.ErrDigestMismatch) {
		t.Errorf("error %v, want ErrDigestMismatch", err)
	}
	if want := testChunkSize; len(got) != want {
		t.Errorf("returned %d bytes, want %d (chunk 6 only)", len(got), want)
	}
}

func TestChunkedTruncatedBeforeRange(t *testing.T) {
	s, driver := chunkedStore(t)
	data := randomBytes(8 * testChunkSize)
	size := int64(len(data))
	d := storeBlob(t, s, digest.SHA256, data)
	if _, err := readRange(t, s, d, size, 0, 1); err != nil {
		t.Fatalf("ranged read before the damage: %v", err)
	}
	overwrite(t, driver, blob.Key(d), data[:2*testChunkSize])

	got, err := readOneByte(t, s, d, size, 6*testChunkSize, 10)
	if !errors.Is(err, blob.ErrDigestMismatch) {
		t.Errorf("error %v, want ErrDigestMismatch", err)
	}
	if len(got) != 0 {
		t.Errorf("returned %d bytes, want none", len(got))
	}
	if n := s.CorruptReads(); n != 1 {
		t.Errorf("CorruptReads = %d, want 1", n)
	}
}

// TestChunkedDamagedChecksums checks that a damaged sidecar is computed
// again from a verified whole read instead of being trusted.
func TestChunkedDamagedChecksums(t *testing.T) {
	data := randomBytes(8 * testChunkSize)
	size := int64(len(data))
	for name, damage := range map[string]func([]byte) []byte{
		"flipped checksum": func(b []byte) []byte { b[len(b)-8] ^= 1; return b },
		"truncated":        func(b []byte) []byte { return b[:len(b)-5] },
		"empty":            func([]byte) []byte { return nil },
		"other blob":       func([]byte) []byte { return []byte("coffer-crc32c-v1 not a sidecar at all") },
	} {
		s, driver := chunkedStore(t)
		d := storeBlob(t, s, digest.SHA256, data)
		if _, err := readRange(t, s, d, size, 0, 1); err != nil {
			t.Fatalf("%s: first ranged read: %v", name, err)
		}
		key := blob.ChecksumsKey(d)
		sidecar, err := readKey(t, driver, key)
		if err != nil {
			t.Fatalf("%s: read sidecar: %v", name, err)
		}
		overwrite(t, driver, key, damage(bytes.Clone(sidecar)))
		driver.bytesRead(blob.Key(d))

		got, err := readRange(t, s, d, size, testChunkSize, 10)
		if err != nil || !bytes.Equal(got, data[testChunkSize:testChunkSize+10]) {
			t.Errorf("%s: ranged read = %d bytes, %v; want the stored bytes", name, len(got), err)
		}
		if got, want := driver.bytesRead(blob.Key(d)), size+testChunkSize; got != want {
			t.Errorf("%s: read %d bytes of the blob, want %d (a verified whole read, then one chunk)", name, got, want)
		}
		if repaired, err := readKey(t, driver, key); err != nil || !bytes.Equal(repaired, sidecar) {
			t.Errorf("%s: sidecar after the read differs from the original (%v)", name, err)
		}
	}
}

func TestDeleteRemovesChecksums(t *testing.T) {
	s, driver := chunkedStore(t)
	data := randomBytes(4 * testChunkSize)
	d := storeBlob(t, s, digest.SHA256, data)
	if _, err := readRange(t, s, d, int64(len(data)), 1, 1); err != nil {
		t.Fatalf("ranged read: %v", err)
	}
	if err := s.Delete(t.Context(), d); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := driver.Stat(t.Context(), blob.ChecksumsKey(d)); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("checksums after delete: stat error %v, want ErrNotFound", err)
	}
}

func readKey(t *testing.T, driver storage.Driver, key string) ([]byte, error) {
	t.Helper()
	rc, err := driver.Reader(t.Context(), key, 0)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}
