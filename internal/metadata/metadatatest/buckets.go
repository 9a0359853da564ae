package metadatatest

import (
	"errors"
	"slices"
	"strings"

	"github.com/cofferhq/coffer/internal/metadata"
)

// createBucket creates a bucket in us-east-1 and fails the test on error.
func (e *env) createBucket(name string) metadata.Bucket {
	e.t.Helper()
	b := metadata.Bucket{Name: name, Region: "us-east-1", Created: created}
	if err := e.store.CreateBucket(e.ctx, b); err != nil {
		e.t.Fatalf("CreateBucket(%s): %v", name, err)
	}
	return b
}

// wantBucket compares every field of two buckets.
func (e *env) wantBucket(got, want metadata.Bucket) {
	e.t.Helper()
	if got.Name != want.Name || got.Region != want.Region || !got.Created.Equal(want.Created) {
		e.t.Errorf("bucket = %s in %q created %v, want %s in %q created %v",
			got.Name, got.Region, got.Created, want.Name, want.Region, want.Created)
	}
}

// wantError checks that err wraps target.
func (e *env) wantError(call string, err, target error) {
	e.t.Helper()
	if !errors.Is(err, target) {
		e.t.Errorf("%s: error = %v, want one wrapping %v", call, err, target)
	}
}

// wantErrorNaming checks that err is not nil and its message contains name.
func (e *env) wantErrorNaming(call string, err error, name string) {
	e.t.Helper()
	if err != nil && !strings.Contains(err.Error(), name) {
		e.t.Errorf("%s: error %q does not name %s", call, err, name)
	}
}

func testBucketLifecycle(e *env) {
	b := metadata.Bucket{Name: "photos", Region: "eu-west-1", Created: created}
	if err := e.store.CreateBucket(e.ctx, b); err != nil {
		e.t.Fatalf("CreateBucket: %v", err)
	}
	got, err := e.store.GetBucket(e.ctx, "photos")
	if err != nil {
		e.t.Fatalf("GetBucket: %v", err)
	}
	e.wantBucket(got, b)

	again := metadata.Bucket{Name: "photos", Region: "us-west-2", Created: created.Add(1)}
	err = e.store.CreateBucket(e.ctx, again)
	e.wantError("CreateBucket twice", err, metadata.ErrAlreadyExists)
	e.wantErrorNaming("CreateBucket twice", err, "photos")
	got, err = e.store.GetBucket(e.ctx, "photos")
	if err != nil {
		e.t.Fatalf("GetBucket after the second CreateBucket: %v", err)
	}
	e.wantBucket(got, b)

	_, err = e.store.GetBucket(e.ctx, "missing")
	e.wantNotFound("GetBucket(missing)", err)
	e.wantErrorNaming("GetBucket(missing)", err, "missing")
}

func testListBucketsByteOrder(e *env) {
	buckets, err := e.store.ListBuckets(e.ctx)
	if err != nil {
		e.t.Fatalf("ListBuckets on an empty store: %v", err)
	}
	if len(buckets) != 0 {
		e.t.Errorf("ListBuckets on an empty store = %+v, want none", buckets)
	}

	// Byte order: '-' < '.' < digits < letters.
	names := []string{"a-b", "a.b", "a0", "ab", "b"}
	for i, name := range slices.Backward(names) {
		region := "region-" + string(rune('a'+i))
		if err := e.store.CreateBucket(e.ctx, metadata.Bucket{Name: name, Region: region, Created: created}); err != nil {
			e.t.Fatalf("CreateBucket(%s): %v", name, err)
		}
	}

	buckets, err = e.store.ListBuckets(e.ctx)
	if err != nil {
		e.t.Fatalf("ListBuckets: %v", err)
	}
	if len(buckets) != len(names) {
		e.t.Fatalf("ListBuckets returned %d buckets, want %d: %+v", len(buckets), len(names), buckets)
	}
	for i, b := range buckets {
		want := metadata.Bucket{Name: names[i], Region: "region-" + string(rune('a'+i)), Created: created}
		e.wantBucket(b, want)
	}
}

func testDeleteBucket(e *env) {
	e.createBucket("empty")
	if err := e.store.DeleteBucket(e.ctx, "empty"); err != nil {
		e.t.Fatalf("DeleteBucket(empty): %v", err)
	}
	_, err := e.store.GetBucket(e.ctx, "empty")
	e.wantNotFound("GetBucket after DeleteBucket", err)
	err = e.store.DeleteBucket(e.ctx, "empty")
	e.wantNotFound("DeleteBucket twice", err)
	e.wantErrorNaming("DeleteBucket twice", err, "empty")

	// A bucket that contains an object stays.
	e.createBucket("full")
	o := newObject("full", "file.txt", "content")
	e.putObject(o)
	err = e.store.DeleteBucket(e.ctx, "full")
	e.wantError("DeleteBucket with an object", err, metadata.ErrNotEmpty)
	e.wantErrorNaming("DeleteBucket with an object", err, "full")
	if _, err := e.store.GetBucket(e.ctx, "full"); err != nil {
		e.t.Errorf("GetBucket after the rejected DeleteBucket: %v", err)
	}
	if _, err := e.store.DeleteObject(e.ctx, "full", o.Key); err != nil {
		e.t.Fatalf("DeleteObject: %v", err)
	}
	if err := e.store.DeleteBucket(e.ctx, "full"); err != nil {
		e.t.Errorf("DeleteBucket after deleting its object: %v", err)
	}

	// So does a bucket that contains only a multipart upload.
	e.createBucket("uploading")
	e.createMultipartUpload(newMultipartUpload("upload-1", "uploading", "big.bin"))
	e.wantError("DeleteBucket with a multipart upload", e.store.DeleteBucket(e.ctx, "uploading"), metadata.ErrNotEmpty)
	if _, err := e.store.AbortMultipartUpload(e.ctx, "upload-1"); err != nil {
		e.t.Fatalf("AbortMultipartUpload: %v", err)
	}
	if err := e.store.DeleteBucket(e.ctx, "uploading"); err != nil {
		e.t.Errorf("DeleteBucket after aborting its upload: %v", err)
	}
}
