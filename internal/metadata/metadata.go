// Package metadata defines the role-sized interfaces of Coffer's metadata
// store (repositories, blobs, manifests and tags, referrers, upload sessions)
// and the records they exchange. Implementations live in sub-packages
// (sqlite; postgres later) and pass the contract suite in metadatatest.
//
// Every method that changes more than one record does so in one transaction,
// so that reference counts always agree with the manifests and tags that
// hold them.
package metadata

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/cofferhq/coffer/internal/digest"
)

var (
	// ErrNotFound reports a missing repository, blob link, manifest, tag or upload.
	ErrNotFound = errors.New("not found")
	// ErrConflict reports an update based on a stale state, such as an upload
	// offset that another request has already moved.
	ErrConflict = errors.New("conflict")
)

// MissingReferenceError reports a manifest that references a blob or a
// manifest that is not stored in the same repository.
type MissingReferenceError struct {
	Digest   digest.Digest
	Manifest bool // true when the missing reference is a manifest, false for a blob
}

func (e *MissingReferenceError) Error() string {
	kind := "blob"
	if e.Manifest {
		kind = "manifest"
	}
	return "referenced " + kind + " " + string(e.Digest) + " is not in the repository"
}

// Blob is a stored blob's identity.
type Blob struct {
	Digest digest.Digest
	Size   int64
	// Location is the storage key of the blob's content, or empty for the
	// blob's content key (blob.Key). A key under QuarantinePrefix means
	// that the integrity scrub moved corrupt content there.
	Location string
}

// QuarantinePrefix starts the location of a blob whose content the
// integrity scrub found corrupt.
const QuarantinePrefix = "quarantine/"

// Quarantined reports whether the integrity scrub found b's content
// corrupt. Such a blob counts as missing until an upload stores it again.
func (b Blob) Quarantined() bool { return strings.HasPrefix(b.Location, QuarantinePrefix) }

// Manifest is a stored manifest with the facts the registry indexes.
type Manifest struct {
	Repository string
	Digest     digest.Digest
	MediaType  string
	Content    []byte // the exact bytes that were pushed
	// ArtifactType is the manifest's artifactType, falling back to
	// config.mediaType, as the referrers API reports it. Empty for indexes
	// without artifactType.
	ArtifactType string
	// Subject is the digest named by the manifest's subject field, if any.
	Subject digest.Digest
	// Annotations are the manifest's top-level annotations.
	Annotations map[string]string
	// Blobs are the config and layer digests; each must be linked to the repository.
	Blobs []digest.Digest
	// Children are the manifests an index references; each must be stored in the repository.
	Children []digest.Digest
	Created  time.Time
}

// Referrer is one entry of a referrers response.
type Referrer struct {
	MediaType    string
	Digest       digest.Digest
	Size         int64
	ArtifactType string
	Annotations  map[string]string
}

// RepositoryInfo summarises one repository for the management API.
type RepositoryInfo struct {
	Name      string
	Manifests int64
	Tags      int64
	Created   time.Time
}

// Upload is the persisted state of an upload session.
type Upload struct {
	ID         string
	Repository string
	// Offset is the number of bytes durably received.
	Offset int64
	// HashState is the marshalled state of the running SHA-256 over the
	// first Offset bytes, so a session resumes without re-reading them.
	HashState []byte
	Created   time.Time
	Updated   time.Time
}

// Repositories lists repositories.
type Repositories interface {
	// ListRepositories returns up to limit repositories whose names sort
	// after the cursor, in byte order.
	ListRepositories(ctx context.Context, after string, limit int) ([]RepositoryInfo, error)
}

// Blobs records which blobs exist and which repositories may read them.
type Blobs interface {
	// LinkBlob records b (if new) and makes it readable in repo, creating
	// the repository on first use. An existing row keeps its location,
	// unless it is quarantined: then it takes b's, since the caller has
	// just stored good content there.
	LinkBlob(ctx context.Context, repo string, b Blob) error
	// LookupBlob returns the blob when it is linked to repo, else ErrNotFound.
	LookupBlob(ctx context.Context, repo string, d digest.Digest) (Blob, error)
	// GetBlob returns the row of blob d, whether linked or not, else
	// ErrNotFound.
	GetBlob(ctx context.Context, d digest.Digest) (Blob, error)
	// StatBlob returns the blob if any repository links it, else ErrNotFound.
	StatBlob(ctx context.Context, d digest.Digest) (Blob, error)
	// UnlinkBlob removes the blob from repo. The content stays while other
	// links or manifests reference it.
	UnlinkBlob(ctx context.Context, repo string, d digest.Digest) error
	// BlobReferences returns how many manifests, in any repository, and S3
	// objects, in any bucket, reference d.
	BlobReferences(ctx context.Context, d digest.Digest) (int64, error)
}

// Manifests stores manifests, tags and the referrers index.
type Manifests interface {
	// PutManifest stores m and points each tag at it, in one transaction. It
	// returns a *MissingReferenceError when m.Blobs or m.Children name
	// content the repository does not hold. Storing a manifest that already
	// exists only updates the tags.
	PutManifest(ctx context.Context, m *Manifest, tags ...string) error
	// GetManifest returns the manifest with digest d in repo, or ErrNotFound.
	GetManifest(ctx context.Context, repo string, d digest.Digest) (*Manifest, error)
	// GetTaggedManifest returns the manifest that tag points at, or ErrNotFound.
	GetTaggedManifest(ctx context.Context, repo, tag string) (*Manifest, error)
	// DeleteManifest removes the manifest, every tag pointing at it and its
	// references, or returns ErrNotFound.
	DeleteManifest(ctx context.Context, repo string, d digest.Digest) error
	// DeleteTag removes one tag, or returns ErrNotFound.
	DeleteTag(ctx context.Context, repo, tag string) error
	// ListTags returns up to limit tags of repo that sort after the cursor,
	// in byte order. A repository that does not exist returns ErrNotFound.
	ListTags(ctx context.Context, repo, after string, limit int) ([]string, error)
	// ListReferrers returns the manifests in repo whose subject is d, ordered
	// by digest. An empty artifactType matches every referrer.
	ListReferrers(ctx context.Context, repo string, subject digest.Digest, artifactType string) ([]Referrer, error)
}

// Uploads persists upload sessions so that they survive restarts.
type Uploads interface {
	CreateUpload(ctx context.Context, u Upload) error
	// GetUpload returns the session, or ErrNotFound.
	GetUpload(ctx context.Context, id string) (Upload, error)
	// AdvanceUpload stores u when the stored offset still equals
	// previousOffset, else returns ErrConflict.
	AdvanceUpload(ctx context.Context, u Upload, previousOffset int64) error
	// DeleteUpload removes the session, or returns ErrNotFound.
	DeleteUpload(ctx context.Context, id string) error
}

// Store is everything a complete metadata backend provides.
type Store interface {
	Repositories
	Blobs
	Manifests
	Uploads
	Buckets
	Objects
	Multipart
	Collection
	Usage
	Webhooks
	Export
	TrustStores
	ArtifactLocations
	Identities
	AccessKeys
	BucketPolicies
	// Ping checks that the backend answers; /readyz calls it.
	Ping(ctx context.Context) error
	Close() error
}
