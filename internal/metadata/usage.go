package metadata

import "context"

// RepositoryUsage is the storage a repository accounts for. The store keeps
// it in counter rows that change in the transaction of every change to the
// counted rows, so reading it costs one lookup whatever the repository's
// size. Quotas check against these numbers.
type RepositoryUsage struct {
	Repository string
	// Manifests is the number of manifests stored in the repository, tagged
	// or not, and ManifestBytes the sum of their sizes.
	Manifests     int64
	ManifestBytes int64
	// Tags is the number of tags.
	Tags int64
	// Blobs is the number of distinct blobs linked to the repository: pushed
	// to it, mounted into it, or linked when a manifest was pushed. BlobBytes
	// is the sum of their sizes, each blob counted once however many of the
	// repository's manifests name it. A blob shared with other repositories
	// counts in each of them.
	Blobs     int64
	BlobBytes int64
}

// TotalBytes returns the bytes of the linked blobs plus the bytes of the
// manifests.
func (u RepositoryUsage) TotalBytes() int64 { return u.BlobBytes + u.ManifestBytes }

// BucketUsage is the storage a bucket accounts for, kept like RepositoryUsage.
type BucketUsage struct {
	Bucket string
	// Objects is the number of objects and ObjectBytes the sum of their
	// sizes. An object whose content equals another object or an OCI blob
	// counts its full size here, although the blob store holds it once.
	Objects     int64
	ObjectBytes int64
	// MultipartUploads is the number of multipart uploads in progress.
	// MultipartParts and MultipartBytes count their uploaded parts and the
	// sum of the part sizes; a part uploaded again under the same number
	// counts once, with its latest size.
	MultipartUploads int64
	MultipartParts   int64
	MultipartBytes   int64
}

// TotalBytes returns the object bytes plus the bytes of the parts of
// uploads in progress.
func (u BucketUsage) TotalBytes() int64 { return u.ObjectBytes + u.MultipartBytes }

// Usage reads the usage counters.
type Usage interface {
	// RepositoryUsage returns the usage of repo, or ErrNotFound when the
	// repository does not exist.
	RepositoryUsage(ctx context.Context, repo string) (RepositoryUsage, error)
	// BucketUsage returns the usage of bucket, or ErrNotFound when the
	// bucket does not exist.
	BucketUsage(ctx context.Context, bucket string) (BucketUsage, error)
}
