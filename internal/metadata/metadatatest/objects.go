package metadatatest

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
)

// A backend returns nil, never an empty map or slice, for the map fields
// and Parts of an object or multipart upload that was stored with none.

// newObject returns a single-PUT object of bucket with the given content,
// without optional fields.
func newObject(bucket, key, content string) *metadata.Object {
	sum := md5.Sum([]byte(content))
	return &metadata.Object{
		Bucket:      bucket,
		Key:         key,
		Blob:        digest.SHA256.FromBytes([]byte(content)),
		Size:        int64(len(content)),
		ETag:        hex.EncodeToString(sum[:]),
		ContentType: "text/plain",
		Modified:    created,
	}
}

// putObject stores o without a condition, fails the test on error and
// returns the replaced object.
func (e *env) putObject(o *metadata.Object) *metadata.Object {
	e.t.Helper()
	replaced, err := e.store.PutObject(e.ctx, o, metadata.Precondition{})
	if err != nil {
		e.t.Fatalf("PutObject(%s, %q): %v", o.Bucket, o.Key, err)
	}
	return replaced
}

// getObject returns the object and fails the test on error.
func (e *env) getObject(bucket, key string) *metadata.Object {
	e.t.Helper()
	o, err := e.store.GetObject(e.ctx, bucket, key)
	if err != nil {
		e.t.Fatalf("GetObject(%s, %q): %v", bucket, key, err)
	}
	return o
}

// wantObject compares every field of two objects. A nil want expects a nil got.
func (e *env) wantObject(call string, got, want *metadata.Object) {
	e.t.Helper()
	if got == nil || want == nil {
		if got != want {
			e.t.Errorf("%s = %+v, want %+v", call, got, want)
		}
		return
	}
	if got.Bucket != want.Bucket || got.Key != want.Key {
		e.t.Errorf("%s = %q in %s, want %q in %s", call, got.Key, got.Bucket, want.Key, want.Bucket)
	}
	if got.Blob != want.Blob || got.Size != want.Size {
		e.t.Errorf("%s blob = %s of %d bytes, want %s of %d bytes", call, got.Blob, got.Size, want.Blob, want.Size)
	}
	if got.ETag != want.ETag {
		e.t.Errorf("%s ETag = %q, want %q", call, got.ETag, want.ETag)
	}
	if got.ContentType != want.ContentType {
		e.t.Errorf("%s content type = %q, want %q", call, got.ContentType, want.ContentType)
	}
	e.wantMap(call+" headers", got.Headers, want.Headers)
	e.wantMap(call+" user metadata", got.UserMetadata, want.UserMetadata)
	e.wantMap(call+" checksums", got.Checksums, want.Checksums)
	if got.ChecksumType != want.ChecksumType {
		e.t.Errorf("%s checksum type = %q, want %q", call, got.ChecksumType, want.ChecksumType)
	}
	if !slices.Equal(got.Parts, want.Parts) || (got.Parts == nil) != (len(want.Parts) == 0) {
		e.t.Errorf("%s parts = %#v, want %#v", call, got.Parts, want.Parts)
	}
	if !got.Modified.Equal(want.Modified) {
		e.t.Errorf("%s modified = %v, want %v", call, got.Modified, want.Modified)
	}
}

// wantMap compares a map read back from the store with the one stored. An
// empty stored map must read back as nil.
func (e *env) wantMap(what string, got, stored map[string]string) {
	e.t.Helper()
	if !maps.Equal(got, stored) {
		e.t.Errorf("%s = %v, want %v", what, got, stored)
	}
	if len(stored) == 0 && got != nil {
		e.t.Errorf("%s = %#v, want nil for an empty map", what, got)
	}
}

// fullObject returns an object of a multipart upload with every field set.
func fullObject(bucket, key string) *metadata.Object {
	o := newObject(bucket, key, "part one|part two")
	o.ETag = "0123456789abcdef0123456789abcdef-2"
	o.ContentType = "application/json; charset=utf-8"
	o.Headers = map[string]string{
		"Cache-Control":       "max-age=3600",
		"Content-Disposition": `attachment; filename="r\u00e9sum\u00e9.json"`,
		"Content-Encoding":    "gzip",
		"Content-Language":    "fr",
		"Expires":             "Thu, 01 Dec 2026 16:00:00 GMT",
	}
	o.UserMetadata = map[string]string{"owner": "\u00e9quipe", "empty": "", "quote": `"x"`}
	o.Checksums = map[string]string{"CRC32C": "yZRlqg==-2", "SHA256": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=-2"}
	o.ChecksumType = "COMPOSITE"
	o.Parts = []metadata.ObjectPart{
		{Number: 1, Size: 8, Checksum: "AAAAAA=="},
		{Number: 2, Size: 8, Checksum: "BBBBBB=="},
	}
	return o
}

func testPutObjectRoundTrip(e *env) {
	e.createBucket("docs")
	o := fullObject("docs", "reports/2026/r\u00e9sum\u00e9.json")
	if replaced := e.putObject(o); replaced != nil {
		e.t.Errorf("PutObject on a free key replaced %+v, want nil", replaced)
	}
	e.wantObject("GetObject", e.getObject("docs", o.Key), o)

	listed, err := e.store.ListObjects(e.ctx, "docs", "", "", 0)
	if err != nil {
		e.t.Fatalf("ListObjects: %v", err)
	}
	if len(listed) != 1 {
		e.t.Fatalf("ListObjects returned %d objects, want 1", len(listed))
	}
	e.wantObject("ListObjects()[0]", &listed[0], o)
}

func testEmptyFieldsReadAsNil(e *env) {
	e.createBucket("docs")
	o := newObject("docs", "plain.txt", "plain")
	o.Headers = map[string]string{}
	o.UserMetadata = map[string]string{}
	o.Checksums = map[string]string{}
	o.Parts = []metadata.ObjectPart{}
	e.putObject(o)

	got := e.getObject("docs", o.Key)
	if got.Headers != nil || got.UserMetadata != nil || got.Checksums != nil || got.Parts != nil {
		e.t.Errorf("GetObject of an object without optional fields = %#v, want nil maps and parts", got)
	}
}

func testPutObjectReplaces(e *env) {
	e.createBucket("docs")
	first := fullObject("docs", "file")
	second := newObject("docs", "file", "second version")
	second.Modified = created.Add(1)
	e.putObject(first)

	replaced := e.putObject(second)
	e.wantObject("object replaced by PutObject", replaced, first)
	e.wantObject("GetObject after replacing", e.getObject("docs", "file"), second)
}

func testPutObjectMissingBucket(e *env) {
	o := newObject("missing", "file", "orphan content")
	_, err := e.store.PutObject(e.ctx, o, metadata.Precondition{})
	e.wantNotFound("PutObject in a missing bucket", err)
	e.wantErrorNaming("PutObject in a missing bucket", err, "missing")

	_, err = e.store.BlobReferences(e.ctx, o.Blob)
	e.wantNotFound("BlobReferences after the rejected PutObject", err)
}

func testPutObjectIfNoneMatch(e *env) {
	e.createBucket("docs")
	ifNoneMatch := metadata.Precondition{IfNoneMatchAny: true}
	first := newObject("docs", "once", "first")
	replaced, err := e.store.PutObject(e.ctx, first, ifNoneMatch)
	if err != nil {
		e.t.Fatalf("PutObject(If-None-Match: *) on a free key: %v", err)
	}
	e.wantObject("object replaced by PutObject on a free key", replaced, nil)

	second := newObject("docs", "once", "second")
	_, err = e.store.PutObject(e.ctx, second, ifNoneMatch)
	e.wantError("PutObject(If-None-Match: *) on an existing key", err, metadata.ErrPreconditionFailed)
	e.wantErrorNaming("PutObject(If-None-Match: *) on an existing key", err, "once")

	e.wantObject("GetObject after the rejected PutObject", e.getObject("docs", "once"), first)
	e.wantReferences(first.Blob, 1)
	_, err = e.store.BlobReferences(e.ctx, second.Blob)
	e.wantNotFound("BlobReferences of the rejected object's blob", err)
}

func testPutObjectIfMatch(e *env) {
	e.createBucket("docs")
	v1 := newObject("docs", "doc", "version 1")
	v2 := newObject("docs", "doc", "version 2")
	v3 := newObject("docs", "doc", "version 3")
	e.putObject(v1)

	replaced, err := e.store.PutObject(e.ctx, v2, metadata.Precondition{IfMatch: v1.ETag})
	if err != nil {
		e.t.Fatalf("PutObject(If-Match: current ETag): %v", err)
	}
	e.wantObject("object replaced by PutObject(If-Match)", replaced, v1)

	// v1's ETag is stale now.
	_, err = e.store.PutObject(e.ctx, v3, metadata.Precondition{IfMatch: v1.ETag})
	e.wantError("PutObject(If-Match: stale ETag)", err, metadata.ErrPreconditionFailed)
	e.wantObject("GetObject after the rejected PutObject", e.getObject("docs", "doc"), v2)
	e.wantReferences(v2.Blob, 1)
	e.wantReferences(v1.Blob, 0)

	_, err = e.store.PutObject(e.ctx, newObject("docs", "absent", "new"), metadata.Precondition{IfMatch: v1.ETag})
	e.wantError("PutObject(If-Match) on a missing key", err, metadata.ErrPreconditionFailed)
	_, err = e.store.GetObject(e.ctx, "docs", "absent")
	e.wantNotFound("GetObject after the rejected PutObject(If-Match)", err)
}

func testObjectReferences(e *env) {
	e.createBucket("docs")
	a := newObject("docs", "a", "shared content")
	b := newObject("docs", "b", "shared content")
	e.putObject(a)
	e.putObject(b)
	e.wantReferences(a.Blob, 2)

	if _, err := e.store.DeleteObject(e.ctx, "docs", "a"); err != nil {
		e.t.Fatalf("DeleteObject(a): %v", err)
	}
	e.wantReferences(a.Blob, 1)

	// The same content again: one reference gained and one lost.
	same := newObject("docs", "b", "shared content")
	same.Modified = created.Add(1)
	e.putObject(same)
	e.wantReferences(a.Blob, 1)

	other := newObject("docs", "b", "other content")
	e.putObject(other)
	e.wantReferences(a.Blob, 0)
	e.wantReferences(other.Blob, 1)
}

func testManifestAndObjectShareBlob(e *env) {
	layer := e.linkBlob("app", "layer content")
	m := image("app", "uses layer", layer.Digest)
	e.put(m, "v1")
	e.wantReferences(layer.Digest, 1)

	e.createBucket("exports")
	o := newObject("exports", "layer.tar", "layer content")
	if o.Blob != layer.Digest {
		e.t.Fatalf("test setup: object blob %s differs from layer %s", o.Blob, layer.Digest)
	}
	e.putObject(o)
	e.wantReferences(layer.Digest, 2)
	// The object's reference does not change the size the registry recorded.
	if got, err := e.store.LookupBlob(e.ctx, "app", layer.Digest); err != nil || got != layer {
		e.t.Errorf("LookupBlob after PutObject = %+v, %v, want %+v", got, err, layer)
	}

	if err := e.store.DeleteManifest(e.ctx, "app", m.Digest); err != nil {
		e.t.Fatalf("DeleteManifest: %v", err)
	}
	e.wantReferences(layer.Digest, 1)
	if _, err := e.store.DeleteObject(e.ctx, "exports", o.Key); err != nil {
		e.t.Fatalf("DeleteObject: %v", err)
	}
	e.wantReferences(layer.Digest, 0)
}

func testDeleteObject(e *env) {
	e.createBucket("docs")
	o := fullObject("docs", "dir/file")
	e.putObject(o)

	deleted, err := e.store.DeleteObject(e.ctx, "docs", "dir/file")
	if err != nil {
		e.t.Fatalf("DeleteObject: %v", err)
	}
	e.wantObject("object returned by DeleteObject", deleted, o)
	_, err = e.store.GetObject(e.ctx, "docs", "dir/file")
	e.wantNotFound("GetObject after DeleteObject", err)

	_, err = e.store.DeleteObject(e.ctx, "docs", "dir/file")
	e.wantNotFound("DeleteObject twice", err)
	e.wantErrorNaming("DeleteObject twice", err, "dir/file")
	_, err = e.store.DeleteObject(e.ctx, "missing", "dir/file")
	e.wantNotFound("DeleteObject in a missing bucket", err)
}

func testGetObjectMissing(e *env) {
	e.createBucket("docs")
	e.putObject(newObject("docs", "present", "content"))

	_, err := e.store.GetObject(e.ctx, "docs", "absent")
	e.wantNotFound("GetObject(absent key)", err)
	e.wantErrorNaming("GetObject(absent key)", err, "absent")
	_, err = e.store.GetObject(e.ctx, "missing", "present")
	e.wantNotFound("GetObject in a missing bucket", err)
	// Keys compare exactly, without case folding or Unicode normalisation.
	_, err = e.store.GetObject(e.ctx, "docs", "Present")
	e.wantNotFound("GetObject(key in another case)", err)
}

// listingKeys are object keys in no order. Among them are multi-byte UTF-8
// characters, a control character that sorts right after its prefix, and
// path elements that a file system would interpret.
var listingKeys = []string{
	"photos/2026/02.jpg", "a", "a\x01", "a b", "a-b", "a/b", "a/b/c", "a/../b", "a/b/../../c",
	"../etc/passwd", "..", "../", "a\u00ff", "a\u00ffb", "a\u00ff/", "a\u0100", "a\u00e9",
	"a\U0001F600", "A", "B", "b", "~", "\u00ff", "\u00ff\u00ff", "\u65e5\u672c/\u8a9e",
	"\u65e5\u672c/\u672c", "\U0010FFFF", "photos/2026/01.jpg", "photos/2027/01.jpg", "photos0",
}

// listingPrefixes are the prefixes testListObjects tries. "a\u00ff" ends in
// the bytes C3 BF, so its upper bound increments a continuation byte.
var listingPrefixes = []string{
	"", "a", "a/", "a/b", "..", "../", "a\u00ff", "\u00ff", "\U0010FFFF", "\u65e5\u672c/", "photos/",
	"photos/2026/", "zzz", "a\x01",
}

// listKeys returns the keys of a ListObjects call and fails the test on error.
func (e *env) listKeys(bucket, prefix, after string, limit int) []string {
	e.t.Helper()
	objects, err := e.store.ListObjects(e.ctx, bucket, prefix, after, limit)
	if err != nil {
		e.t.Fatalf("ListObjects(prefix=%q, after=%q, limit=%d): %v", prefix, after, limit, err)
	}
	keys := make([]string, len(objects))
	for i, o := range objects {
		keys[i] = o.Key
	}
	return keys
}

// expectedKeys is the reference listing: the sorted keys that start with
// prefix and sort after the cursor, up to limit of them.
func expectedKeys(sorted []string, prefix, after string, limit int) []string {
	var keys []string
	for _, k := range sorted {
		if strings.HasPrefix(k, prefix) && k > after && (limit <= 0 || len(keys) < limit) {
			keys = append(keys, k)
		}
	}
	return keys
}

func testListObjects(e *env) {
	e.createBucket("docs")
	e.createBucket("other")
	for _, k := range listingKeys {
		e.putObject(newObject("docs", k, "content of "+k))
	}
	e.putObject(newObject("other", "a/b", "in another bucket"))

	sorted := slices.Sorted(slices.Values(listingKeys))
	if got := e.listKeys("docs", "", "", 0); !slices.Equal(got, sorted) {
		e.t.Errorf("ListObjects of every key =\n%q\nwant byte order\n%q", got, sorted)
	}

	// Cursors: none, every key, and strings between or beyond the keys.
	cursors := append([]string{"", "M", "a\u00ff\u00ff", "photos/2026", "\U0010FFFF\U0010FFFF"}, listingKeys...)
	for _, prefix := range listingPrefixes {
		for _, after := range cursors {
			for _, limit := range []int{0, 1, 3} {
				want := expectedKeys(sorted, prefix, after, limit)
				if got := e.listKeys("docs", prefix, after, limit); !slices.Equal(got, want) {
					e.t.Errorf("ListObjects(prefix=%q, after=%q, limit=%d) = %q, want %q", prefix, after, limit, got, want)
				}
			}
		}
	}
}

func testListObjectsPagination(e *env) {
	e.createBucket("docs")
	for _, k := range listingKeys {
		e.putObject(newObject("docs", k, "content of "+k))
	}
	sorted := slices.Sorted(slices.Values(listingKeys))

	for _, prefix := range []string{"", "a"} {
		var pages [][]string
		after := ""
		for range len(listingKeys) + 1 {
			page := e.listKeys("docs", prefix, after, 4)
			if len(page) == 0 {
				break
			}
			pages = append(pages, page)
			after = page[len(page)-1]
		}
		want := slices.Collect(slices.Chunk(expectedKeys(sorted, prefix, "", 0), 4))
		if !slices.EqualFunc(pages, want, slices.Equal) {
			e.t.Errorf("ListObjects pages of prefix %q =\n%q\nwant\n%q", prefix, pages, want)
		}
	}

	e.createBucket("empty")
	if got := e.listKeys("empty", "", "", 0); len(got) != 0 {
		e.t.Errorf("ListObjects of an empty bucket = %q, want none", got)
	}
}

func testConcurrentPutObject(e *env) {
	const writers = 8
	e.createBucket("busy")

	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			_, errs[i] = e.store.PutObject(e.ctx, newObject("busy", fmt.Sprintf("k%d", i), "shared"), metadata.Precondition{})
		})
	}
	wg.Wait()

	for i, err := range errs {
		if err != nil {
			e.t.Errorf("PutObject from writer %d: %v", i, err)
		}
	}
	want := []string{"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7"}
	if got := e.listKeys("busy", "", "", 0); !slices.Equal(got, want) {
		e.t.Errorf("ListObjects(busy) = %q, want %q", got, want)
	}
	e.wantReferences(digest.SHA256.FromBytes([]byte("shared")), writers)
}
