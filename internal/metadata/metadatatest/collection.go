package metadatatest

import (
	"slices"
	"time"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
)

// Cutoffs for the collection tests. zero_since comes from the clock of the
// process or of the database server, so the tests compare it with times an
// hour or more away, which leaves room for clock skew, except where a test
// states otherwise.
var (
	// future is after every zero_since the tests create.
	future = time.Now().Add(24 * time.Hour)
	// past is before every zero_since the tests create.
	past = time.Now().Add(-24 * time.Hour)
)

// unreferenced returns the blobs unreferenced since before the given time
// and fails the test on error.
func (e *env) unreferenced(before time.Time) []metadata.UnreferencedBlob {
	e.t.Helper()
	blobs, err := e.store.ListUnreferencedBlobs(e.ctx, before, "", 0)
	if err != nil {
		e.t.Fatalf("ListUnreferencedBlobs: %v", err)
	}
	return blobs
}

// findUnreferenced returns the entry of d in blobs, if any.
func findUnreferenced(blobs []metadata.UnreferencedBlob, d digest.Digest) (metadata.UnreferencedBlob, bool) {
	i := slices.IndexFunc(blobs, func(b metadata.UnreferencedBlob) bool { return b.Digest == d })
	if i < 0 {
		return metadata.UnreferencedBlob{}, false
	}
	return blobs[i], true
}

// wantUnreferenced checks whether d is listed as unreferenced since before
// the given time.
func (e *env) wantUnreferenced(d digest.Digest, before time.Time, want bool) {
	e.t.Helper()
	_, listed := findUnreferenced(e.unreferenced(before), d)
	if listed != want {
		e.t.Errorf("ListUnreferencedBlobs(before %s) lists %s: %t, want %t", before.Format(time.RFC3339), d, listed, want)
	}
}

func testZeroSinceFollowsReferences(e *env) {
	before := time.Now()
	layer := e.linkBlob("app", "layer")
	after := time.Now()

	got, ok := findUnreferenced(e.unreferenced(future), layer.Digest)
	if !ok {
		e.t.Fatalf("a linked blob without references is not listed as unreferenced")
	}
	if got.Size != layer.Size || !got.Linked {
		e.t.Errorf("unreferenced blob = %+v, want size %d and linked", got, layer.Size)
	}
	// LinkBlob records the row's creation time, from this process's clock.
	if got.ZeroSince.Before(before) || got.ZeroSince.After(after) {
		e.t.Errorf("ZeroSince = %v, want the link time between %v and %v", got.ZeroSince, before, after)
	}
	e.wantUnreferenced(layer.Digest, past, false)

	m := image("app", "v1", layer.Digest)
	e.put(m)
	e.wantUnreferenced(layer.Digest, future, false)

	// The count drops to zero again at least 200ms after the link, so a new
	// zero time is more than 100ms after the first one even when the
	// database's clock differs from this process's by up to 100ms.
	time.Sleep(time.Until(got.ZeroSince.Add(200 * time.Millisecond)))
	if err := e.store.DeleteManifest(e.ctx, "app", m.Digest); err != nil {
		e.t.Fatalf("DeleteManifest: %v", err)
	}
	e.wantUnreferenced(layer.Digest, future, true)
	e.wantUnreferenced(layer.Digest, past, false)
	e.wantUnreferenced(layer.Digest, got.ZeroSince.Add(100*time.Millisecond), false)

	e.createBucket("files")
	o := newObject("files", "report.txt", "object content")
	e.putObject(o)
	e.wantUnreferenced(o.Blob, future, false)
	if _, err := e.store.DeleteObject(e.ctx, "files", "report.txt"); err != nil {
		e.t.Fatalf("DeleteObject: %v", err)
	}
	got, ok = findUnreferenced(e.unreferenced(future), o.Blob)
	if !ok {
		e.t.Fatalf("the blob of a deleted object is not listed as unreferenced")
	}
	if got.Linked {
		e.t.Errorf("the blob of a deleted object is listed as linked")
	}
}

func testLookupBlobRestartsGracePeriod(e *env) {
	layer := e.linkBlob("app", "layer")
	first, ok := findUnreferenced(e.unreferenced(future), layer.Digest)
	if !ok {
		e.t.Fatalf("linked blob not listed as unreferenced")
	}
	// A lookup soon after the link leaves zero_since alone.
	if _, err := e.store.LookupBlob(e.ctx, "app", layer.Digest); err != nil {
		e.t.Fatalf("LookupBlob: %v", err)
	}
	if again, _ := findUnreferenced(e.unreferenced(future), layer.Digest); !again.ZeroSince.Equal(first.ZeroSince) &&
		time.Since(first.ZeroSince) < metadata.GraceRestartInterval {
		e.t.Errorf("zero_since after an early lookup = %v, want %v unchanged", again.ZeroSince, first.ZeroSince)
	}

	// Wait until this process's clock, which LookupBlob reads, is a whole
	// restart interval past the link time.
	time.Sleep(time.Until(first.ZeroSince.Add(metadata.GraceRestartInterval + time.Millisecond)))

	if _, err := e.store.LookupBlob(e.ctx, "app", layer.Digest); err != nil {
		e.t.Fatalf("LookupBlob: %v", err)
	}
	e.wantUnreferenced(layer.Digest, first.ZeroSince.Add(metadata.GraceRestartInterval), false)
	e.wantUnreferenced(layer.Digest, future, true)
}

func testLinkBlobRestartsGracePeriod(e *env) {
	layer := e.linkBlob("app", "layer")
	first, ok := findUnreferenced(e.unreferenced(future), layer.Digest)
	if !ok {
		e.t.Fatalf("linked blob not listed as unreferenced")
	}
	// Wait until this process's clock, which LinkBlob reads, has passed
	// the first link time, so the second link records a later one.
	for !time.Now().After(first.ZeroSince) {
	}

	e.linkBlob("other", "layer")
	cutoff := first.ZeroSince.Add(time.Nanosecond)
	e.wantUnreferenced(layer.Digest, cutoff, false)

	// A referenced blob keeps no zero time when linked again.
	e.put(image("app", "v1", layer.Digest))
	e.linkBlob("third", "layer")
	e.wantUnreferenced(layer.Digest, future, false)
}

func testUnlinkUnreferencedBlob(e *env) {
	layer := e.linkBlob("a", "layer")
	e.linkBlob("b", "layer")

	_, err := e.store.UnlinkUnreferencedBlob(e.ctx, layer.Digest, past)
	e.wantConflict("UnlinkUnreferencedBlob before the grace period", err)
	if _, err := e.store.LookupBlob(e.ctx, "a", layer.Digest); err != nil {
		e.t.Errorf("LookupBlob after a rejected unlink: %v", err)
	}

	start := time.Now()
	removed, err := e.store.UnlinkUnreferencedBlob(e.ctx, layer.Digest, future)
	if err != nil {
		e.t.Fatalf("UnlinkUnreferencedBlob: %v", err)
	}
	if removed != 2 {
		e.t.Errorf("UnlinkUnreferencedBlob removed %d links, want 2", removed)
	}
	for _, repo := range []string{"a", "b"} {
		_, err := e.store.LookupBlob(e.ctx, repo, layer.Digest)
		e.wantNotFound("LookupBlob("+repo+") after unlinking", err)
	}
	_, err = e.store.StatBlob(e.ctx, layer.Digest)
	e.wantNotFound("StatBlob after unlinking", err)
	e.wantReferences(layer.Digest, 0)

	got, ok := findUnreferenced(e.unreferenced(future), layer.Digest)
	if !ok || got.Linked {
		e.t.Errorf("after unlinking, unreferenced entry = %+v (listed %t), want listed and not linked", got, ok)
	}
	// Unlinking restarts the grace period at the current time.
	e.wantUnreferenced(layer.Digest, start, false)

	err = e.store.PutManifest(e.ctx, image("a", "late", layer.Digest))
	e.wantMissingReference(err, layer.Digest, false)

	removed, err = e.store.UnlinkUnreferencedBlob(e.ctx, layer.Digest, future)
	if err != nil || removed != 0 {
		e.t.Errorf("UnlinkUnreferencedBlob without links = %d, %v; want 0, nil", removed, err)
	}

	used := e.linkBlob("a", "used layer")
	e.put(image("a", "v1", used.Digest))
	_, err = e.store.UnlinkUnreferencedBlob(e.ctx, used.Digest, future)
	e.wantConflict("UnlinkUnreferencedBlob of a referenced blob", err)
	if _, err := e.store.LookupBlob(e.ctx, "a", used.Digest); err != nil {
		e.t.Errorf("LookupBlob of a referenced blob after a rejected unlink: %v", err)
	}

	_, err = e.store.UnlinkUnreferencedBlob(e.ctx, digest.SHA256.FromBytes([]byte("never stored")), future)
	e.wantNotFound("UnlinkUnreferencedBlob of a missing blob", err)
}

func testDeleteUnreferencedBlob(e *env) {
	layer := e.linkBlob("app", "layer")
	_, err := e.store.DeleteUnreferencedBlob(e.ctx, layer.Digest, future)
	e.wantConflict("DeleteUnreferencedBlob of a linked blob", err)

	if _, err := e.store.UnlinkUnreferencedBlob(e.ctx, layer.Digest, future); err != nil {
		e.t.Fatalf("UnlinkUnreferencedBlob: %v", err)
	}
	_, err = e.store.DeleteUnreferencedBlob(e.ctx, layer.Digest, past)
	e.wantConflict("DeleteUnreferencedBlob before the grace period", err)

	got, err := e.store.DeleteUnreferencedBlob(e.ctx, layer.Digest, future)
	if err != nil {
		e.t.Fatalf("DeleteUnreferencedBlob: %v", err)
	}
	if got.Digest != layer.Digest || got.Size != layer.Size || got.ZeroSince.IsZero() {
		e.t.Errorf("DeleteUnreferencedBlob = %+v, want %s of %d bytes with its zero time", got, layer.Digest, layer.Size)
	}
	_, err = e.store.BlobReferences(e.ctx, layer.Digest)
	e.wantNotFound("BlobReferences after the delete", err)
	_, err = e.store.DeleteUnreferencedBlob(e.ctx, layer.Digest, future)
	e.wantNotFound("DeleteUnreferencedBlob twice", err)

	// The blob can be pushed again.
	e.linkBlob("app", "layer")
	e.put(image("app", "again", layer.Digest))
	e.wantReferences(layer.Digest, 1)

	e.createBucket("files")
	o := newObject("files", "kept.txt", "object content")
	e.putObject(o)
	_, err = e.store.DeleteUnreferencedBlob(e.ctx, o.Blob, future)
	e.wantConflict("DeleteUnreferencedBlob of an object's blob", err)
	if _, err := e.store.DeleteObject(e.ctx, "files", "kept.txt"); err != nil {
		e.t.Fatalf("DeleteObject: %v", err)
	}
	if _, err := e.store.DeleteUnreferencedBlob(e.ctx, o.Blob, future); err != nil {
		e.t.Errorf("DeleteUnreferencedBlob of a deleted object's blob: %v", err)
	}
	_, err = e.store.BlobReferences(e.ctx, o.Blob)
	e.wantNotFound("BlobReferences of the deleted object's blob", err)

	// PutObject records the blob again.
	e.putObject(newObject("files", "back.txt", "object content"))
	e.wantReferences(o.Blob, 1)
}

func testListAndFindBlobs(e *env) {
	var want []digest.Digest
	for _, content := range []string{"one", "two", "three", "four", "five"} {
		want = append(want, e.linkBlob("app", content).Digest)
	}
	slices.Sort(want)

	var got []digest.Digest
	var cursor digest.Digest
	for range len(want) + 1 {
		page, err := e.store.ListBlobs(e.ctx, cursor, 2)
		if err != nil {
			e.t.Fatalf("ListBlobs(after %q): %v", cursor, err)
		}
		if len(page) == 0 {
			break
		}
		for _, b := range page {
			if b.Size != 3 && b.Size != 4 && b.Size != 5 {
				e.t.Errorf("ListBlobs size of %s = %d, want the content length", b.Digest, b.Size)
			}
			got = append(got, b.Digest)
		}
		cursor = page[len(page)-1].Digest
	}
	if !slices.Equal(got, want) {
		e.t.Errorf("ListBlobs pages = %v, want %v", got, want)
	}

	missing := digest.SHA256.FromBytes([]byte("missing"))
	found, err := e.store.FindBlobs(e.ctx, []digest.Digest{want[3], missing, want[1], want[1]})
	if err != nil {
		e.t.Fatalf("FindBlobs: %v", err)
	}
	wantFound := []digest.Digest{want[1], want[3]}
	if !slices.Equal(found, wantFound) {
		e.t.Errorf("FindBlobs = %v, want %v", found, wantFound)
	}
	if found, err := e.store.FindBlobs(e.ctx, nil); err != nil || len(found) != 0 {
		e.t.Errorf("FindBlobs(nil) = %v, %v; want nothing", found, err)
	}
}

func testListUploadsBefore(e *env) {
	for i, id := range []string{"u3", "u1", "u4", "u2"} {
		u := newUpload(id, "app")
		u.Updated = created.Add(time.Duration(i) * time.Hour)
		if err := e.store.CreateUpload(e.ctx, u); err != nil {
			e.t.Fatalf("CreateUpload(%s): %v", id, err)
		}
	}
	// Updated: u3 +0h, u1 +1h, u4 +2h, u2 +3h.
	cutoff := created.Add(150 * time.Minute)

	var got []string
	after := ""
	for range 5 {
		page, err := e.store.ListUploadsBefore(e.ctx, cutoff, after, 2)
		if err != nil {
			e.t.Fatalf("ListUploadsBefore(after %q): %v", after, err)
		}
		if len(page) == 0 {
			break
		}
		for _, u := range page {
			got = append(got, u.ID)
			if u.Repository != "app" || !u.Created.Equal(created) {
				e.t.Errorf("ListUploadsBefore returned %+v, want repository app created %v", u, created)
			}
		}
		after = page[len(page)-1].ID
	}
	want := []string{"u1", "u3", "u4"}
	if !slices.Equal(got, want) {
		e.t.Errorf("ListUploadsBefore pages = %q, want %q", got, want)
	}
}

func testFindStagedKeys(e *env) {
	e.createBucket("files")
	e.createMultipartUpload(newMultipartUpload("upload-1", "files", "big.bin"))
	p1 := newPart("upload-1", 1, "first")
	p2 := newPart("upload-1", 2, "second")
	e.putPart(p1)
	e.putPart(p2)

	stray := "uploads/part-stray"
	found, err := e.store.FindStagedKeys(e.ctx, []string{p2.StorageKey, stray, p1.StorageKey})
	if err != nil {
		e.t.Fatalf("FindStagedKeys: %v", err)
	}
	want := []string{p1.StorageKey, p2.StorageKey}
	slices.Sort(want)
	if !slices.Equal(found, want) {
		e.t.Errorf("FindStagedKeys = %q, want %q", found, want)
	}

	if _, err := e.store.AbortMultipartUpload(e.ctx, "upload-1"); err != nil {
		e.t.Fatalf("AbortMultipartUpload: %v", err)
	}
	found, err = e.store.FindStagedKeys(e.ctx, want)
	if err != nil || len(found) != 0 {
		e.t.Errorf("FindStagedKeys after abort = %q, %v; want nothing", found, err)
	}
}
