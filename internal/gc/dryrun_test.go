package gc_test

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/gc"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/storage"
)

// snapshot is every record a collector run may change.
type snapshot struct {
	Keys         []storage.Info
	Blobs        []metadata.Blob
	Unreferenced []metadata.UnreferencedBlob
	Untagged     []metadata.ManifestRef
	Uploads      []metadata.Upload
	Multipart    []metadata.MultipartUpload
}

// take records the fixture's state.
func (f *fixture) take() snapshot {
	f.t.Helper()
	var s snapshot
	err := f.driver.Walk(f.ctx, "", func(info storage.Info) error {
		s.Keys = append(s.Keys, info)
		return nil
	})
	if err != nil {
		f.t.Fatalf("Walk: %v", err)
	}
	later := time.Now().Add(1000 * time.Hour)
	if s.Blobs, err = f.meta.ListBlobs(f.ctx, "", 0); err != nil {
		f.t.Fatalf("ListBlobs: %v", err)
	}
	if s.Unreferenced, err = f.meta.ListUnreferencedBlobs(f.ctx, later, "", 0); err != nil {
		f.t.Fatalf("ListUnreferencedBlobs: %v", err)
	}
	if s.Untagged, err = f.meta.ListUntaggedManifests(f.ctx, later, metadata.ManifestCursor{}, 0); err != nil {
		f.t.Fatalf("ListUntaggedManifests: %v", err)
	}
	if s.Uploads, err = f.meta.ListUploadsBefore(f.ctx, later, "", 0); err != nil {
		f.t.Fatalf("ListUploadsBefore: %v", err)
	}
	if s.Multipart, err = f.meta.ListMultipartUploadsBefore(f.ctx, later, 0); err != nil {
		f.t.Fatalf("ListMultipartUploadsBefore: %v", err)
	}
	return s
}

func TestDryRunChangesNothingAndMatchesRun(t *testing.T) {
	f := newFixture(t, gc.Options{UntaggedAge: 24 * time.Hour, DeleteOrphanReferrers: true})
	scene := newUploadScene(t, f)

	linked := f.pushBlob("app", "pushed, never referenced")
	o := f.putObject("files", "report.txt", "object content")
	if err := f.objects.DeleteObject(f.ctx, "files", "report.txt"); err != nil {
		t.Fatalf("DeleteObject: %v", err)
	}
	layer := f.pushBlob("app", "layer of an untagged image")
	untagged := f.put(manifest("app", "untagged", "", layer.Digest))
	orphan := f.put(manifest("app", "signature", digest.SHA256.FromBytes([]byte("deleted subject"))))
	tagged := f.put(manifest("app", "tagged", "", layer.Digest), "v1")

	f.clock.Advance(multipartExpiry + 48*time.Hour)
	before := f.take()
	dry := f.run(true)
	if after := f.take(); !reflect.DeepEqual(after, before) {
		t.Fatalf("the dry run changed the stores:\nbefore %+v\nafter  %+v", before, after)
	}

	// The exact bytes: the deleted object's content, three orphan keys,
	// one expired session and one expired multipart upload.
	wantBytes := o.Size + int64(len("crashed before its row")+len("half an upload")+len("a part")) + 11 + 8
	if dry.FreedBytes() != wantBytes {
		t.Errorf("dry run FreedBytes = %d, want %d", dry.FreedBytes(), wantBytes)
	}
	if want := []gc.Item{{Name: string(o.Blob), Bytes: o.Size}}; !slices.Equal(dry.DeletedBlobs, want) {
		t.Errorf("dry run deleted blobs = %+v, want %+v", dry.DeletedBlobs, want)
	}
	if want := []digest.Digest{linked.Digest}; !slices.Equal(dry.UnlinkedBlobs, want) {
		t.Errorf("dry run unlinked blobs = %q, want %q", dry.UnlinkedBlobs, want)
	}
	wantManifests := []string{string(orphan.Digest) + " orphan referrer", string(untagged.Digest) + " untagged"}
	if got := manifestReasons(dry.DeletedManifests); !slices.Equal(got, wantManifests) {
		t.Errorf("dry run deleted manifests = %q, want %q", got, wantManifests)
	}
	if len(dry.OrphanKeys) != 3 || len(dry.ExpiredUploads) != 1 || len(dry.ExpiredMultipart) != 1 {
		t.Errorf("dry run removed %d orphan keys, %d sessions, %d multipart uploads; want 3, 1, 1",
			len(dry.OrphanKeys), len(dry.ExpiredUploads), len(dry.ExpiredMultipart))
	}
	if !dry.DryRun {
		t.Errorf("dry run report has DryRun false")
	}

	actual := f.run(false)
	actual.DryRun = true
	if !reflect.DeepEqual(actual, dry) {
		t.Errorf("run report differs from the dry run's:\nrun %+v\ndry %+v", actual, dry)
	}
	f.wantManifest("untagged", untagged, false)
	f.wantManifest("orphan referrer", orphan, false)
	f.wantManifest("tagged", tagged, true)
	f.wantBlob("deleted object's", o.Blob, false)
	if f.hasKey(scene.orphanBlob) || f.hasKey(scene.sessionKey) || f.hasKey(scene.partKey) {
		t.Errorf("keys of the scene remain after the run")
	}
}

// manifestReasons returns "digest reason" for each deleted manifest.
func manifestReasons(ms []gc.DeletedManifest) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = string(m.Digest) + " " + m.Reason
	}
	return out
}
