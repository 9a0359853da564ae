package metadata

import (
	"context"
	"time"

	"github.com/cofferhq/coffer/internal/digest"
)

// TrustStore is a stored trust store: the keys, certificates and policy
// that verify the supply-chain artifacts of one scope. The store keeps
// Document as opaque JSON; internal/supplychain defines and validates it.
type TrustStore struct {
	Name     string
	Document []byte
	Created  time.Time
	Updated  time.Time
}

// ManifestLocation is one repository that stores a manifest.
type ManifestLocation struct {
	Repository string
	MediaType  string
	Size       int64
}

// RepositoryReferrer is one referrer and the repository that stores it.
type RepositoryReferrer struct {
	Repository string
	Referrer
}

// TagLocation is one tag and the manifest it points at.
type TagLocation struct {
	Repository string
	Tag        string
	Digest     digest.Digest
}

// ObjectLocation is one S3 object.
type ObjectLocation struct {
	Bucket string
	Key    string
}

// TrustStores persists trust stores.
type TrustStores interface {
	// PutTrustStore creates or replaces the trust store named s.Name. A
	// replacement keeps the stored Created time.
	PutTrustStore(ctx context.Context, s TrustStore) error
	// GetTrustStore returns the trust store, or ErrNotFound.
	GetTrustStore(ctx context.Context, name string) (TrustStore, error)
	// ListTrustStores returns every trust store, ordered by name.
	ListTrustStores(ctx context.Context) ([]TrustStore, error)
	// DeleteTrustStore removes the trust store, or returns ErrNotFound.
	DeleteTrustStore(ctx context.Context, name string) error
}

// ArtifactLocations finds a digest and its supply-chain artifacts across
// every repository and bucket, for trust status.
type ArtifactLocations interface {
	// FindManifests returns the repositories that store manifest d, in
	// name order.
	FindManifests(ctx context.Context, d digest.Digest) ([]ManifestLocation, error)
	// FindReferrers returns the manifests in any repository whose subject
	// is d, ordered by repository name and digest. The subject need not be
	// stored.
	FindReferrers(ctx context.Context, subject digest.Digest) ([]RepositoryReferrer, error)
	// FindTags returns the tags, in any repository, whose name is one of
	// names, ordered by repository name and tag.
	FindTags(ctx context.Context, names []string) ([]TagLocation, error)
	// FindObjects returns up to limit S3 objects whose content has digest
	// d, ordered by bucket and key.
	FindObjects(ctx context.Context, d digest.Digest, limit int) ([]ObjectLocation, error)
}
