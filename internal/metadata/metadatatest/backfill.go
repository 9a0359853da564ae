package metadatatest

import (
	"testing"

	"github.com/cofferhq/coffer/internal/metadata"
)

// FillForBackfill stores a repository "app" and a bucket "media" with
// manifests, tags, blob links, objects and a multipart upload in progress,
// and returns the usage each must report. A backend's migration test calls
// it, removes the usage counters, migrates again and checks that the
// migration's backfill restores exactly these numbers.
func FillForBackfill(t *testing.T, store metadata.Store) (metadata.RepositoryUsage, metadata.BucketUsage) {
	t.Helper()
	e := &env{t: t, ctx: t.Context(), store: store}

	config := e.linkBlob("app", "config bytes")  // 12 bytes
	layer := e.linkBlob("app", "layer contents") // 14 bytes
	e.linkBlob("app", "unused blob")             // 11 bytes
	first := image("app", "first", config.Digest, layer.Digest)
	second := image("app", "second", layer.Digest)
	e.put(first, "v1", "latest")
	e.put(second, "v2")
	repo := metadata.RepositoryUsage{
		Repository:    "app",
		Manifests:     2,
		ManifestBytes: int64(len(first.Content) + len(second.Content)),
		Tags:          3,
		Blobs:         3,
		BlobBytes:     37,
	}

	e.createBucket("media")
	e.putObject(newObject("media", "a.txt", "0123456789"))
	e.putObject(newObject("media", "b.txt", "abc"))
	e.createMultipartUpload(newMultipartUpload("upload-1", "media", "big.bin"))
	e.putPart(newPart("upload-1", 1, "part one"))
	e.putPart(newPart("upload-1", 2, "two"))
	bucket := metadata.BucketUsage{
		Bucket:           "media",
		Objects:          2,
		ObjectBytes:      13,
		MultipartUploads: 1,
		MultipartParts:   2,
		MultipartBytes:   11,
	}

	e.wantRepositoryUsage("filling the store", repo)
	e.wantBucketUsage("filling the store", bucket)
	return repo, bucket
}
