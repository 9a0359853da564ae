package metadata

import (
	"context"
	"time"
)

// AccessKey is a stored S3 access key. The store keeps its fields as
// opaque values: the secret arrives sealed with the server key, and the
// owner and restriction arrive encoded by the identity package.
type AccessKey struct {
	// ID is the access key id that clients sign with.
	ID string
	// SealedSecret is the secret access key, encrypted with the server key.
	SealedSecret []byte
	// OwnerID is the principal ID of the owner, for listing a principal's
	// keys.
	OwnerID string
	// Owner is the snapshot of the owning principal (roles, groups,
	// claims), encoded as JSON.
	Owner []byte
	// Restriction is the policy that narrows the key, encoded as JSON, or
	// nil for none.
	Restriction []byte
	// Description is free text from the creator.
	Description string
	Created     time.Time
	// Expires is when the key stops working; zero means never.
	Expires time.Time
	// Revoked is when the key was revoked; zero while it is active.
	Revoked time.Time
}

// AccessKeys stores S3 access keys.
type AccessKeys interface {
	// CreateAccessKey stores k, or returns an error wrapping
	// ErrAlreadyExists when a key with its ID exists. A zero k.Created is
	// stored as the current time.
	CreateAccessKey(ctx context.Context, k AccessKey) error
	// GetAccessKey returns the key, revoked or not, or an error wrapping
	// ErrNotFound.
	GetAccessKey(ctx context.Context, id string) (AccessKey, error)
	// ListAccessKeys returns the keys of ownerID, or every key when
	// ownerID is empty, ordered by ID.
	ListAccessKeys(ctx context.Context, ownerID string) ([]AccessKey, error)
	// RevokeAccessKey marks the key revoked at the given time. Revoking a
	// revoked key keeps the first time. It returns an error wrapping
	// ErrNotFound for an unknown key.
	RevokeAccessKey(ctx context.Context, id string, at time.Time) error
}

// BucketPolicies stores the AWS-format policy document of each bucket. A
// bucket's policy is deleted with the bucket.
type BucketPolicies interface {
	// PutBucketPolicy stores or replaces the policy of bucket, or returns
	// an error wrapping ErrNotFound when the bucket does not exist.
	PutBucketPolicy(ctx context.Context, bucket string, document []byte) error
	// GetBucketPolicy returns the stored document, or an error wrapping
	// ErrNotFound when the bucket has no policy.
	GetBucketPolicy(ctx context.Context, bucket string) ([]byte, error)
	// DeleteBucketPolicy removes the policy of bucket; removing a missing
	// policy is not an error. It returns an error wrapping ErrNotFound
	// when the bucket does not exist.
	DeleteBucketPolicy(ctx context.Context, bucket string) error
}
