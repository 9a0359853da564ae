package traced

import (
	"context"
	"time"

	"github.com/cofferhq/coffer/internal/metadata"
)

// CreateAccessKey calls the wrapped store's CreateAccessKey inside a span.
func (s *Store) CreateAccessKey(ctx context.Context, k metadata.AccessKey) error {
	ctx, c := s.start(ctx, "metadata.CreateAccessKey")
	err := s.next.CreateAccessKey(ctx, k)
	c.end(err)
	return err
}

// GetAccessKey calls the wrapped store's GetAccessKey inside a span.
func (s *Store) GetAccessKey(ctx context.Context, id string) (metadata.AccessKey, error) {
	ctx, c := s.start(ctx, "metadata.GetAccessKey")
	result, err := s.next.GetAccessKey(ctx, id)
	c.end(err)
	return result, err
}

// ListAccessKeys calls the wrapped store's ListAccessKeys inside a span.
func (s *Store) ListAccessKeys(ctx context.Context, ownerID string) ([]metadata.AccessKey, error) {
	ctx, c := s.start(ctx, "metadata.ListAccessKeys")
	result, err := s.next.ListAccessKeys(ctx, ownerID)
	c.end(err)
	return result, err
}

// RevokeAccessKey calls the wrapped store's RevokeAccessKey inside a span.
func (s *Store) RevokeAccessKey(ctx context.Context, id string, at time.Time) error {
	ctx, c := s.start(ctx, "metadata.RevokeAccessKey")
	err := s.next.RevokeAccessKey(ctx, id, at)
	c.end(err)
	return err
}

// PutBucketPolicy calls the wrapped store's PutBucketPolicy inside a span.
func (s *Store) PutBucketPolicy(ctx context.Context, bucket string, document []byte) error {
	ctx, c := s.start(ctx, "metadata.PutBucketPolicy")
	err := s.next.PutBucketPolicy(ctx, bucket, document)
	c.end(err)
	return err
}

// GetBucketPolicy calls the wrapped store's GetBucketPolicy inside a span.
func (s *Store) GetBucketPolicy(ctx context.Context, bucket string) ([]byte, error) {
	ctx, c := s.start(ctx, "metadata.GetBucketPolicy")
	result, err := s.next.GetBucketPolicy(ctx, bucket)
	c.end(err)
	return result, err
}

// DeleteBucketPolicy calls the wrapped store's DeleteBucketPolicy inside a span.
func (s *Store) DeleteBucketPolicy(ctx context.Context, bucket string) error {
	ctx, c := s.start(ctx, "metadata.DeleteBucketPolicy")
	err := s.next.DeleteBucketPolicy(ctx, bucket)
	c.end(err)
	return err
}
