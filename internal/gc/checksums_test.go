package gc_test

import (
	"slices"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/blob"
	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/gc"
)

// TestChecksumsCollected checks that the chunk checksums of a collected
// blob go with it, and that checksums without a blob row are swept.
func TestChecksumsCollected(t *testing.T) {
	f := newFixture(t, gc.Options{})
	layer := f.pushBlob("app", "pushed, never referenced")
	kept := f.pushBlob("app", "referenced by a manifest")
	f.put(manifest("app", "v1", "", kept.Digest), "v1")
	orphan := blob.ChecksumsKey(digest.SHA256.FromBytes([]byte("no row")))
	for _, key := range []string{blob.ChecksumsKey(layer.Digest), blob.ChecksumsKey(kept.Digest), orphan} {
		f.writeKey(key, "checksums")
	}

	f.clock.Advance(grace + 24*time.Hour)
	report := f.run(false)
	want := []gc.Item{{Name: orphan, Bytes: int64(len("checksums"))}}
	if !slices.Equal(report.OrphanKeys, want) {
		t.Errorf("first run: orphan keys = %+v, want %+v", report.OrphanKeys, want)
	}
	f.run(false) // deletes the unlinked blob

	if f.hasKey(blob.ChecksumsKey(layer.Digest)) {
		t.Errorf("checksums of the collected blob are still stored")
	}
	if f.hasKey(orphan) {
		t.Errorf("orphan checksums are still stored")
	}
	if !f.hasKey(blob.ChecksumsKey(kept.Digest)) {
		t.Errorf("checksums of the referenced blob were deleted")
	}
}
