package metadatatest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
)

// repositoryUsage returns the usage of repo and fails the test on error.
func (e *env) repositoryUsage(repo string) metadata.RepositoryUsage {
	e.t.Helper()
	u, err := e.store.RepositoryUsage(e.ctx, repo)
	if err != nil {
		e.t.Fatalf("RepositoryUsage(%s): %v", repo, err)
	}
	return u
}

// wantRepositoryUsage checks every counter of repo's usage after step.
func (e *env) wantRepositoryUsage(step string, want metadata.RepositoryUsage) {
	e.t.Helper()
	if got := e.repositoryUsage(want.Repository); got != want {
		e.t.Errorf("RepositoryUsage(%s) after %s =\n%+v\nwant\n%+v", want.Repository, step, got, want)
	}
}

// bucketUsage returns the usage of bucket and fails the test on error.
func (e *env) bucketUsage(bucket string) metadata.BucketUsage {
	e.t.Helper()
	u, err := e.store.BucketUsage(e.ctx, bucket)
	if err != nil {
		e.t.Fatalf("BucketUsage(%s): %v", bucket, err)
	}
	return u
}

// wantBucketUsage checks every counter of a bucket's usage after step.
func (e *env) wantBucketUsage(step string, want metadata.BucketUsage) {
	e.t.Helper()
	if got := e.bucketUsage(want.Bucket); got != want {
		e.t.Errorf("BucketUsage(%s) after %s =\n%+v\nwant\n%+v", want.Bucket, step, got, want)
	}
}

func testRepositoryUsage(e *env) {
	_, err := e.store.RepositoryUsage(e.ctx, "app")
	e.wantNotFound("RepositoryUsage of a missing repository", err)
	e.wantErrorNaming("RepositoryUsage of a missing repository", err, "app")

	config := e.linkBlob("app", "config bytes")  // 12 bytes
	layer := e.linkBlob("app", "layer contents") // 14 bytes
	e.linkBlob("app", "layer contents")          // linking again changes nothing
	e.linkBlob("other", "layer contents")        // other repositories count separately
	want := metadata.RepositoryUsage{Repository: "app", Blobs: 2, BlobBytes: 26}
	e.wantRepositoryUsage("linking two blobs", want)

	first := image("app", "first", config.Digest, layer.Digest)
	e.put(first, "v1", "latest")
	want.Manifests, want.ManifestBytes, want.Tags = 1, int64(len(first.Content)), 2
	e.wantRepositoryUsage("pushing a manifest with two tags", want)

	e.put(first, "v1")
	e.wantRepositoryUsage("pushing the same manifest again", want)

	// A second manifest naming the same blobs adds its own bytes but no
	// blob bytes: each linked blob counts once.
	second := image("app", "second", layer.Digest, config.Digest)
	e.put(second, "latest")
	want.Manifests, want.ManifestBytes = 2, want.ManifestBytes+int64(len(second.Content))
	e.wantRepositoryUsage("moving a tag to a second manifest", want)

	idx := index("app", "both", first.Digest, second.Digest)
	e.put(idx, "multi")
	want.Manifests, want.ManifestBytes, want.Tags = 3, want.ManifestBytes+int64(len(idx.Content)), 3
	e.wantRepositoryUsage("pushing an index", want)

	if err := e.store.DeleteTag(e.ctx, "app", "multi"); err != nil {
		e.t.Fatalf("DeleteTag(multi): %v", err)
	}
	want.Tags = 2
	e.wantRepositoryUsage("deleting a tag", want)

	if err := e.store.DeleteManifest(e.ctx, "app", first.Digest); err != nil {
		e.t.Fatalf("DeleteManifest(first): %v", err)
	}
	want.Manifests, want.ManifestBytes, want.Tags = 2, want.ManifestBytes-int64(len(first.Content)), 1
	e.wantRepositoryUsage("deleting a manifest with one tag", want)

	if err := e.store.UnlinkBlob(e.ctx, "app", config.Digest); err != nil {
		e.t.Fatalf("UnlinkBlob(config): %v", err)
	}
	want.Blobs, want.BlobBytes = 1, 14
	e.wantRepositoryUsage("unlinking a blob", want)

	e.wantRepositoryUsage("changes to app", metadata.RepositoryUsage{Repository: "other", Blobs: 1, BlobBytes: 14})
}

func testRepositoryUsageAfterCollection(e *env) {
	layer := e.linkBlob("app", "collected layer")
	m := image("app", "untagged", layer.Digest)
	e.put(m)
	e.wantRepositoryUsage("pushing an untagged manifest", metadata.RepositoryUsage{
		Repository: "app", Manifests: 1, ManifestBytes: int64(len(m.Content)), Blobs: 1, BlobBytes: 15,
	})

	later := time.Now().Add(time.Hour)
	if err := e.store.DeleteUntaggedManifest(e.ctx, "app", m.Digest, later); err != nil {
		e.t.Fatalf("DeleteUntaggedManifest: %v", err)
	}
	e.wantRepositoryUsage("collecting the manifest", metadata.RepositoryUsage{Repository: "app", Blobs: 1, BlobBytes: 15})

	if _, err := e.store.UnlinkUnreferencedBlob(e.ctx, layer.Digest, later); err != nil {
		e.t.Fatalf("UnlinkUnreferencedBlob: %v", err)
	}
	e.wantRepositoryUsage("collecting the blob's links", metadata.RepositoryUsage{Repository: "app"})
}

func testBucketUsage(e *env) {
	_, err := e.store.BucketUsage(e.ctx, "media")
	e.wantNotFound("BucketUsage of a missing bucket", err)
	e.wantErrorNaming("BucketUsage of a missing bucket", err, "media")

	e.createBucket("media")
	e.createBucket("other")
	want := metadata.BucketUsage{Bucket: "media"}
	e.wantBucketUsage("creating the bucket", want)

	e.putObject(newObject("media", "a.txt", "0123456789"))  // 10 bytes
	e.putObject(newObject("media", "b.txt", "abc"))         // 3 bytes
	e.putObject(newObject("other", "a.txt", "other bytes")) // another bucket
	want.Objects, want.ObjectBytes = 2, 13
	e.wantBucketUsage("putting two objects", want)

	e.putObject(newObject("media", "a.txt", "01234"))
	want.ObjectBytes = 8
	e.wantBucketUsage("overwriting an object with a shorter one", want)

	e.putObject(newObject("media", "b.txt", "abc"))
	e.wantBucketUsage("overwriting an object with equal content", want)

	if _, err := e.store.DeleteObject(e.ctx, "media", "b.txt"); err != nil {
		e.t.Fatalf("DeleteObject(b.txt): %v", err)
	}
	want.Objects, want.ObjectBytes = 1, 5
	e.wantBucketUsage("deleting an object", want)

	_, err = e.store.PutObject(e.ctx, newObject("media", "a.txt", "rejected"), metadata.Precondition{IfNoneMatchAny: true})
	e.wantError("PutObject with If-None-Match on an existing key", err, metadata.ErrPreconditionFailed)
	e.wantBucketUsage("a rejected conditional put", want)

	e.wantBucketUsage("changes to media", metadata.BucketUsage{Bucket: "other", Objects: 1, ObjectBytes: 11})
}

func testBucketUsageMultipart(e *env) {
	e.createBucket("media")
	e.putObject(newObject("media", "big.bin", "previous")) // 8 bytes
	want := metadata.BucketUsage{Bucket: "media", Objects: 1, ObjectBytes: 8}

	e.createMultipartUpload(newMultipartUpload("upload-1", "media", "big.bin"))
	e.createMultipartUpload(newMultipartUpload("upload-2", "media", "aborted.bin"))
	want.MultipartUploads = 2
	e.wantBucketUsage("creating two uploads", want)

	e.putPart(newPart("upload-1", 1, "part one|")) // 9 bytes
	e.putPart(newPart("upload-1", 2, "part two"))  // 8 bytes
	e.putPart(newPart("upload-2", 1, "abandoned")) // 9 bytes
	e.putPart(newPart("upload-2", 2, "and more"))  // 8 bytes
	want.MultipartParts, want.MultipartBytes = 4, 34
	e.wantBucketUsage("putting four parts", want)

	e.putPart(newPart("upload-1", 2, "part 2"))
	want.MultipartBytes = 32
	e.wantBucketUsage("replacing a part with a shorter one", want)

	if _, err := e.store.AbortMultipartUpload(e.ctx, "upload-2"); err != nil {
		e.t.Fatalf("AbortMultipartUpload(upload-2): %v", err)
	}
	want.MultipartUploads, want.MultipartParts, want.MultipartBytes = 1, 2, 15
	e.wantBucketUsage("aborting an upload", want)

	completed := newObject("media", "big.bin", "part one|part 2")
	if _, _, err := e.store.CompleteMultipartUpload(e.ctx, "upload-1", completed, metadata.Precondition{}); err != nil {
		e.t.Fatalf("CompleteMultipartUpload(upload-1): %v", err)
	}
	want = metadata.BucketUsage{Bucket: "media", Objects: 1, ObjectBytes: 15}
	e.wantBucketUsage("completing an upload over an object", want)

	e.createMultipartUpload(newMultipartUpload("upload-3", "media", "new.bin"))
	e.putPart(newPart("upload-3", 1, "fresh"))
	if _, _, err := e.store.CompleteMultipartUpload(e.ctx, "upload-3", newObject("media", "new.bin", "fresh"), metadata.Precondition{}); err != nil {
		e.t.Fatalf("CompleteMultipartUpload(upload-3): %v", err)
	}
	want = metadata.BucketUsage{Bucket: "media", Objects: 2, ObjectBytes: 20}
	e.wantBucketUsage("completing an upload to a new key", want)
}

func testBucketUsageDeletedBucket(e *env) {
	e.createBucket("media")
	if err := e.store.DeleteBucket(e.ctx, "media"); err != nil {
		e.t.Fatalf("DeleteBucket: %v", err)
	}
	_, err := e.store.BucketUsage(e.ctx, "media")
	e.wantNotFound("BucketUsage of a deleted bucket", err)

	e.createBucket("media")
	e.wantBucketUsage("creating the bucket again", metadata.BucketUsage{Bucket: "media"})
}

// rounds is the number of rounds each writer of testConcurrentUsage runs.
const rounds = 8

// testConcurrentUsage runs writers that overwrite and delete shared keys and
// tags at once, then checks that the counters equal a recomputation from
// the rows that remain.
func testConcurrentUsage(e *env) {
	const writers = 6
	e.createBucket("busy")

	errs := make([]error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() { errs[w] = e.concurrentWriter(w) })
	}
	wg.Wait()
	for w, err := range errs {
		if err != nil {
			e.t.Fatalf("writer %d: %v", w, err)
		}
	}

	e.wantBucketUsage("concurrent writers", e.recomputeBucketUsage("busy"))
	e.wantRepositoryUsage("concurrent writers", e.recomputeRepositoryUsage("busy", writers))
}

// concurrentWriter is one writer of testConcurrentUsage. Its writes collide
// with the other writers' on the keys "shared/<round>" and the tag
// "shared", so the final state depends on the interleaving.
func (e *env) concurrentWriter(w int) error {
	for r := range rounds {
		content := writerContent(w, r)
		if _, err := e.store.PutObject(e.ctx, newObject("busy", fmt.Sprintf("shared/%d", r%3), content), metadata.Precondition{}); err != nil {
			return fmt.Errorf("put shared object: %w", err)
		}
		own := fmt.Sprintf("own/%d/%d", w, r)
		if _, err := e.store.PutObject(e.ctx, newObject("busy", own, content), metadata.Precondition{}); err != nil {
			return fmt.Errorf("put own object: %w", err)
		}
		if r%2 == 1 {
			if _, err := e.store.DeleteObject(e.ctx, "busy", own); err != nil {
				return fmt.Errorf("delete own object: %w", err)
			}
		}

		id := fmt.Sprintf("upload-%d-%d", w, r)
		if err := e.store.CreateMultipartUpload(e.ctx, newMultipartUpload(id, "busy", own)); err != nil {
			return fmt.Errorf("create upload: %w", err)
		}
		if _, err := e.store.PutPart(e.ctx, newPart(id, 1, content)); err != nil {
			return fmt.Errorf("put part: %w", err)
		}
		if r%3 == 0 {
			if _, err := e.store.AbortMultipartUpload(e.ctx, id); err != nil {
				return fmt.Errorf("abort upload: %w", err)
			}
		}

		b := metadata.Blob{Digest: digest.SHA256.FromBytes([]byte(content)), Size: int64(len(content))}
		if err := e.store.LinkBlob(e.ctx, "busy", b); err != nil {
			return fmt.Errorf("link blob: %w", err)
		}
		m := image("busy", content, b.Digest)
		if err := e.store.PutManifest(e.ctx, m, "shared", fmt.Sprintf("w%d", w)); err != nil {
			return fmt.Errorf("put manifest: %w", err)
		}
		if r%2 == 1 {
			if err := e.store.DeleteManifest(e.ctx, "busy", m.Digest); err != nil && !isNotFound(err) {
				return fmt.Errorf("delete manifest: %w", err)
			}
		}
	}
	return nil
}

// writerContent returns the content that writer w stores in round r. The
// length differs between writers and rounds, so a lost size change shows.
func writerContent(w, r int) string {
	return fmt.Sprintf("writer %d round %d %s", w, r, strings.Repeat("x", w*rounds+r))
}

func isNotFound(err error) bool { return errors.Is(err, metadata.ErrNotFound) }

// recomputeBucketUsage counts the objects, uploads and parts of bucket
// from the listings.
func (e *env) recomputeBucketUsage(bucket string) metadata.BucketUsage {
	e.t.Helper()
	u := metadata.BucketUsage{Bucket: bucket}
	objects, err := e.store.ListObjects(e.ctx, bucket, "", "", 0)
	if err != nil {
		e.t.Fatalf("ListObjects(%s): %v", bucket, err)
	}
	for _, o := range objects {
		u.Objects++
		u.ObjectBytes += o.Size
	}
	uploads, err := e.store.ListMultipartUploads(e.ctx, bucket, "", "", "", 0)
	if err != nil {
		e.t.Fatalf("ListMultipartUploads(%s): %v", bucket, err)
	}
	for _, up := range uploads {
		u.MultipartUploads++
		parts, err := e.store.ListParts(e.ctx, up.ID, 0, 0)
		if err != nil {
			e.t.Fatalf("ListParts(%s): %v", up.ID, err)
		}
		for _, p := range parts {
			u.MultipartParts++
			u.MultipartBytes += p.Size
		}
	}
	return u
}

// recomputeRepositoryUsage counts the manifests, tags and linked blobs that
// the writers of testConcurrentUsage left in repo.
func (e *env) recomputeRepositoryUsage(repo string, writers int) metadata.RepositoryUsage {
	e.t.Helper()
	u := metadata.RepositoryUsage{Repository: repo}
	for w := range writers {
		for r := range rounds {
			content := writerContent(w, r)
			d := digest.SHA256.FromBytes([]byte(content))
			if b, err := e.store.LookupBlob(e.ctx, repo, d); err == nil {
				u.Blobs++
				u.BlobBytes += b.Size
			} else if !isNotFound(err) {
				e.t.Fatalf("LookupBlob(%s): %v", d, err)
			}
			m := image(repo, content, d)
			if _, err := e.store.GetManifest(e.ctx, repo, m.Digest); err == nil {
				u.Manifests++
				u.ManifestBytes += int64(len(m.Content))
			} else if !isNotFound(err) {
				e.t.Fatalf("GetManifest(%s): %v", m.Digest, err)
			}
		}
	}
	u.Tags = int64(len(e.tags(repo)))
	return u
}
