package s3

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cofferhq/coffer/internal/storage"
	"github.com/cofferhq/coffer/internal/telemetry"
)

// driverTests are the behaviours of this driver beyond the storage
// contract. Each runs with a new, empty bucket.
var driverTests = []struct {
	name string
	run  func(t *testing.T, b testBackend, bucket string)
}{
	{"KeysBelowPrefix", testKeysBelowPrefix},
	{"WalkSkipsForeignObjects", testWalkSkipsForeignObjects},
	{"WriterStreamsParts", testWriterStreamsParts},
	{"CancelAbortsUpload", testCancelAbortsUpload},
	{"WriterCopiesBase", testWriterCopiesBase},
	{"CloseKeepsCommittedContent", testCloseKeepsCommittedContent},
	{"MoveInParts", testMoveInParts},
	{"DeleteManyKeys", testDeleteManyKeys},
	{"NewChecksBucket", testNewChecksBucket},
	{"PresignGet", testPresignGet},
}

func testKeysBelowPrefix(t *testing.T, b testBackend, bucket string) {
	withPrefix := newBucketDriver(t, b, bucket, "/coffer/data/")
	withoutPrefix := newBucketDriver(t, b, bucket, "")
	put(t, withPrefix, "a/b", []byte("1"))
	put(t, withoutPrefix, "top", []byte("2"))

	if got, want := b.objectNames(t, bucket), []string{"coffer/data/a/b", "top"}; !slices.Equal(got, want) {
		t.Errorf("object names = %q, want %q", got, want)
	}
	if got, want := walkKeys(t, withPrefix, ""), []string{"a/b"}; !slices.Equal(got, want) {
		t.Errorf("Walk with prefix = %q, want %q", got, want)
	}
}

func testWalkSkipsForeignObjects(t *testing.T, b testBackend, bucket string) {
	d := newBucketDriver(t, b, bucket, testPrefix)
	put(t, d, "dir/key", []byte("x"))
	b.putObject(t, bucket, testPrefix+"/dir/not a key", []byte("y"))
	b.putObject(t, bucket, "elsewhere/key", []byte("z"))

	if got, want := walkKeys(t, d, ""), []string{"dir/key"}; !slices.Equal(got, want) {
		t.Errorf("Walk = %q, want %q", got, want)
	}
}

func testWriterStreamsParts(t *testing.T, b testBackend, bucket string) {
	d := newBucketDriver(t, b, bucket, testPrefix)
	// Three parts: 8 MiB, 8 MiB and the rest.
	content := randomBytes(2*firstPartSize+12345, 1)

	w, err := d.Writer(t.Context(), "big", 0)
	if err != nil {
		t.Fatalf("Writer: %v", err)
	}
	writeInChunks(t, w, content, 1<<20+1)
	var logs bytes.Buffer
	ctx := telemetry.WithLogger(t.Context(), slog.New(slog.NewTextHandler(&logs, nil)))
	if err := w.Commit(ctx); err != nil {
		t.Fatalf("Commit: %v", err)
	}

	assertContent(t, d, "big", content)
	assertNoUploads(t, b, bucket)
	want := fmt.Sprintf(`msg="s3 multipart upload completed" key=%s/big parts=3 bytes=%d`, testPrefix, len(content))
	if !strings.Contains(logs.String(), want) {
		t.Errorf("log = %q, want a line with %q", logs.String(), want)
	}
}

func testCancelAbortsUpload(t *testing.T, b testBackend, bucket string) {
	d := newBucketDriver(t, b, bucket, testPrefix)
	put(t, d, "k", []byte("old"))

	w, err := d.Writer(t.Context(), "k", 0)
	if err != nil {
		t.Fatalf("Writer: %v", err)
	}
	writeInChunks(t, w, randomBytes(firstPartSize+1, 2), 1<<20)
	if err := w.Cancel(t.Context()); err != nil {
		t.Fatalf("Cancel: %v", err)
	}

	if _, err := d.Stat(t.Context(), "k"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Stat after Cancel at offset 0 = %v, want ErrNotFound", err)
	}
	assertNoUploads(t, b, bucket)
}

// testWriterCopiesBase continues a key past 5 MiB, where the writer copies
// the committed content as parts of at most maxCopyPart bytes.
func testWriterCopiesBase(t *testing.T, b testBackend, bucket string) {
	d := newBucketDriver(t, b, bucket, testPrefix)
	d.maxCopyPart = 2 * minPartSize // 12 MiB of base become two parts of 6 MiB
	base := randomBytes(12<<20, 3)
	put(t, d, "k", append(slices.Clone(base), "bytes past the offset"...))

	// Two copied parts, then 8 MiB and the rest of the written bytes.
	more := randomBytes(firstPartSize+777, 4)
	w, err := d.Writer(t.Context(), "k", int64(len(base)))
	if err != nil {
		t.Fatalf("Writer at %d: %v", len(base), err)
	}
	writeInChunks(t, w, more, 1<<20)
	if got, want := w.Size(), int64(len(base)+len(more)); got != want {
		t.Errorf("Size = %d, want %d", got, want)
	}
	if err := w.Commit(t.Context()); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	assertContent(t, d, "k", append(slices.Clone(base), more...))

	// Committing nothing at the offset cuts the content back to it.
	w, err = d.Writer(t.Context(), "k", int64(len(base)))
	if err != nil {
		t.Fatalf("second Writer at %d: %v", len(base), err)
	}
	if err := w.Commit(t.Context()); err != nil {
		t.Fatalf("Commit with no writes: %v", err)
	}
	assertContent(t, d, "k", base)
	assertNoUploads(t, b, bucket)
}

func testCloseKeepsCommittedContent(t *testing.T, b testBackend, bucket string) {
	d := newBucketDriver(t, b, bucket, testPrefix)
	d.maxCopyPart = 2 * minPartSize
	base := randomBytes(6<<20, 5)
	put(t, d, "k", base)

	for _, offset := range []int64{1 << 20, int64(len(base))} {
		w, err := d.Writer(t.Context(), "k", offset)
		if err != nil {
			t.Fatalf("Writer at %d: %v", offset, err)
		}
		writeInChunks(t, w, randomBytes(firstPartSize+1, 6), 1<<20)
		if err := w.Close(); err != nil {
			t.Fatalf("Close of writer at %d: %v", offset, err)
		}
		assertContent(t, d, "k", base)
	}
	assertNoUploads(t, b, bucket)
}

// testMoveInParts moves an object larger than maxCopyPart, which takes a
// multipart copy.
func testMoveInParts(t *testing.T, b testBackend, bucket string) {
	d := newBucketDriver(t, b, bucket, testPrefix)
	d.maxCopyPart = 2 * minPartSize
	content := randomBytes(25<<20, 7)
	put(t, d, "uploads/1", content)

	if err := d.Move(t.Context(), "uploads/1", "blobs/x"); err != nil {
		t.Fatalf("Move: %v", err)
	}

	assertContent(t, d, "blobs/x", content)
	if _, err := d.Stat(t.Context(), "uploads/1"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Stat of the source after Move = %v, want ErrNotFound", err)
	}
	assertNoUploads(t, b, bucket)
}

// testDeleteManyKeys deletes a prefix of more keys than one DeleteObjects
// request takes.
func testDeleteManyKeys(t *testing.T, b testBackend, bucket string) {
	d := newBucketDriver(t, b, bucket, testPrefix)
	const count = 1203
	for i := range count {
		b.putObject(t, bucket, testPrefix+"/p/"+keyName(i), nil)
	}
	put(t, d, "q", []byte("kept"))

	if err := d.Delete(t.Context(), "p"); err != nil {
		t.Fatalf("Delete of prefix: %v", err)
	}
	if got, want := walkKeys(t, d, ""), []string{"q"}; !slices.Equal(got, want) {
		t.Errorf("Walk after Delete of %d keys = %q, want %q", count, got, want)
	}
}

func testNewChecksBucket(t *testing.T, b testBackend, _ string) {
	_, err := New(t.Context(), b.options("missing-bucket", testPrefix))
	if err == nil {
		t.Fatal("New with a missing bucket succeeded, want an error")
	}
	if errors.Is(err, storage.ErrNotFound) {
		t.Errorf("New with a missing bucket = %v, want an error other than ErrNotFound, which is about keys", err)
	}
}

// keyName returns a key segment that sorts in the order of i.
func keyName(i int) string {
	const digits = "0123456789"
	return string([]byte{digits[i/1000%10], digits[i/100%10], digits[i/10%10], digits[i%10]})
}

// newBucketDriver returns a driver for an existing bucket.
func newBucketDriver(t *testing.T, b testBackend, bucket, prefix string) *Driver {
	t.Helper()
	d, err := New(t.Context(), b.options(bucket, prefix))
	if err != nil {
		t.Fatalf("New for bucket %q: %v", bucket, err)
	}
	return d
}

// assertNoUploads checks that bucket has no multipart upload in progress.
func assertNoUploads(t *testing.T, b testBackend, bucket string) {
	t.Helper()
	out, err := b.adminClient().ListMultipartUploads(t.Context(), &awss3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatalf("list multipart uploads: %v", err)
	}
	if len(out.Uploads) > 0 {
		t.Errorf("bucket %q has %d multipart uploads in progress, want none, the first for %q",
			bucket, len(out.Uploads), aws.ToString(out.Uploads[0].Key))
	}
}

// put writes content to key at offset 0 and commits it.
func put(t *testing.T, d storage.Driver, key string, content []byte) {
	t.Helper()
	w, err := d.Writer(t.Context(), key, 0)
	if err != nil {
		t.Fatalf("Writer(%q, 0): %v", key, err)
	}
	writeInChunks(t, w, content, 1<<20)
	if err := w.Commit(t.Context()); err != nil {
		t.Fatalf("Commit of %q: %v", key, err)
	}
}

// writeInChunks writes content to w in Write calls of chunk bytes.
func writeInChunks(t *testing.T, w storage.Writer, content []byte, chunk int) {
	t.Helper()
	for rest := content; len(rest) > 0; {
		n := min(chunk, len(rest))
		if _, err := w.Write(rest[:n]); err != nil {
			t.Fatalf("Write: %v", err)
		}
		rest = rest[n:]
	}
}

// assertContent checks that key contains exactly want.
func assertContent(t *testing.T, d storage.Driver, key string, want []byte) {
	t.Helper()
	r, err := d.Reader(t.Context(), key, 0)
	if err != nil {
		t.Fatalf("Reader(%q): %v", key, err)
	}
	defer r.Close()
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read %q: %v", key, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("content of %q: got %d bytes, want %d bytes", key, len(got), len(want))
	}
}

// walkKeys returns the keys that Walk visits below prefix.
func walkKeys(t *testing.T, d storage.Driver, prefix string) []string {
	t.Helper()
	keys := []string{}
	err := d.Walk(t.Context(), prefix, func(info storage.Info) error {
		keys = append(keys, info.Key)
		return nil
	})
	if err != nil {
		t.Fatalf("Walk(%q): %v", prefix, err)
	}
	return keys
}

// randomBytes returns n bytes that are the same on every run for a given seed.
func randomBytes(n int, seed uint64) []byte {
	source := rand.NewChaCha8([32]byte{byte(seed)})
	content := make([]byte, n)
	_, _ = source.Read(content)
	return content
}
