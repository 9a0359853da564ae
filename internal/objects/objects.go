// Package objects is the S3 domain of Coffer: buckets, objects and
// multipart uploads over the shared content-addressed blob store. An
// object's bytes are a blob named by their SHA-256 digest, so an object
// equal to an OCI layer, or to another object, is stored once. The package
// does not depend on HTTP. The s3 adapter maps its errors onto S3 error
// codes.
package objects

import (
	"context"
	"errors"

	"github.com/cofferhq/coffer/internal/blob"
	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
)

// Errors of the objects domain. Each matches one S3 error code.
var (
	ErrBucketInvalid      = errors.New("invalid bucket name")
	ErrKeyInvalid         = errors.New("invalid object key")
	ErrKeyTooLong         = errors.New("object key too long")
	ErrNoSuchBucket       = errors.New("bucket not found")
	ErrNoSuchKey          = errors.New("object not found")
	ErrBucketExists       = errors.New("bucket already exists")
	ErrBucketNotEmpty     = errors.New("bucket not empty")
	ErrBadDigest          = errors.New("content does not match its digest")
	ErrSHA256Mismatch     = errors.New("content does not match the expected SHA-256 digest")
	ErrInvalidDigest      = errors.New("invalid Content-MD5")
	ErrInvalidChecksum    = errors.New("invalid checksum")
	ErrPreconditionFailed = errors.New("precondition failed")
	ErrInvalidRange       = errors.New("invalid range")
	ErrIncompleteBody     = errors.New("body shorter or longer than declared")
	ErrNoSuchUpload       = errors.New("multipart upload not found")
	ErrInvalidPart        = errors.New("invalid part")
	ErrInvalidPartOrder   = errors.New("parts not in ascending order")
	ErrEntityTooSmall     = errors.New("part smaller than the minimum")
	ErrInvalidArgument    = errors.New("invalid argument")
)

// Metadata is the part of the metadata store that the objects domain uses.
type Metadata interface {
	metadata.Buckets
	metadata.Objects
	metadata.Multipart
	metadata.BucketPolicies
	BucketUsage(ctx context.Context, bucket string) (metadata.BucketUsage, error)
	GetBlob(ctx context.Context, d digest.Digest) (metadata.Blob, error)
}

// Store implements bucket and object operations.
type Store struct {
	meta   Metadata
	blobs  *blob.Store
	region string
	// deleted, when set, runs after each object is deleted.
	deleted func(ctx context.Context, bucket, key string)
	// stored, when set, runs after each object is written.
	stored func(ctx context.Context, o *metadata.Object)
	// joins, when set, joins the parts of multipart uploads as they are
	// recorded (see join.go).
	joins *backgroundJoins
}

// New returns a Store. region is reported for buckets created without a
// location constraint.
func New(meta Metadata, blobs *blob.Store, region string) *Store {
	return &Store{meta: meta, blobs: blobs, region: region}
}

// OnDelete makes fn run after each object is deleted, through S3, the
// native API or a recursive bucket deletion, once the deletion is stored.
// fn handles its own errors. Call it before serving requests.
func (s *Store) OnDelete(fn func(ctx context.Context, bucket, key string)) { s.deleted = fn }

// OnStore makes fn run after each object is written: a PUT, a copy, a
// completed upload session or multipart upload. fn handles its own errors
// and runs before the write request returns. Call it before serving
// requests.
func (s *Store) OnStore(fn func(ctx context.Context, o *metadata.Object)) { s.stored = fn }

func (s *Store) notifyStored(ctx context.Context, o *metadata.Object) {
	if s.stored != nil {
		s.stored(context.WithoutCancel(ctx), o)
	}
}

func (s *Store) notifyDeleted(ctx context.Context, bucket, key string) {
	if s.deleted != nil {
		s.deleted(context.WithoutCancel(ctx), bucket, key)
	}
}

// Region returns the store's default region.
func (s *Store) Region() string { return s.region }
