package gc_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/gc"
	"github.com/cofferhq/coffer/internal/storage"
)

// keys returns every key that the fixture's driver holds, in order.
func (f *fixture) keys() []string {
	f.t.Helper()
	var keys []string
	err := f.driver.Walk(f.ctx, "", func(info storage.Info) error {
		keys = append(keys, info.Key)
		return nil
	})
	if err != nil {
		f.t.Fatalf("Walk: %v", err)
	}
	return keys
}

// TestInPlaceBlobLifecycle follows a blob whose upload stays where it was
// written, as on the S3 driver. A second upload of the same content is
// dropped, and collection keeps the location of a live row. Deleting the
// blob deletes its location.
func TestInPlaceBlobLifecycle(t *testing.T) {
	f := newFixture(t, gc.Options{})
	f.blobs.KeepUploadsInPlace(f.meta)
	first := f.pushBlob("app", "a layer kept in place")
	f.pushBlob("other", "a layer kept in place")
	if err := f.objects.CreateBucket(f.ctx, "files", ""); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	o := f.putObject("files", "layer.tar", "a layer kept in place")

	keys := f.keys()
	if len(keys) != 1 || keys[0] != first.Location || !strings.HasPrefix(first.Location, "uploads/") {
		t.Fatalf("keys after three writes of one content = %q, want only the first upload key %q", keys, first.Location)
	}
	f.readBlob(first, "a layer kept in place")

	// Long after the upload, the key is still the blob's location, not an
	// orphan upload key.
	if err := f.objects.DeleteObject(f.ctx, o.Bucket, o.Key); err != nil {
		t.Fatalf("DeleteObject: %v", err)
	}
	f.clock.Advance(24 * time.Hour)
	report := f.run(false)
	if len(report.OrphanKeys) != 0 || !slices.Equal(digestNames(report.UnlinkedBlobs), []string{string(first.Digest)}) {
		t.Errorf("first run: orphan keys %+v, unlinked %v; want none and the blob unlinked", report.OrphanKeys, report.UnlinkedBlobs)
	}
	if !f.hasKey(first.Location) {
		t.Fatalf("the blob's location %s went while its row stays", first.Location)
	}

	f.clock.Advance(24 * time.Hour)
	report = f.run(false)
	want := []gc.Item{{Name: string(first.Digest), Bytes: first.Size}}
	if !slices.Equal(report.DeletedBlobs, want) {
		t.Errorf("second run deleted %+v, want %+v", report.DeletedBlobs, want)
	}
	if keys := f.keys(); len(keys) != 0 {
		t.Errorf("keys after the blob was collected = %q, want none", keys)
	}
}
