package metadatatest

import (
	"fmt"
	"slices"
	"time"

	"github.com/cofferhq/coffer/internal/metadata"
)

// newMultipartUpload returns an upload with every field set.
func newMultipartUpload(id, bucket, key string) metadata.MultipartUpload {
	return metadata.MultipartUpload{
		ID:                id,
		Bucket:            bucket,
		Key:               key,
		ContentType:       "application/octet-stream",
		Headers:           map[string]string{"Cache-Control": "no-cache", "Content-Language": "de"},
		UserMetadata:      map[string]string{"origin": "backup job"},
		ChecksumAlgorithm: "CRC32C",
		ChecksumType:      "COMPOSITE",
		Created:           created,
	}
}

// createMultipartUpload stores u and fails the test on error.
func (e *env) createMultipartUpload(u metadata.MultipartUpload) {
	e.t.Helper()
	if err := e.store.CreateMultipartUpload(e.ctx, u); err != nil {
		e.t.Fatalf("CreateMultipartUpload(%s): %v", u.ID, err)
	}
}

// wantMultipartUpload compares every field of two uploads.
func (e *env) wantMultipartUpload(call string, got, want metadata.MultipartUpload) {
	e.t.Helper()
	if got.ID != want.ID || got.Bucket != want.Bucket || got.Key != want.Key {
		e.t.Errorf("%s = %s for %q in %s, want %s for %q in %s",
			call, got.ID, got.Key, got.Bucket, want.ID, want.Key, want.Bucket)
	}
	if got.ContentType != want.ContentType {
		e.t.Errorf("%s content type = %q, want %q", call, got.ContentType, want.ContentType)
	}
	e.wantMap(call+" headers", got.Headers, want.Headers)
	e.wantMap(call+" user metadata", got.UserMetadata, want.UserMetadata)
	if got.ChecksumAlgorithm != want.ChecksumAlgorithm || got.ChecksumType != want.ChecksumType {
		e.t.Errorf("%s checksum = %q %q, want %q %q",
			call, got.ChecksumAlgorithm, got.ChecksumType, want.ChecksumAlgorithm, want.ChecksumType)
	}
	if !got.Created.Equal(want.Created) {
		e.t.Errorf("%s created = %v, want %v", call, got.Created, want.Created)
	}
}

// uploadIDs returns the IDs of uploads.
func uploadIDs(uploads []metadata.MultipartUpload) []string {
	ids := make([]string, len(uploads))
	for i, u := range uploads {
		ids[i] = u.ID
	}
	return ids
}

// newPart returns part number n of upload id, with a size and ETag that
// depend on content.
func newPart(id string, n int, content string) metadata.Part {
	return metadata.Part{
		UploadID:   id,
		Number:     n,
		Size:       int64(len(content)),
		ETag:       newObject("", "", content).ETag,
		Checksum:   fmt.Sprintf("checksum-%d-%s", n, content),
		StorageKey: fmt.Sprintf("uploads/%s/%d-%s", id, n, content),
		Modified:   created.Add(time.Duration(n) * time.Second),
	}
}

// putPart stores p, fails the test on error and returns the replaced part.
func (e *env) putPart(p metadata.Part) *metadata.Part {
	e.t.Helper()
	replaced, err := e.store.PutPart(e.ctx, p)
	if err != nil {
		e.t.Fatalf("PutPart(%s, %d): %v", p.UploadID, p.Number, err)
	}
	return replaced
}

// wantParts compares two lists of parts field by field.
func (e *env) wantParts(call string, got, want []metadata.Part) {
	e.t.Helper()
	equal := slices.EqualFunc(got, want, func(a, b metadata.Part) bool {
		return a.UploadID == b.UploadID && a.Number == b.Number && a.Size == b.Size && a.ETag == b.ETag &&
			a.Checksum == b.Checksum && a.StorageKey == b.StorageKey && a.Modified.Equal(b.Modified)
	})
	if !equal {
		e.t.Errorf("%s =\n%+v\nwant\n%+v", call, got, want)
	}
}

func testMultipartUploadLifecycle(e *env) {
	u := newMultipartUpload("upload-1", "media", "videos/big.mp4")
	err := e.store.CreateMultipartUpload(e.ctx, u)
	e.wantNotFound("CreateMultipartUpload in a missing bucket", err)
	e.wantErrorNaming("CreateMultipartUpload in a missing bucket", err, "media")

	e.createBucket("media")
	e.createMultipartUpload(u)
	got, err := e.store.GetMultipartUpload(e.ctx, u.ID)
	if err != nil {
		e.t.Fatalf("GetMultipartUpload: %v", err)
	}
	e.wantMultipartUpload("GetMultipartUpload", got, u)

	other := newMultipartUpload("upload-1", "media", "other key")
	e.wantError("CreateMultipartUpload with a used ID", e.store.CreateMultipartUpload(e.ctx, other), metadata.ErrAlreadyExists)
	got, err = e.store.GetMultipartUpload(e.ctx, u.ID)
	if err != nil {
		e.t.Fatalf("GetMultipartUpload after the rejected create: %v", err)
	}
	e.wantMultipartUpload("GetMultipartUpload after the rejected create", got, u)

	bare := metadata.MultipartUpload{ID: "upload-2", Bucket: "media", Key: "plain", Created: created,
		Headers: map[string]string{}, UserMetadata: map[string]string{}}
	e.createMultipartUpload(bare)
	got, err = e.store.GetMultipartUpload(e.ctx, bare.ID)
	if err != nil {
		e.t.Fatalf("GetMultipartUpload(upload without optional fields): %v", err)
	}
	e.wantMultipartUpload("GetMultipartUpload(upload without optional fields)", got, bare)

	_, err = e.store.GetMultipartUpload(e.ctx, "never-created")
	e.wantNotFound("GetMultipartUpload(unknown)", err)
	e.wantErrorNaming("GetMultipartUpload(unknown)", err, "never-created")
}

func testPutAndListParts(e *env) {
	e.createBucket("media")
	e.createMultipartUpload(newMultipartUpload("upload-1", "media", "big.bin"))

	p3 := newPart("upload-1", 3, "third")
	p1 := newPart("upload-1", 1, "first")
	p2 := newPart("upload-1", 2, "second")
	for _, p := range []metadata.Part{p3, p1, p2} {
		if replaced := e.putPart(p); replaced != nil {
			e.t.Errorf("PutPart(%d) on a free number replaced %+v, want nil", p.Number, replaced)
		}
	}

	again := newPart("upload-1", 2, "second, uploaded again")
	replaced := e.putPart(again)
	if replaced == nil {
		e.t.Fatalf("PutPart(2) again replaced nothing, want the first part 2")
	}
	e.wantParts("part replaced by PutPart", []metadata.Part{*replaced}, []metadata.Part{p2})

	all := []metadata.Part{p1, again, p3}
	for _, tc := range []struct {
		after, limit int
		want         []metadata.Part
	}{
		{0, 0, all},
		{0, 2, all[:2]},
		{2, 2, all[2:]},
		{1, 0, all[1:]},
		{3, 2, nil},
		{10, 0, nil},
	} {
		got, err := e.store.ListParts(e.ctx, "upload-1", tc.after, tc.limit)
		if err != nil {
			e.t.Fatalf("ListParts(after=%d, limit=%d): %v", tc.after, tc.limit, err)
		}
		e.wantParts(fmt.Sprintf("ListParts(after=%d, limit=%d)", tc.after, tc.limit), got, tc.want)
	}

	_, err := e.store.PutPart(e.ctx, newPart("never-created", 1, "orphan"))
	e.wantNotFound("PutPart of an unknown upload", err)
	e.wantErrorNaming("PutPart of an unknown upload", err, "never-created")
}

func testListMultipartUploads(e *env) {
	e.createBucket("media")
	e.createBucket("other")
	// IDs of the uploads of photos/1 sort against their creation order.
	uploads := []metadata.MultipartUpload{
		newMultipartUpload("m", "media", "photos/1"),
		newMultipartUpload("q", "media", "docs/x"),
		newMultipartUpload("a", "media", "photos/1"),
		newMultipartUpload("k", "media", "photos/2"),
		newMultipartUpload("z", "media", "photos/1"),
		newMultipartUpload("b", "other", "photos/1"),
	}
	creation := map[string]time.Duration{"z": 0, "m": time.Second, "a": 2 * time.Second}
	for _, u := range uploads {
		u.Created = created.Add(creation[u.ID])
		e.createMultipartUpload(u)
	}

	for _, tc := range []struct {
		prefix, keyAfter, idAfter string
		limit                     int
		want                      []string
	}{
		{"", "", "", 0, []string{"q", "z", "m", "a", "k"}},
		{"photos/", "", "", 0, []string{"z", "m", "a", "k"}},
		{"photos/1", "", "", 2, []string{"z", "m"}},
		{"", "photos/1", "", 0, []string{"k"}},
		{"", "photos/1", "z", 0, []string{"m", "a", "k"}},
		{"", "photos/1", "m", 1, []string{"a"}},
		{"", "docs/x", "q", 0, []string{"z", "m", "a", "k"}},
		{"docs/", "photos/1", "", 0, nil},
		{"none/", "", "", 0, nil},
	} {
		got, err := e.store.ListMultipartUploads(e.ctx, "media", tc.prefix, tc.keyAfter, tc.idAfter, tc.limit)
		if err != nil {
			e.t.Fatalf("ListMultipartUploads(prefix=%q, after=%q/%q, limit=%d): %v",
				tc.prefix, tc.keyAfter, tc.idAfter, tc.limit, err)
		}
		if ids := uploadIDs(got); !slices.Equal(ids, tc.want) {
			e.t.Errorf("ListMultipartUploads(prefix=%q, after=%q/%q, limit=%d) = %q, want %q",
				tc.prefix, tc.keyAfter, tc.idAfter, tc.limit, ids, tc.want)
		}
	}

	// Pages of two, each starting after the last upload of the page before.
	var pages [][]string
	keyAfter, idAfter := "", ""
	for range len(uploads) + 1 {
		page, err := e.store.ListMultipartUploads(e.ctx, "media", "", keyAfter, idAfter, 2)
		if err != nil {
			e.t.Fatalf("ListMultipartUploads(after=%q/%q, limit=2): %v", keyAfter, idAfter, err)
		}
		if len(page) == 0 {
			break
		}
		pages = append(pages, uploadIDs(page))
		keyAfter, idAfter = page[len(page)-1].Key, page[len(page)-1].ID
	}
	want := [][]string{{"q", "z"}, {"m", "a"}, {"k"}}
	if !slices.EqualFunc(pages, want, slices.Equal) {
		e.t.Errorf("ListMultipartUploads pages = %q, want %q", pages, want)
	}

	got, err := e.store.ListMultipartUploads(e.ctx, "media", "docs/", "", "", 0)
	if err != nil {
		e.t.Fatalf("ListMultipartUploads(prefix=docs/): %v", err)
	}
	if len(got) != 1 {
		e.t.Fatalf("ListMultipartUploads(prefix=docs/) returned %d uploads, want 1", len(got))
	}
	e.wantMultipartUpload("ListMultipartUploads(prefix=docs/)[0]", got[0], uploads[1])
}

func testListMultipartUploadsBefore(e *env) {
	e.createBucket("media")
	e.createBucket("other")
	for _, u := range []struct {
		id, bucket string
		age        time.Duration
	}{
		{"new", "media", 0},
		{"old-b", "other", 2 * time.Hour},
		{"middle", "other", time.Hour},
		{"old-a", "media", 2 * time.Hour},
	} {
		upload := newMultipartUpload(u.id, u.bucket, "key-"+u.id)
		upload.Created = created.Add(-u.age)
		e.createMultipartUpload(upload)
	}

	for _, tc := range []struct {
		before time.Time
		limit  int
		want   []string
	}{
		{created.Add(time.Nanosecond), 0, []string{"old-a", "old-b", "middle", "new"}},
		{created, 0, []string{"old-a", "old-b", "middle"}},
		{created, 2, []string{"old-a", "old-b"}},
		{created.Add(-time.Hour), 0, []string{"old-a", "old-b"}},
		{created.Add(-2 * time.Hour), 0, nil},
	} {
		got, err := e.store.ListMultipartUploadsBefore(e.ctx, tc.before, tc.limit)
		if err != nil {
			e.t.Fatalf("ListMultipartUploadsBefore(%v, %d): %v", tc.before, tc.limit, err)
		}
		if ids := uploadIDs(got); !slices.Equal(ids, tc.want) {
			e.t.Errorf("ListMultipartUploadsBefore(%v, %d) = %q, want %q", tc.before, tc.limit, ids, tc.want)
		}
	}
}

func testCompleteMultipartUpload(e *env) {
	e.createBucket("media")
	previous := newObject("media", "big.bin", "previous content")
	e.putObject(previous)
	e.createMultipartUpload(newMultipartUpload("upload-1", "media", "big.bin"))
	parts := []metadata.Part{newPart("upload-1", 1, "part one|"), newPart("upload-1", 2, "part two")}
	e.putPart(parts[1])
	e.putPart(parts[0])

	o := fullObject("media", "big.bin")
	replaced, got, err := e.store.CompleteMultipartUpload(e.ctx, "upload-1", o, metadata.Precondition{})
	if err != nil {
		e.t.Fatalf("CompleteMultipartUpload: %v", err)
	}
	e.wantObject("object replaced by CompleteMultipartUpload", replaced, previous)
	e.wantParts("parts returned by CompleteMultipartUpload", got, parts)
	e.wantObject("GetObject after CompleteMultipartUpload", e.getObject("media", "big.bin"), o)
	e.wantReferences(o.Blob, 1)
	e.wantReferences(previous.Blob, 0)

	_, err = e.store.GetMultipartUpload(e.ctx, "upload-1")
	e.wantNotFound("GetMultipartUpload after completing", err)
	_, err = e.store.ListParts(e.ctx, "upload-1", 0, 0)
	e.wantNotFound("ListParts after completing", err)
	_, _, err = e.store.CompleteMultipartUpload(e.ctx, "upload-1", o, metadata.Precondition{})
	e.wantNotFound("CompleteMultipartUpload twice", err)
	e.wantErrorNaming("CompleteMultipartUpload twice", err, "upload-1")

	uploads, err := e.store.ListMultipartUploads(e.ctx, "media", "", "", "", 0)
	if err != nil {
		e.t.Fatalf("ListMultipartUploads: %v", err)
	}
	if len(uploads) != 0 {
		e.t.Errorf("ListMultipartUploads after completing = %q, want none", uploadIDs(uploads))
	}
}

func testCompleteMultipartUploadRejected(e *env) {
	e.createBucket("media")
	existing := newObject("media", "taken", "existing content")
	e.putObject(existing)
	e.createMultipartUpload(newMultipartUpload("upload-1", "media", "taken"))
	part := newPart("upload-1", 1, "only part")
	e.putPart(part)

	o := newObject("media", "taken", "only part")
	_, _, err := e.store.CompleteMultipartUpload(e.ctx, "upload-1", o, metadata.Precondition{IfNoneMatchAny: true})
	e.wantError("CompleteMultipartUpload(If-None-Match: *) on an existing key", err, metadata.ErrPreconditionFailed)

	// An object for another key than the upload's does not match the upload.
	elsewhere := newObject("media", "elsewhere", "only part")
	_, _, err = e.store.CompleteMultipartUpload(e.ctx, "upload-1", elsewhere, metadata.Precondition{})
	e.wantNotFound("CompleteMultipartUpload for another key", err)
	_, err = e.store.GetObject(e.ctx, "media", "elsewhere")
	e.wantNotFound("GetObject after completing for another key", err)

	// Both rejected completions left everything as it was.
	e.wantObject("GetObject after the rejected completions", e.getObject("media", "taken"), existing)
	e.wantReferences(existing.Blob, 1)
	if _, err := e.store.GetMultipartUpload(e.ctx, "upload-1"); err != nil {
		e.t.Errorf("GetMultipartUpload after the rejected completions: %v", err)
	}
	got, err := e.store.ListParts(e.ctx, "upload-1", 0, 0)
	if err != nil {
		e.t.Fatalf("ListParts after the rejected completions: %v", err)
	}
	e.wantParts("ListParts after the rejected completions", got, []metadata.Part{part})

	_, _, err = e.store.CompleteMultipartUpload(e.ctx, "never-created", o, metadata.Precondition{})
	e.wantNotFound("CompleteMultipartUpload(unknown upload)", err)
}

func testAbortMultipartUpload(e *env) {
	e.createBucket("media")
	e.createMultipartUpload(newMultipartUpload("upload-1", "media", "big.bin"))
	e.createMultipartUpload(newMultipartUpload("upload-2", "media", "big.bin"))
	parts := []metadata.Part{newPart("upload-1", 1, "one"), newPart("upload-1", 2, "two")}
	e.putPart(parts[1])
	e.putPart(parts[0])
	e.putPart(newPart("upload-2", 1, "kept"))

	got, err := e.store.AbortMultipartUpload(e.ctx, "upload-1")
	if err != nil {
		e.t.Fatalf("AbortMultipartUpload: %v", err)
	}
	e.wantParts("parts returned by AbortMultipartUpload", got, parts)

	_, err = e.store.GetMultipartUpload(e.ctx, "upload-1")
	e.wantNotFound("GetMultipartUpload after aborting", err)
	_, err = e.store.AbortMultipartUpload(e.ctx, "upload-1")
	e.wantNotFound("AbortMultipartUpload twice", err)
	_, err = e.store.GetObject(e.ctx, "media", "big.bin")
	e.wantNotFound("GetObject after aborting", err)

	kept, err := e.store.ListParts(e.ctx, "upload-2", 0, 0)
	if err != nil {
		e.t.Fatalf("ListParts(upload-2): %v", err)
	}
	e.wantParts("ListParts of the other upload", kept, []metadata.Part{newPart("upload-2", 1, "kept")})

	got, err = e.store.AbortMultipartUpload(e.ctx, "upload-2")
	if err != nil {
		e.t.Fatalf("AbortMultipartUpload(upload-2): %v", err)
	}
	e.wantParts("parts returned by AbortMultipartUpload(upload-2)", got, []metadata.Part{newPart("upload-2", 1, "kept")})
}
