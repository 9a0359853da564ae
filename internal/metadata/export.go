package metadata

import (
	"context"

	"github.com/cofferhq/coffer/internal/digest"
)

// Tag is one tag of a repository and the manifest it points at.
type Tag struct {
	Name   string
	Digest digest.Digest
}

// Export lists what a store holds in the shape its write methods take, so
// that "cofferd migrate" can copy one store into another. Together with
// ListRepositories, ListBuckets, ListObjects and ListBlobs it reaches every
// record a deployment needs to serve its content.
type Export interface {
	// ListRepositoryBlobs returns up to limit blobs linked to repo whose
	// digests sort after the cursor, in byte order. A repository that does
	// not exist returns ErrNotFound.
	ListRepositoryBlobs(ctx context.Context, repo string, after digest.Digest, limit int) ([]Blob, error)
	// ListManifests returns up to limit manifests of repo whose digests sort
	// after the cursor, in byte order, with Blobs and Children filled in
	// (each distinct and in byte order). A repository that does not exist
	// returns ErrNotFound.
	ListManifests(ctx context.Context, repo string, after digest.Digest, limit int) ([]Manifest, error)
	// ListTagTargets returns up to limit tags of repo that sort after the
	// cursor, in byte order, with the digests they point at. A repository
	// that does not exist returns ErrNotFound.
	ListTagTargets(ctx context.Context, repo, after string, limit int) ([]Tag, error)
}
