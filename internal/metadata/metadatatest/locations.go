package metadatatest

import (
	"slices"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
)

// wantLocation checks the location that GetBlob reports for d.
func (e *env) wantLocation(step string, d digest.Digest, want string) {
	e.t.Helper()
	got, err := e.store.GetBlob(e.ctx, d)
	if err != nil {
		e.t.Fatalf("%s: GetBlob(%s): %v", step, d, err)
	}
	if got.Location != want {
		e.t.Errorf("%s: location of %s = %q, want %q", step, d, got.Location, want)
	}
}

func testBlobLocationKeepsFirst(e *env) {
	d := digest.SHA256.FromBytes([]byte("placed"))
	_, err := e.store.GetBlob(e.ctx, d)
	e.wantNotFound("GetBlob before linking", err)

	if err := e.store.LinkBlob(e.ctx, "team/a", metadata.Blob{Digest: d, Size: 6, Location: "uploads/first"}); err != nil {
		e.t.Fatalf("LinkBlob(first): %v", err)
	}
	e.wantLocation("after the first link", d, "uploads/first")
	if err := e.store.LinkBlob(e.ctx, "team/b", metadata.Blob{Digest: d, Size: 6, Location: "uploads/second"}); err != nil {
		e.t.Fatalf("LinkBlob(second): %v", err)
	}
	e.wantLocation("after a second upload", d, "uploads/first")

	got, err := e.store.LookupBlob(e.ctx, "team/b", d)
	if err != nil || got.Location != "uploads/first" {
		e.t.Errorf("LookupBlob = %+v, %v; want location uploads/first", got, err)
	}
	got, err = e.store.StatBlob(e.ctx, d)
	if err != nil || got.Location != "uploads/first" {
		e.t.Errorf("StatBlob = %+v, %v; want location uploads/first", got, err)
	}
	found, err := e.store.FindBlobLocations(e.ctx, []string{"uploads/second", "uploads/first", "uploads/none"})
	if err != nil {
		e.t.Fatalf("FindBlobLocations: %v", err)
	}
	if !slices.Equal(found, []string{"uploads/first"}) {
		e.t.Errorf("FindBlobLocations = %q, want [uploads/first]", found)
	}

	// An object of the same content keeps the first location too.
	e.createBucket("data")
	o := newObject("data", "k", "placed")
	o.BlobLocation = "uploads/third"
	e.putObject(o)
	e.wantLocation("after an object put", d, "uploads/first")
}

func testBlobLocationRepairsQuarantine(e *env) {
	d := digest.SHA256.FromBytes([]byte("damaged"))
	if err := e.store.LinkBlob(e.ctx, "team/a", metadata.Blob{Digest: d, Size: 7, Location: "uploads/one"}); err != nil {
		e.t.Fatalf("LinkBlob: %v", err)
	}
	e.wantError("SetBlobLocation from a wrong location",
		e.store.SetBlobLocation(e.ctx, d, "uploads/other", "quarantine/x"), metadata.ErrConflict)
	e.wantNotFound("SetBlobLocation of a missing blob",
		e.store.SetBlobLocation(e.ctx, digest.SHA256.FromBytes([]byte("none")), "", "quarantine/x"))
	if err := e.store.SetBlobLocation(e.ctx, d, "uploads/one", metadata.QuarantinePrefix+"sha256/x"); err != nil {
		e.t.Fatalf("SetBlobLocation: %v", err)
	}
	got, err := e.store.LookupBlob(e.ctx, "team/a", d)
	if err != nil || !got.Quarantined() {
		e.t.Errorf("LookupBlob after quarantine = %+v, %v; want quarantined", got, err)
	}

	// A mount passes no location and repairs nothing.
	if err := e.store.LinkBlob(e.ctx, "team/b", metadata.Blob{Digest: d, Size: 7}); err != nil {
		e.t.Fatalf("LinkBlob(mount): %v", err)
	}
	e.wantLocation("after a mount", d, metadata.QuarantinePrefix+"sha256/x")

	// Fresh content replaces the quarantined location.
	if err := e.store.LinkBlob(e.ctx, "team/a", metadata.Blob{Digest: d, Size: 7, Location: "uploads/two"}); err != nil {
		e.t.Fatalf("LinkBlob(repair): %v", err)
	}
	e.wantLocation("after a new upload", d, "uploads/two")

	// An object put with fresh content repairs too.
	if err := e.store.SetBlobLocation(e.ctx, d, "uploads/two", metadata.QuarantinePrefix+"sha256/x"); err != nil {
		e.t.Fatalf("SetBlobLocation again: %v", err)
	}
	e.createBucket("data")
	o := newObject("data", "k", "damaged")
	e.putObject(o)
	e.wantLocation("after an object copy", d, metadata.QuarantinePrefix+"sha256/x")
	o.BlobLocation = "uploads/three"
	e.putObject(o)
	e.wantLocation("after an object put", d, "uploads/three")
}

func testGetObjectContentUnavailable(e *env) {
	e.createBucket("data")
	o := newObject("data", "k", "scrubbed")
	o.BlobLocation = "uploads/one"
	e.putObject(o)
	if got := e.getObject("data", "k"); got.ContentUnavailable {
		e.t.Errorf("GetObject of stored content: ContentUnavailable = true, want false")
	}

	if err := e.store.SetBlobLocation(e.ctx, o.Blob, "uploads/one", metadata.QuarantinePrefix+"sha256/x"); err != nil {
		e.t.Fatalf("SetBlobLocation: %v", err)
	}
	if got := e.getObject("data", "k"); !got.ContentUnavailable {
		e.t.Errorf("GetObject of quarantined content: ContentUnavailable = false, want true")
	}

	// Fresh content repairs the blob row, and the object is readable again.
	o.BlobLocation = "uploads/two"
	e.putObject(o)
	if got := e.getObject("data", "k"); got.ContentUnavailable {
		e.t.Errorf("GetObject after a new put: ContentUnavailable = true, want false")
	}
}
