package objects

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/identity"
	"github.com/cofferhq/coffer/internal/metadata"
)

// Errors of bucket policies.
var (
	ErrNoSuchBucketPolicy = errors.New("bucket policy not found")
	ErrMalformedPolicy    = errors.New("malformed bucket policy")
)

// PutBucketPolicy validates an AWS-format policy document for bucket and
// stores it in place of the bucket's policy.
func (s *Store) PutBucketPolicy(ctx context.Context, bucket string, document []byte) error {
	if _, err := s.Bucket(ctx, bucket); err != nil {
		return err
	}
	if _, err := authz.ParseBucketPolicy(bucket, document); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformedPolicy, err)
	}
	err := s.meta.PutBucketPolicy(ctx, bucket, document)
	if errors.Is(err, metadata.ErrNotFound) {
		return fmt.Errorf("bucket %s: %w", bucket, ErrNoSuchBucket)
	}
	if err != nil {
		return fmt.Errorf("put policy of bucket %s: %w", bucket, err)
	}
	return nil
}

// BucketPolicy returns the policy document of bucket as it was stored.
func (s *Store) BucketPolicy(ctx context.Context, bucket string) ([]byte, error) {
	if _, err := s.Bucket(ctx, bucket); err != nil {
		return nil, err
	}
	document, err := s.meta.GetBucketPolicy(ctx, bucket)
	if errors.Is(err, metadata.ErrNotFound) {
		return nil, fmt.Errorf("bucket %s: %w", bucket, ErrNoSuchBucketPolicy)
	}
	if err != nil {
		return nil, fmt.Errorf("get policy of bucket %s: %w", bucket, err)
	}
	return document, nil
}

// DeleteBucketPolicy removes the policy of bucket, if it has one.
func (s *Store) DeleteBucketPolicy(ctx context.Context, bucket string) error {
	if err := ValidateBucketName(bucket); err != nil {
		return err
	}
	err := s.meta.DeleteBucketPolicy(ctx, bucket)
	if errors.Is(err, metadata.ErrNotFound) {
		return fmt.Errorf("bucket %s: %w", bucket, ErrNoSuchBucket)
	}
	if err != nil {
		return fmt.Errorf("delete policy of bucket %s: %w", bucket, err)
	}
	return nil
}

// policyActions are the actions on a bucket's policy itself.
var policyActions = []string{authz.ActionS3GetBucketPolicy, authz.ActionS3PutBucketPolicy, authz.ActionS3DeleteBucketPolicy}

// BucketPolicies is the policy source of bucket policies: for a request on
// a bucket or an object, the statements of that bucket's policy.
type BucketPolicies struct {
	Store *Store
}

// Statements returns the statements of the policy of the bucket that
// req.Resource names, or none for other resources and buckets without a
// policy. As in AWS, a bucket policy never applies to the root user's
// reading, replacing or deleting of that policy, so that a policy that
// denies everyone cannot lock the bucket for good.
func (p BucketPolicies) Statements(ctx context.Context, req authz.Request) ([]authz.Statement, error) {
	rest, ok := strings.CutPrefix(req.Resource, authz.BucketResource(""))
	if !ok {
		return nil, nil
	}
	if req.Principal.ID == identity.RootPrincipalID && slices.Contains(policyActions, req.Action) {
		return nil, nil
	}
	bucket, _, _ := strings.Cut(rest, "/")
	if ValidateBucketName(bucket) != nil {
		return nil, nil
	}
	document, err := p.Store.meta.GetBucketPolicy(ctx, bucket)
	if errors.Is(err, metadata.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read policy of bucket %s: %w", bucket, err)
	}
	statements, err := authz.ParseBucketPolicy(bucket, document)
	if err != nil {
		return nil, fmt.Errorf("parse stored policy of bucket %s: %w", bucket, err)
	}
	return statements, nil
}
