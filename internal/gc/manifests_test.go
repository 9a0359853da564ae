package gc_test

import (
	"slices"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/gc"
)

func TestUntaggedManifestsKeptByDefault(t *testing.T) {
	f := newFixture(t, gc.Options{})
	layer := f.pushBlob("app", "layer")
	untagged := f.put(manifest("app", "untagged", "", layer.Digest))

	f.clock.Advance(365 * 24 * time.Hour)
	report := f.run(false)
	if len(report.DeletedManifests) != 0 {
		t.Errorf("deleted manifests = %q, want none with the keep policy", manifestReasons(report.DeletedManifests))
	}
	f.wantManifest("untagged", untagged, true)
	f.wantBlob("untagged manifest's", layer.Digest, true)
}

func TestUntaggedManifestsDeletedAfterAge(t *testing.T) {
	f := newFixture(t, gc.Options{UntaggedAge: 72 * time.Hour})
	shared := f.pushBlob("app", "shared layer")
	own := f.pushBlob("app", "layer only the untagged image has")
	tagged := f.put(manifest("app", "tagged", "", shared.Digest), "v1")
	untagged := f.put(manifest("app", "untagged", "", shared.Digest, own.Digest))
	signature := f.put(manifest("app", "signature of tagged", tagged.Digest))
	child := f.put(manifest("app", "child of tagged index", "", shared.Digest))
	f.put(indexManifest("app", "tagged index", child.Digest), "multi")
	orphanChild := f.put(manifest("app", "child of untagged index", "", shared.Digest))
	untaggedIndex := f.put(indexManifest("app", "untagged index", orphanChild.Digest))

	f.clock.Advance(48 * time.Hour)
	if report := f.run(false); len(report.DeletedManifests) != 0 {
		t.Errorf("before the age: deleted %q, want none", manifestReasons(report.DeletedManifests))
	}

	f.clock.Advance(48 * time.Hour)
	report := f.run(false)
	want := []string{string(untagged.Digest) + " untagged", string(untaggedIndex.Digest) + " untagged"}
	slices.Sort(want) // the run reports them in digest order
	if got := manifestReasons(report.DeletedManifests); !slices.Equal(got, want) {
		t.Errorf("deleted manifests = %q, want %q", got, want)
	}
	f.wantManifest("untagged", untagged, false)
	f.wantManifest("untagged index", untaggedIndex, false)
	f.wantManifest("tagged", tagged, true)
	f.wantManifest("signature of a tagged manifest", signature, true)
	f.wantManifest("child of a tagged index", child, true)
	// A child goes in the run after its index.
	f.wantManifest("child of the untagged index", orphanChild, true)

	report = f.run(false)
	want = []string{string(orphanChild.Digest) + " untagged"}
	if got := manifestReasons(report.DeletedManifests); !slices.Equal(got, want) {
		t.Errorf("second run deleted manifests = %q, want %q", got, want)
	}
	// The blob only the untagged image listed lost its last reference in
	// the run before this one: this run unlinks it, the next deletes it.
	if want := []digest.Digest{own.Digest}; !slices.Equal(report.UnlinkedBlobs, want) {
		t.Errorf("second run unlinked %q, want %q", report.UnlinkedBlobs, want)
	}
	f.run(false)
	f.wantBlob("untagged image's own", own.Digest, false)
	f.wantBlob("shared", shared.Digest, true)
}

func TestReferrerDeletedWithSubject(t *testing.T) {
	f := newFixture(t, gc.Options{DeleteOrphanReferrers: true})
	layer := f.pushBlob("app", "layer")
	subject := f.put(manifest("app", "subject", "", layer.Digest), "v1")
	signature := f.put(manifest("app", "signature", subject.Digest))
	sbomOfSignature := f.put(manifest("app", "attestation of the signature", signature.Digest))

	if err := f.objects.CreateBucket(f.ctx, "files", ""); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	o := f.putObject("files", "tool.tar.gz", "release archive")
	objectSignature := f.put(manifest("signatures", "signature of an object", o.Blob))

	f.clock.Advance(24 * time.Hour)
	if report := f.run(false); len(report.DeletedManifests) != 0 {
		t.Errorf("with live subjects: deleted %q, want none", manifestReasons(report.DeletedManifests))
	}

	if err := f.meta.DeleteManifest(f.ctx, "app", subject.Digest); err != nil {
		t.Fatalf("DeleteManifest(subject): %v", err)
	}
	report := f.run(false)
	want := []string{string(signature.Digest) + " orphan referrer"}
	if got := manifestReasons(report.DeletedManifests); !slices.Equal(got, want) {
		t.Errorf("deleted manifests = %q, want %q", got, want)
	}
	f.wantManifest("signature of the deleted subject", signature, false)
	f.wantManifest("signature of a stored object", objectSignature, true)

	// A referrer of a referrer goes in the next run.
	report = f.run(false)
	want = []string{string(sbomOfSignature.Digest) + " orphan referrer"}
	if got := manifestReasons(report.DeletedManifests); !slices.Equal(got, want) {
		t.Errorf("second run deleted manifests = %q, want %q", got, want)
	}
}

func TestReferrersKeptWithKeepPolicy(t *testing.T) {
	f := newFixture(t, gc.Options{})
	subject := f.put(manifest("app", "subject", ""), "v1")
	signature := f.put(manifest("app", "signature", subject.Digest))
	if err := f.meta.DeleteManifest(f.ctx, "app", subject.Digest); err != nil {
		t.Fatalf("DeleteManifest(subject): %v", err)
	}
	f.clock.Advance(24 * time.Hour)
	f.run(false)
	f.wantManifest("signature of a deleted subject", signature, true)
}

func TestReferrersDoNotKeepSubjectAlive(t *testing.T) {
	f := newFixture(t, gc.Options{UntaggedAge: 24 * time.Hour, DeleteOrphanReferrers: true})
	layer := f.pushBlob("app", "layer")
	subject := f.put(manifest("app", "untagged subject", "", layer.Digest))
	signature := f.put(manifest("app", "signature", subject.Digest))

	f.clock.Advance(48 * time.Hour)
	report := f.run(false)
	want := []string{string(subject.Digest) + " untagged"}
	if got := manifestReasons(report.DeletedManifests); !slices.Equal(got, want) {
		t.Errorf("deleted manifests = %q, want %q", got, want)
	}
	f.wantManifest("signature", signature, true)

	report = f.run(false)
	want = []string{string(signature.Digest) + " orphan referrer"}
	if got := manifestReasons(report.DeletedManifests); !slices.Equal(got, want) {
		t.Errorf("second run deleted manifests = %q, want %q", got, want)
	}
	if want := []digest.Digest{layer.Digest}; !slices.Equal(report.UnlinkedBlobs, want) {
		t.Errorf("second run unlinked %q, want the subject's layer %q", report.UnlinkedBlobs, want)
	}
}
